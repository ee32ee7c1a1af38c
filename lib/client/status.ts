/**
 * Connection status changes of a client, as a discriminated union delivered
 * both as DOM-style events and as an async iterable. Browser compatible.
 */

/** The connection was lost; the client reconnects unless told not to. */
export interface DisconnectStatus {
  /** The kind of change. */
  type: "disconnect";
  /** The server that was lost. */
  uri: string;
  /** Why: a `ConnectionClosedError` (its `code` is the server's BYE code, if it sent one). */
  error: Error;
  /** True when the client will try to reconnect. */
  willReconnect: boolean;
}

/** The client is connected again, with every subscription restored. */
export interface ReconnectStatus {
  /** The kind of change. */
  type: "reconnect";
  /** The server now connected (may differ when found through the name server). */
  uri: string;
  /** Attempts it took. */
  attempts: number;
  /** Time without a connection, in milliseconds. */
  downMs: number;
}

/** A reconnect attempt failed, the client gave up, or a restore was refused. */
export interface ErrorStatus {
  /** The kind of change. */
  type: "error";
  /** What went wrong (a `ConnectionClosedError`, `AuthenticationError`, `ProtocolError`, …). */
  error: Error;
  /** The reconnect attempt that failed, if this is about one. */
  attempt?: number;
  /** True when the client stopped trying: the connection is gone for good. */
  final: boolean;
}

/** The server dropped events for this client (its queue was full under a drop policy). */
export interface MissedStatus {
  /** The kind of change. */
  type: "missed";
  /** Events dropped since the last one this client received. */
  count: number;
}

/** One status change. `switch (status.type)` is exhaustive over these. */
export type Status = DisconnectStatus | ReconnectStatus | ErrorStatus | MissedStatus;

/** The status types, for `addEventListener`. */
export type StatusType = Status["type"];

/** The status change of type `K`. */
export type StatusOf<K extends StatusType> = Extract<Status, { type: K }>;

/** The event dispatched for a status change; `detail` is the change. */
export type StatusEvent<K extends StatusType = StatusType> = CustomEvent<StatusOf<K>>;

/** Changes kept for an iterator that is not reading; past it the oldest are dropped. */
const ITERATOR_BUFFER = 256;

/** Dispatches status changes to listeners and iterators. */
export class StatusHub {
  readonly #target = new EventTarget();
  readonly #iterators = new Set<StatusIterator>();

  /** Reports one change to every listener and iterator. */
  emit(status: Status): void {
    for (const it of this.#iterators) it.push(status);
    this.#target.dispatchEvent(new CustomEvent(status.type, { detail: status }));
  }

  /** Listens for changes of one type. */
  addEventListener<K extends StatusType>(
    type: K,
    listener: (event: StatusEvent<K>) => void,
    options?: AddEventListenerOptions,
  ): void {
    this.#target.addEventListener(type, listener as EventListener, options);
  }

  /** Stops listening. */
  removeEventListener<K extends StatusType>(
    type: K,
    listener: (event: StatusEvent<K>) => void,
  ): void {
    this.#target.removeEventListener(type, listener as EventListener);
  }

  /** A new iterator over the changes from now on; it ends when the client closes. */
  iterate(signal?: AbortSignal): AsyncIterableIterator<Status> {
    const it = new StatusIterator(() => this.#iterators.delete(it));
    this.#iterators.add(it);
    if (signal?.aborted) it.end();
    else signal?.addEventListener("abort", () => it.end(), { once: true });
    return it;
  }

  /** Ends every iterator (the client is closed). */
  close(): void {
    for (const it of [...this.#iterators]) it.end();
  }
}

/**
 * The status methods every client class has (`Publisher`, `Subscriber`,
 * `Client`), over the hub its connection reports to.
 *
 * @example
 * ```ts
 * const client = await connect({ esURI: "es://127.0.0.1:7766" });
 * client.addEventListener("disconnect", (e) => console.log("lost", e.detail.uri));
 * for await (const status of client.status()) {
 *   if (status.type === "reconnect") console.log(`back after ${status.downMs} ms`);
 * }
 * ```
 */
export class StatusSource {
  readonly #hub: StatusHub;

  /**
   * @internal Made by the client classes.
   * @param hub The hub the client's connection reports to.
   */
  constructor(hub: StatusHub) {
    this.#hub = hub;
  }

  /**
   * Status changes from now on (disconnect, reconnect, error; `missed` only on
   * a `Client`, a `Subscriber` gets `missed()` calls), until `close()` or until
   * `signal` aborts. An iterator that is not read keeps the last 256 changes.
   */
  status(signal?: AbortSignal): AsyncIterableIterator<Status> {
    return this.#hub.iterate(signal);
  }

  /**
   * Listens for one type of status change; `event.detail` is the `Status`.
   *
   * @param type `"disconnect"`, `"reconnect"`, `"error"` or `"missed"`.
   */
  addEventListener<K extends StatusType>(
    type: K,
    listener: (event: StatusEvent<K>) => void,
    options?: AddEventListenerOptions,
  ): void {
    this.#hub.addEventListener(type, listener, options);
  }

  /** Stops listening. */
  removeEventListener<K extends StatusType>(
    type: K,
    listener: (event: StatusEvent<K>) => void,
  ): void {
    this.#hub.removeEventListener(type, listener);
  }
}

class StatusIterator implements AsyncIterableIterator<Status> {
  #queue: Status[] = [];
  #waiter: ((result: IteratorResult<Status>) => void) | undefined;
  #done = false;
  #onEnd: () => void;

  constructor(onEnd: () => void) {
    this.#onEnd = onEnd;
  }

  push(status: Status): void {
    if (this.#done) return;
    const waiter = this.#waiter;
    if (waiter) {
      this.#waiter = undefined;
      waiter({ value: status, done: false });
      return;
    }
    if (this.#queue.length >= ITERATOR_BUFFER) this.#queue.shift();
    this.#queue.push(status);
  }

  end(): void {
    if (this.#done) return;
    this.#done = true;
    this.#onEnd();
    const waiter = this.#waiter;
    this.#waiter = undefined;
    waiter?.({ value: undefined, done: true });
  }

  next(): Promise<IteratorResult<Status>> {
    const value = this.#queue.shift();
    if (value !== undefined) return Promise.resolve({ value, done: false });
    if (this.#done) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => this.#waiter = resolve);
  }

  return(): Promise<IteratorResult<Status>> {
    this.end();
    this.#queue = [];
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<Status> {
    return this;
  }
}
