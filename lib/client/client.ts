/**
 * The functional API: `connect()` gives a client whose subscriptions are
 * async iterables, in the style of modern messaging clients. Each
 * subscription has its own ids on the server; the server says which ones an
 * event is for, and the client hands it to those, never matching again.
 * Browser compatible.
 */

import { FrameType } from "../protocol/constants.ts";
import { checkPatternSyntax, toList } from "../protocol/subjects.ts";
import type { ClientConnection } from "./connection.ts";
import { type Event, toEventOrSkip } from "./event.ts";
import { EventQueue } from "./event_queue.ts";
import { LazyConnection, type SubscriptionSpec } from "./lazy_connection.ts";
import type { ClientOptions } from "./options.ts";
import { StatusHub, StatusSource } from "./status.ts";
import { VERSION } from "../version.ts";

/** Options of one subscription. */
export interface SubscriptionOptions {
  /**
   * A queue group: of the connections subscribed with the same group whose
   * subscriptions match an event, one receives it.
   */
  group?: string;
  /** Unsubscribes when aborted. */
  signal?: AbortSignal;
}

const DONE: IteratorReturnResult<undefined> = { value: undefined, done: true };

/**
 * A stream of events for some subjects or patterns.
 *
 * @example
 * ```ts
 * const sub = await client.subscribe("news");
 * for await (const event of sub) console.log(event.msg);
 * ```
 */
export class Subscription implements AsyncIterable<Event>, AsyncDisposable {
  /** The subjects or patterns, as given. */
  readonly items: readonly string[];
  /** Whether `items` are patterns. */
  readonly isPattern: boolean;
  /** The queue group, or "" for none. */
  readonly group: string;
  /** Id of `items[0]` on the server; the others follow one by one. */
  readonly firstSid: number;
  readonly #queue: EventQueue<Event>;
  readonly #client: Client;

  /** @internal Made by `Client.subscribe()` and `Client.subscribeMatch()`. */
  constructor(
    client: Client,
    spec: SubscriptionSpec,
    release: (cost: number, share: number) => void,
  ) {
    this.#client = client;
    this.items = spec.items;
    this.isPattern = spec.pattern;
    this.group = spec.group;
    this.firstSid = spec.firstSid;
    this.#queue = new EventQueue(release);
  }

  /** @internal Offers an event. */
  push(event: Event, cost: number, share: number): void {
    this.#queue.push(event, cost, share);
  }

  /** @internal Ends the stream, with an error when the connection failed. */
  end(error?: unknown): void {
    this.#queue.close(error);
  }

  /**
   * Stops the stream and removes this subscription (only) from the server.
   * Once it resolves the iterator yields nothing more, not even events
   * already received (docs/CLIENT.md). Idempotent.
   */
  async unsubscribe(): Promise<void> {
    if (this.#queue.closed && !this.#client.has(this)) return;
    this.#queue.close(undefined, true);
    await this.#client.remove(this);
  }

  /**
   * The events of this subscription, in order; leaving the loop early
   * unsubscribes. It ends after `unsubscribe()` or when the client closes
   * (rejecting when the connection was lost for good).
   */
  [Symbol.asyncIterator](): AsyncIterator<Event> {
    const queue = this.#queue;
    const next = (): Promise<IteratorResult<Event>> => {
      const ready = queue.take();
      if (ready !== undefined) return Promise.resolve({ value: ready, done: false });
      return queue.next().then((event) =>
        event === undefined ? DONE : { value: event, done: false }
      );
    };
    // Leaving a `for await` early ends the subscription.
    const done = async (): Promise<IteratorResult<Event>> => {
      await this.unsubscribe();
      return DONE;
    };
    return { next, return: done };
  }

  /** Unsubscribes (`await using`), as `unsubscribe()`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.unsubscribe();
  }
}

/**
 * A connection with publish and subscription streams, made by `connect()`.
 * Its requests leave in the order they are made, awaited or not: a
 * `subscribeMatch()` made before a `publish()` is in force for it.
 *
 * @example
 * ```ts
 * await using client = await connect({ esURI: "es://127.0.0.1:7766" });
 * await using quotes = await client.subscribe("STOCKQUOTE.SUN", { group: "workers" });
 * await client.publish("STOCKQUOTE.SUN", 22.44);
 * for await (const event of quotes) {
 *   console.log(event.msg); // 22.44
 *   break;
 * }
 * ```
 */
export class Client extends StatusSource implements AsyncDisposable {
  #link: LazyConnection;
  #hub: StatusHub;
  /** Each subscription under each of its ids. */
  #bySid = new Map<number, Subscription>();
  #subscriptions = new Set<Subscription>();
  #asyncError: Error | undefined;
  #release = (cost: number, share: number) => this.#link.current?.consumed(cost, share);

  /** @internal Use `connect()`. */
  constructor(options: ClientOptions) {
    const hub = new StatusHub();
    super(hub);
    this.#hub = hub;
    this.#link = new LazyConnection(options, `es-client/${VERSION}`, {
      setup: (c) => this.#wire(c),
      subscriptions: () =>
        [...this.#subscriptions].map((s) => ({
          pattern: s.isPattern,
          firstSid: s.firstSid,
          group: s.group,
          items: s.items,
        })),
      lost: (error) => {
        this.#asyncError ??= error;
        for (const sub of this.#subscriptions) sub.end(error);
      },
    }, hub);
  }

  /** @internal Opens the connection. */
  async open(): Promise<this> {
    await this.#link.get();
    return this;
  }

  #wire(connection: ClientConnection): void {
    const bySid = this.#bySid;
    connection.onEvent = (frame, cost) => {
      const sids = frame.sids;
      if (sids.length === 1) {
        const sub = bySid.get(sids[0]!);
        const event = sub && toEventOrSkip(frame);
        if (event === undefined) connection.consumed(cost);
        else sub!.push(event, cost, 1);
        return;
      }
      // Several ids: one event per subscription, the credit shared between them.
      const subs = new Set<Subscription>();
      for (const sid of sids) {
        const sub = bySid.get(sid);
        if (sub) subs.add(sub);
      }
      const event = subs.size > 0 ? toEventOrSkip(frame) : undefined;
      if (event === undefined) {
        connection.consumed(cost);
        return;
      }
      for (const sub of subs) sub.push(event, cost, 1 / subs.size);
    };
    connection.onMissed = (count) => this.#hub.emit({ type: "missed", count });
    connection.onError = (error) => {
      this.#asyncError ??= error;
    };
  }

  /** Publishes `message` on each subject. See `Publisher.publish()`. */
  publish(subjects: string | readonly string[], message: unknown): Promise<void> {
    return this.#link.publish(subjects, message);
  }

  /** Resolves once the server has processed everything sent before it. See `Publisher.flush()`. */
  async flush(): Promise<void> {
    await this.#link.flush();
    const error = this.#asyncError;
    this.#asyncError = undefined;
    if (error) throw error;
  }

  /**
   * The server's counters, as `es stats --json` prints them, asked over this
   * connection (so a page can read them from a server with a passphrase).
   *
   * @example
   * ```ts
   * const stats = await client.stats();
   * console.log(stats.connections);
   * ```
   */
  async stats(): Promise<Record<string, unknown>> {
    const body = await this.#link.run((c) => c.bodyRequest(FrameType.STATS));
    return JSON.parse(new TextDecoder().decode(body));
  }

  /**
   * Which subscriptions an event on `subject` would reach, and why, as the
   * server answers `es explain` (nothing is published). `matches` lists them
   * (at most 1,000; `more` counts the rest).
   *
   * @example
   * ```ts
   * const { matches } = await client.explain("STOCKQUOTE.SUN");
   * if (matches.length === 0) console.log("nobody wants it");
   * ```
   */
  async explain(
    subject: string,
  ): Promise<{ subject: string; matches: Record<string, unknown>[]; more: number }> {
    const body = await this.#link.run((c) =>
      c.bodyRequest(FrameType.EXPLAIN, new TextEncoder().encode(subject))
    );
    return JSON.parse(new TextDecoder().decode(body));
  }

  /** Subscribes to exact subjects; resolves once the server has registered them. */
  subscribe(
    subjects: string | readonly string[],
    options: SubscriptionOptions = {},
  ): Promise<Subscription> {
    return this.#add(toList(subjects), false, options);
  }

  /**
   * Subscribes to patterns; resolves once the server has registered them.
   *
   * @throws {SyntaxError} (rejects) for an invalid pattern, before anything is sent.
   * @throws {ProtocolError} (rejects) for a pattern the server refuses (one it cannot run, too long).
   */
  subscribeMatch(
    patterns: string | readonly string[],
    options: SubscriptionOptions = {},
  ): Promise<Subscription> {
    return this.#add(toList(patterns), true, options);
  }

  async #add(
    items: string[],
    pattern: boolean,
    options: SubscriptionOptions,
  ): Promise<Subscription> {
    if (items.length === 0) throw new TypeError("Cannot subscribe: no subject or pattern given");
    if (pattern) items.forEach(checkPatternSyntax);
    // Connected: nothing is awaited before the request goes, so requests leave in call order.
    if (this.#link.usable === undefined) await this.#link.get();
    const spec: SubscriptionSpec = {
      pattern,
      firstSid: this.#link.allocateSids(items.length),
      group: options.group ?? "",
      items,
    };
    const sub = new Subscription(this, spec, this.#release);
    // Known before the request goes: events may come before its reply.
    this.#subscriptions.add(sub);
    for (let i = 0; i < items.length; i++) this.#bySid.set(spec.firstSid + i, sub);
    try {
      await this.#link.run((c) => c.subscribe(pattern, spec.firstSid, spec.group, items));
    } catch (error) {
      this.#forget(sub);
      throw error;
    }
    // The signal may have been aborted while the request was in flight.
    const signal = options.signal;
    if (signal?.aborted) void sub.unsubscribe();
    else signal?.addEventListener("abort", () => void sub.unsubscribe(), { once: true });
    return sub;
  }

  #forget(sub: Subscription): boolean {
    if (!this.#subscriptions.delete(sub)) return false;
    for (let i = 0; i < sub.items.length; i++) this.#bySid.delete(sub.firstSid + i);
    return true;
  }

  /** @internal Whether `sub` is still in force here. */
  has(sub: Subscription): boolean {
    return this.#subscriptions.has(sub);
  }

  /** @internal Drops a subscription here and on the server. */
  async remove(sub: Subscription): Promise<void> {
    if (!this.#forget(sub)) return;
    if (this.#link.reconnecting) return; // The restore will not include it.
    const connection = this.#link.current;
    if (!connection || connection.isClosed) return;
    const sids = sub.items.map((_, i) => sub.firstSid + i);
    await connection.unsubscribe(sids).catch(() => {});
  }

  /** Ends every subscription and closes the connection. Idempotent. */
  async close(): Promise<void> {
    for (const sub of this.#subscriptions) sub.end();
    this.#subscriptions.clear();
    this.#bySid.clear();
    await this.#link.close();
  }

  /** Closes it (`await using`), as `close()`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/**
 * Connects to the event server (found by name when `esURI` is not given).
 *
 * @example
 * ```ts
 * await using client = await connect({ esURI: "es://127.0.0.1:7766" });
 * const sub = await client.subscribeMatch("^stock\\.");
 * await client.publish("stock.sun", 22.44);
 * for await (const event of sub) { console.log(event); break; }
 * ```
 * @throws {NamingError} when no `esURI` is given and the name server does not know the server.
 * @throws {ConnectionClosedError} when the server cannot be reached.
 * @throws {AuthenticationError} for a missing, empty or wrong passphrase.
 */
export function connect(options: ClientOptions = {}): Promise<Client> {
  return new Client(options).open();
}
