/**
 * `Subscriber`: the original's subscriber. Subclass it, override `event()`,
 * subscribe, and `listen()`. Every subject and pattern it subscribes to is a
 * subscription of its own on the server (with its own id), so unsubscribing
 * one never touches another; an event that matches several reaches `event()`
 * once. Browser compatible.
 */

import { getLogger } from "@logtape/logtape";
import { checkPatternSyntax, subjectKey, toList } from "../protocol/subjects.ts";
import type { ClientConnection } from "./connection.ts";
import { type Event, toEventOrSkip } from "./event.ts";
import { EventQueue } from "./event_queue.ts";
import { LazyConnection, type SubscriptionSpec } from "./lazy_connection.ts";
import type { ClientOptions } from "./options.ts";
import { StatusHub, StatusSource } from "./status.ts";
import { TrackedPromise } from "./tracked_promise.ts";
import { VERSION } from "../version.ts";

const log = getLogger(["es", "client"]);

/** Options of a `Subscriber`. */
export interface SubscriberOptions extends ClientOptions {
  /** Let `event()` calls overlap (default true); false delivers strictly in order. */
  threading?: boolean;
  /** Most `event()` calls in flight at once when threading. Default 16. */
  maxConcurrent?: number;
}

/** One subscription: an exact subject or a pattern. */
interface Entry {
  pattern: boolean;
  item: string;
  /** Queue group, or "" for none. */
  group: string;
}

/** Options of one `subscribe()` or `subscribeMatch()` call. */
export interface SubscribeOptions {
  /**
   * A queue group: of the connections subscribed with the same group whose
   * subscriptions match an event, one receives it (round robin).
   */
  group?: string;
}

/** What waits for `event()`: an event with the ids it matched, or a loss notice. */
type Item = { event: Event; sids: number | number[] } | { missed: number };

/**
 * Receives events by subject or pattern.
 *
 * @example
 * ```ts
 * class Printer extends Subscriber {
 *   constructor() {
 *     super({ esURI: "es://127.0.0.1:7766" });
 *     this.subscribeMatch("^STOCKQUOTE\\.S.*$");
 *   }
 *   override event(e: Event) {
 *     console.log(e.subject, e.msg);
 *   }
 * }
 * await new Printer().listen();
 * ```
 */
export class Subscriber extends StatusSource implements AsyncDisposable {
  #link: LazyConnection;
  #buffer: EventQueue<Item>;
  #threading: boolean;
  #maxConcurrent: number;
  #aborted = false;
  #listening = false;
  /** Subscriptions by id. */
  #entries = new Map<number, Entry>();

  /**
   * Makes a subscriber; nothing connects until the first `subscribe()`,
   * `subscribeMatch()` or `listen()`.
   *
   * @param options Where the server is, the passphrase, queue and threading.
   */
  constructor(options: SubscriberOptions = {}) {
    const hub = new StatusHub();
    super(hub);
    this.#threading = options.threading ?? true;
    this.#maxConcurrent = options.maxConcurrent ?? 16;
    this.#buffer = new EventQueue((cost, share) => this.#link.current?.consumed(cost, share));
    this.#link = new LazyConnection(options, `es-subscriber/${VERSION}`, {
      setup: (c) => this.#wire(c),
      subscriptions: () => this.#specs(),
      lost: (error) => this.#endWith(error),
    }, hub);
  }

  #specs(): SubscriptionSpec[] {
    return [...this.#entries].map(([sid, e]) => ({
      pattern: e.pattern,
      firstSid: sid,
      group: e.group,
      items: [e.item],
    }));
  }

  #wire(connection: ClientConnection): void {
    connection.onEvent = (frame, cost) => {
      const sids = frame.sids;
      let known = false;
      for (let i = 0; i < sids.length && !known; i++) known = this.#entries.has(sids[i]!);
      const event = known ? toEventOrSkip(frame) : undefined;
      if (event === undefined) {
        connection.consumed(cost);
        return;
      }
      this.#buffer.push({ event, sids: sids.length === 1 ? sids[0]! : [...sids] }, cost);
    };
    connection.onMissed = (count) => this.#buffer.push({ missed: count }, 0, 0);
    // An ERR no request waits for: the server refused something of ours.
    connection.onError = (error) => this.#endWith(error);
  }

  /**
   * Makes `listen()` reject with `error` once it has handed over the events
   * already received (unless the subscriber was closed or aborted).
   */
  #endWith(error: Error): void {
    if (!this.#aborted) this.#buffer.close(error);
  }

  /** Sends one request; a rejection nobody awaited ends `listen()` at once. */
  #track(inner: Promise<void>): Promise<void> {
    return TrackedPromise.track(inner, (error) => this.#buffer.close(error, true));
  }

  #add(pattern: boolean, items: string | readonly string[], group = ""): Promise<void> {
    const fresh = [...new Set(toList(items))].filter((item) => !this.#has(pattern, item, group));
    return this.#track((async () => {
      if (pattern) fresh.forEach(checkPatternSyntax);
      if (fresh.length === 0) return;
      const firstSid = this.#link.allocateSids(fresh.length);
      // Known before the request goes: events may come before its reply.
      fresh.forEach((item, i) => this.#entries.set(firstSid + i, { pattern, item, group }));
      try {
        await this.#link.run((c) => c.subscribe(pattern, firstSid, group, fresh));
      } catch (error) {
        fresh.forEach((_, i) => this.#entries.delete(firstSid + i));
        throw error;
      }
    })());
  }

  #has(pattern: boolean, item: string, group: string): boolean {
    const key = pattern ? item : subjectKey(item);
    for (const e of this.#entries.values()) {
      if (
        e.pattern === pattern && e.group === group &&
        (pattern ? e.item : subjectKey(e.item)) === key
      ) return true;
    }
    return false;
  }

  /**
   * Subscribes to exact subjects (case-insensitive). Resolves once the server
   * has registered them. With `group`, of the subscribers of that group one gets
   * each event.
   */
  subscribe(subjects: string | readonly string[], options: SubscribeOptions = {}): Promise<void> {
    return this.#add(false, subjects, options.group);
  }

  /**
   * Subscribes to regular-expression patterns, matched from the start of the
   * subject, case-insensitively.
   *
   * @throws {SyntaxError} (rejects) for a pattern that is not a regular expression.
   * @throws {ProtocolError} (rejects) for a pattern the server cannot run; nothing is registered.
   */
  subscribeMatch(
    patterns: string | readonly string[],
    options: SubscribeOptions = {},
  ): Promise<void> {
    return this.#add(true, patterns, options.group);
  }

  /**
   * Removes the exact subscription and the pattern subscription given by each
   * string (exact subjects compare case-insensitively, patterns by their
   * text). Once it resolves, `event()` is not called for events that matched
   * only what was removed, even those already received; an event that also
   * matched a subscription still in force is delivered (docs/CLIENT.md).
   */
  unsubscribe(subjectsOrPatterns: string | readonly string[]): Promise<void> {
    const strings = toList(subjectsOrPatterns);
    const keys = new Set(strings.map(subjectKey));
    const texts = new Set(strings);
    const sids = [...this.#entries]
      .filter(([, e]) => e.pattern ? texts.has(e.item) : keys.has(subjectKey(e.item)))
      .map(([sid]) => sid);
    return this.#track((async () => {
      if (sids.length === 0) return;
      await this.#link.run((c) => c.unsubscribe(sids));
      for (const sid of sids) this.#entries.delete(sid);
      this.#buffer.filter((item) => {
        if ("missed" in item) return true;
        const matched = item.sids;
        return typeof matched === "number"
          ? this.#entries.has(matched)
          : matched.some((sid) => this.#entries.has(sid));
      });
    })());
  }

  /** Handles one event. Override it; the default refuses, so a forgotten override is loud. */
  event(event: Event): void | Promise<void> {
    throw new Error(
      `Subscriber.event() is not overridden: got an event on "${event.subject}". Subclass Subscriber and override event().`,
    );
  }

  /**
   * Called before the next `event()` when the server dropped `count` events
   * for this subscriber (its queue was full under a drop policy). Override it;
   * the default logs a warning.
   */
  missed(count: number): void | Promise<void> {
    log.warn("Missed {count} events: this subscriber's queue on the server was full", { count });
  }

  /** Threading on: `event()` calls may overlap. Off: strictly one at a time, in order. */
  setThreading(threaded: boolean): void {
    this.#threading = threaded;
  }

  /**
   * Delivers events to `event()` until `abort()` or `close()`.
   *
   * @throws The connection's failure, an un-awaited `subscribe*()` rejection,
   * or an error thrown by `event()`.
   */
  async listen(): Promise<void> {
    if (this.#listening) throw new Error("listen() is already running");
    this.#listening = true;
    const inFlight = new Set<Promise<void>>();
    let handlerError: { error: unknown } | undefined;
    try {
      await this.#link.get();
      while (!this.#aborted && handlerError === undefined) {
        const item = this.#buffer.take() ?? await this.#buffer.next();
        if (item === undefined) break;
        if ("missed" in item) {
          await Promise.all(inFlight);
          await this.missed(item.missed);
          continue;
        }
        if (!this.#threading) {
          await this.event(item.event);
          continue;
        }
        const running: Promise<void> = (async () => await this.event(item.event))()
          .catch((error) => {
            handlerError ??= { error };
            // Wake the loop, which may be waiting for an event that never comes.
            this.#buffer.close(undefined, true);
          })
          .finally(() => inFlight.delete(running));
        inFlight.add(running);
        if (inFlight.size >= this.#maxConcurrent) await Promise.race(inFlight);
      }
      await Promise.all(inFlight);
      if (handlerError) throw handlerError.error;
    } catch (error) {
      if (!this.#aborted) {
        await this.#link.close();
        throw error;
      }
    } finally {
      this.#listening = false;
      if (this.#aborted) await this.#link.close();
    }
  }

  /** Makes `listen()` resolve and closes the connection; callable from inside `event()`. */
  abort(): void {
    if (this.#aborted) return;
    this.#aborted = true;
    this.#buffer.close();
    if (!this.#listening) void this.#link.close();
  }

  /** Closes the connection; `listen()` resolves. Idempotent. */
  async close(): Promise<void> {
    this.#aborted = true;
    this.#buffer.close(undefined, true);
    await this.#link.close();
  }

  /** Closes it (`await using`), as `close()`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
