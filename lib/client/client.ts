/**
 * The functional API: `connect()` gives a client whose subscriptions are
 * async iterables, in the style of modern messaging clients.
 */

import { FrameType } from "../protocol/constants.ts";
import { type CompiledPattern, compilePattern, subjectKey, toList } from "../protocol/subjects.ts";
import { BoundedChannel } from "./bounded_channel.ts";
import type { ClientConnection } from "./connection.ts";
import { type Event, toEventOrSkip } from "./event.ts";
import { LazyConnection, type Subscriptions } from "./lazy_connection.ts";
import type { ClientOptions } from "./options.ts";
import { StatusHub, StatusSource } from "./status.ts";
import { VERSION } from "../version.ts";

/** Most distinct subjects whose subscriptions are remembered. */
const ROUTE_MEMO_LIMIT = 10_000;

/** Options of one subscription. */
export interface SubscriptionOptions {
  /** Events buffered before the connection's read waits. Default 1000. */
  bufferSize?: number;
  /** Unsubscribes when aborted. */
  signal?: AbortSignal;
}

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
  readonly #channel: BoundedChannel<Event>;
  readonly #client: Client;
  readonly #keys: Set<string>;
  readonly #patterns: CompiledPattern[];

  /** @internal Made by `Client.subscribe()` and `Client.subscribeMatch()`. */
  constructor(client: Client, items: string[], isPattern: boolean, bufferSize: number) {
    this.#client = client;
    this.items = items;
    this.isPattern = isPattern;
    this.#channel = new BoundedChannel(bufferSize);
    this.#keys = new Set(isPattern ? [] : items.map(subjectKey));
    this.#patterns = isPattern ? items.map(compilePattern) : [];
  }

  /** @internal True when this subscription wants `subject`. */
  matches(subject: string): boolean {
    if (!this.isPattern) return this.#keys.has(subjectKey(subject));
    return this.#patterns.some((p) => p.test(subject));
  }

  /** @internal Offers an event; a promise means "full, wait". */
  push(event: Event): Promise<void> | undefined {
    return this.#channel.push(event);
  }

  /** @internal Ends the stream, with an error when the connection failed. */
  end(error?: unknown): void {
    this.#channel.close(error);
  }

  /** Stops the stream and removes the subscription from the server. Idempotent. */
  async unsubscribe(): Promise<void> {
    if (this.#channel.closed) return;
    this.#channel.close();
    await this.#client.remove(this);
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Event> {
    try {
      while (true) {
        const event = await this.#channel.shift();
        if (event === undefined) return;
        yield event;
      }
    } finally {
      // Leaving a `for await` early ends the subscription.
      await this.unsubscribe();
    }
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.unsubscribe();
  }
}

/** A connection with publish and subscription streams. */
export class Client extends StatusSource implements AsyncDisposable {
  #link: LazyConnection;
  #subscriptions = new Set<Subscription>();
  /** The subscriptions wanting each subject seen, forgotten when subscriptions change. */
  #routes = new Map<string, Subscription[]>();
  #asyncError: Error | undefined;

  /** @internal Use `connect()`. */
  constructor(options: ClientOptions) {
    const hub = new StatusHub();
    super(hub);
    this.#link = new LazyConnection(options, `es-client/${VERSION}`, {
      setup: (c) => this.#wire(c),
      subscriptions: () => this.#inForce(),
      lost: (error) => {
        this.#asyncError ??= error;
        for (const sub of this.#subscriptions) sub.end(error);
      },
    }, hub);
  }

  /** The union of the live subscriptions (exact subjects once per key). */
  #inForce(): Subscriptions {
    const exact = new Map<string, string>();
    const patterns = new Set<string>();
    for (const sub of this.#subscriptions) {
      for (const item of sub.items) {
        if (sub.isPattern) patterns.add(item);
        else exact.set(subjectKey(item), item);
      }
    }
    return { exact: [...exact.values()], patterns: [...patterns] };
  }

  /** @internal Opens the connection. */
  async open(): Promise<this> {
    await this.#link.get();
    return this;
  }

  #wire(connection: ClientConnection): void {
    connection.onEvent = (wire) => {
      const subs = this.#routes.get(wire.subject) ?? this.#route(wire.subject);
      if (subs.length === 0) return undefined;
      const event = toEventOrSkip(wire);
      if (event === undefined) return undefined;
      if (subs.length === 1) return subs[0]!.push(event);
      let waits: Promise<void>[] | undefined;
      for (const sub of subs) {
        const wait = sub.push(event);
        if (wait) (waits ??= []).push(wait);
      }
      return waits && Promise.all(waits);
    };
    connection.onError = (error) => {
      this.#asyncError ??= error;
    };
  }

  #route(subject: string): Subscription[] {
    const subs = [...this.#subscriptions].filter((sub) => sub.matches(subject));
    if (this.#routes.size >= ROUTE_MEMO_LIMIT) this.#routes.clear();
    this.#routes.set(subject, subs);
    return subs;
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
   * @throws {ProtocolError} (rejects) for a pattern the server refuses (unsafe, too long).
   */
  subscribeMatch(
    patterns: string | readonly string[],
    options: SubscriptionOptions = {},
  ): Promise<Subscription> {
    return this.#add(toList(patterns), true, options);
  }

  async #add(
    items: string[],
    isPattern: boolean,
    options: SubscriptionOptions,
  ): Promise<Subscription> {
    const sub = new Subscription(this, items, isPattern, options.bufferSize ?? 1000);
    await this.#link.get();
    this.#subscriptions.add(sub);
    this.#routes.clear();
    try {
      await this.#link.run((connection) =>
        connection.listRequest(isPattern ? FrameType.SUBMATCH : FrameType.SUB, items)
      );
    } catch (error) {
      this.#subscriptions.delete(sub);
      this.#routes.clear();
      throw error;
    }
    // The signal may have been aborted while the request was in flight.
    const signal = options.signal;
    if (signal?.aborted) void sub.unsubscribe();
    else signal?.addEventListener("abort", () => void sub.unsubscribe(), { once: true });
    return sub;
  }

  /** @internal Drops a subscription; the server forgets what no other subscription still uses. */
  async remove(sub: Subscription): Promise<void> {
    if (!this.#subscriptions.delete(sub)) return;
    this.#routes.clear();
    const stillUsed = new Set<string>();
    for (const other of this.#subscriptions) {
      for (const item of other.items) stillUsed.add(other.isPattern ? item : subjectKey(item));
    }
    const unused = sub.items.filter((item) =>
      !stillUsed.has(sub.isPattern ? item : subjectKey(item))
    );
    if (unused.length === 0) return;
    if (this.#link.reconnecting) return; // The restore will not include it.
    const connection = await this.#link.get().catch(() => undefined);
    if (!connection || connection.isClosed) return;
    await connection.listRequest(FrameType.UNSUB, unused).catch(() => {});
  }

  /** Ends every subscription and closes the connection. Idempotent. */
  async close(): Promise<void> {
    for (const sub of this.#subscriptions) sub.end();
    this.#subscriptions.clear();
    this.#routes.clear();
    await this.#link.close();
  }

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
 */
export function connect(options: ClientOptions = {}): Promise<Client> {
  return new Client(options).open();
}
