/**
 * `Subscriber`: the original's subscriber. Subclass it, override `event()`,
 * subscribe, and `listen()`.
 */

import { FrameType } from "../protocol/constants.ts";
import { toList } from "../protocol/subjects.ts";
import { BoundedChannel } from "./bounded_channel.ts";
import type { ClientConnection } from "./connection.ts";
import { type Event, toEventOrSkip } from "./event.ts";
import { LazyConnection } from "./lazy_connection.ts";
import type { ClientOptions } from "./options.ts";
import { subjectKey } from "../protocol/subjects.ts";
import { StatusHub, StatusSource } from "./status.ts";
import { TrackedPromise } from "./tracked_promise.ts";
import { VERSION } from "../version.ts";

/** Options of a `Subscriber`. */
export interface SubscriberOptions extends ClientOptions {
  /** Let `event()` calls overlap (default true); false delivers strictly in order. */
  threading?: boolean;
  /** Events buffered in the client before the socket read waits. Default 1000. */
  bufferSize?: number;
  /** Most `event()` calls in flight at once when threading. Default 16. */
  maxConcurrent?: number;
}

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
  #buffer: BoundedChannel<Event>;
  #threading: boolean;
  #maxConcurrent: number;
  #aborted = false;
  #listening = false;
  /** Subscriptions in force, to restore after a reconnect: exact (by key) and patterns. */
  #exact = new Map<string, string>();
  #patterns = new Set<string>();

  constructor(options: SubscriberOptions = {}) {
    const hub = new StatusHub();
    super(hub);
    this.#threading = options.threading ?? true;
    this.#maxConcurrent = options.maxConcurrent ?? 16;
    this.#buffer = new BoundedChannel(options.bufferSize ?? 1000);
    this.#link = new LazyConnection(options, `es-subscriber/${VERSION}`, {
      setup: (c) => this.#wire(c),
      subscriptions: () => ({ exact: [...this.#exact.values()], patterns: [...this.#patterns] }),
      lost: (error) => this.#endWith(error),
    }, hub);
  }

  #remember(type: FrameType, list: readonly string[]): void {
    for (const item of list) {
      if (type === FrameType.SUB) this.#exact.set(subjectKey(item), item);
      else if (type === FrameType.SUBMATCH) this.#patterns.add(item);
      else {
        this.#exact.delete(subjectKey(item));
        this.#patterns.delete(item);
      }
    }
  }

  #wire(connection: ClientConnection): void {
    connection.onEvent = (wire) => {
      const event = toEventOrSkip(wire);
      return event && this.#buffer.push(event);
    };
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

  #request(type: FrameType, items: string | readonly string[]): Promise<void> {
    const list = toList(items);
    const inner = (async () => {
      await this.#link.run((connection) => connection.listRequest(type, list));
      this.#remember(type, list);
    })();
    // A rejection nobody awaited ends listen() at once, dropping the buffered events.
    return TrackedPromise.track(inner, (error) => this.#buffer.close(error, true));
  }

  /** Subscribes to exact subjects (case-insensitive). Resolves once the server has registered them. */
  subscribe(subjects: string | readonly string[]): Promise<void> {
    return this.#request(FrameType.SUB, subjects);
  }

  /**
   * Subscribes to regular-expression patterns, matched from the start of the
   * subject, case-insensitively.
   *
   * @throws {ProtocolError} (rejects) for an invalid pattern; nothing is registered.
   */
  subscribeMatch(patterns: string | readonly string[]): Promise<void> {
    return this.#request(FrameType.SUBMATCH, patterns);
  }

  /** Removes exact and pattern subscriptions given by these strings. */
  unsubscribe(subjectsOrPatterns: string | readonly string[]): Promise<void> {
    return this.#request(FrameType.UNSUB, subjectsOrPatterns);
  }

  /** Handles one event. Override it; the default refuses, so a forgotten override is loud. */
  event(event: Event): void | Promise<void> {
    throw new Error(
      `Subscriber.event() is not overridden: got an event on "${event.subject}". Subclass Subscriber and override event().`,
    );
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
        const event = await this.#buffer.shift();
        if (event === undefined) break;
        if (!this.#threading) {
          await this.event(event);
          continue;
        }
        const running: Promise<void> = (async () => await this.event(event))()
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

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
