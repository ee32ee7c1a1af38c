/**
 * A bounded async queue with one consumer: producers are told to wait when it
 * is full, which is how a slow handler slows the socket read.
 */

/** A FIFO of at most `capacity` items that can be consumed with `for await`. */
export class BoundedChannel<T> implements AsyncIterable<T> {
  readonly capacity: number;
  #items: T[] = [];
  #head = 0;
  #closed = false;
  #error: unknown = undefined;
  #taker: ((done: boolean) => void) | undefined;
  #roomWaiters: (() => void)[] = [];

  constructor(capacity: number) {
    this.capacity = capacity;
  }

  get size(): number {
    return this.#items.length - this.#head;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Adds an item. Returns a promise when the channel is now full: the producer
   * should wait for it before it pushes more. Items pushed after `close()` are ignored.
   */
  push(item: T): Promise<void> | undefined {
    if (this.#closed) return undefined;
    this.#items.push(item);
    const taker = this.#taker;
    if (taker) {
      this.#taker = undefined;
      taker(false);
    }
    if (this.size < this.capacity) return undefined;
    return new Promise((resolve) => this.#roomWaiters.push(resolve));
  }

  /**
   * Takes the next item.
   *
   * @returns The item, or `undefined` once closed and empty.
   * @throws The error given to `close()`, once the items before it are taken.
   */
  async shift(): Promise<T | undefined> {
    while (this.size === 0) {
      if (this.#closed) {
        if (this.#error !== undefined) throw this.#error;
        return undefined;
      }
      await new Promise<boolean>((resolve) => this.#taker = resolve);
    }
    const item = this.#items[this.#head]!;
    this.#items[this.#head++] = undefined as T;
    if (this.#head === this.#items.length) {
      this.#items.length = 0;
      this.#head = 0;
    } else if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    if (this.#roomWaiters.length > 0 && this.size < this.capacity) {
      const waiters = this.#roomWaiters;
      this.#roomWaiters = [];
      for (const resolve of waiters) resolve();
    }
    return item;
  }

  /** Ends the channel; with an `error`, `shift()` throws it after the queued items (or at once if `discard`). */
  close(error?: unknown, discard = false): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#error = error;
    if (discard) {
      this.#items = [];
      this.#head = 0;
    }
    this.#taker?.(true);
    this.#taker = undefined;
    const waiters = this.#roomWaiters;
    this.#roomWaiters = [];
    for (const resolve of waiters) resolve();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<T> {
    while (true) {
      const item = await this.shift();
      if (item === undefined && this.size === 0 && this.#closed) return;
      yield item as T;
    }
  }
}
