/**
 * The client's buffer of events between the connection and the application:
 * a FIFO with one consumer. It is bounded by the connection's flow-control
 * window, not by itself: each item carries its cost, handed back to the
 * connection (as credit) when the application takes the item, or when it is
 * discarded. Browser compatible.
 */

import { WaitList } from "../async/wait_list.ts";

/**
 * Events waiting for their consumer.
 *
 * @example
 * ```ts
 * const queue = new EventQueue<Event>((cost, share) => connection.consumed(cost, share));
 * queue.push(event, 120);
 * const next = queue.take() ?? await queue.next();
 * ```
 */
export class EventQueue<T> {
  #items: (T | undefined)[] = [];
  #costs: number[] = [];
  #shares: number[] = [];
  #head = 0;
  #closed = false;
  #error: unknown = undefined;
  #arrived = new WaitList();
  #release: (cost: number, share: number) => void;

  /**
   * @param release Told the cost (bytes) and share (of one event's credit) of
   * every item taken or discarded.
   */
  constructor(release: (cost: number, share: number) => void) {
    this.#release = release;
  }

  /** Items waiting. */
  get size(): number {
    return this.#items.length - this.#head;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Adds an item; after `close()` it is released at once instead.
   *
   * @param share The part of one event's credit it stands for (1/n when n queues got it).
   */
  push(item: T, cost: number, share = 1): void {
    if (this.#closed) {
      this.#release(cost, share);
      return;
    }
    this.#items.push(item);
    this.#costs.push(cost);
    this.#shares.push(share);
    this.#arrived.release();
  }

  /** The next item if one is waiting, else `undefined` (also once closed and empty). */
  take(): T | undefined {
    if (this.#head === this.#items.length) return undefined;
    const at = this.#head++;
    const item = this.#items[at]!;
    const cost = this.#costs[at]!;
    const share = this.#shares[at]!;
    this.#items[at] = undefined;
    if (this.#head === this.#items.length) {
      this.#items.length = 0;
      this.#costs.length = 0;
      this.#shares.length = 0;
      this.#head = 0;
    } else if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#costs = this.#costs.slice(this.#head);
      this.#shares = this.#shares.slice(this.#head);
      this.#head = 0;
    }
    this.#release(cost, share);
    return item;
  }

  /**
   * Waits for the next item.
   *
   * @returns The item, or `undefined` once closed and empty.
   * @throws The error given to `close()`, once the items before it are taken.
   */
  async next(): Promise<T | undefined> {
    while (this.#head === this.#items.length) {
      if (this.#closed) {
        if (this.#error !== undefined) throw this.#error;
        return undefined;
      }
      await this.#arrived.wait();
    }
    return this.take();
  }

  /** Drops the waiting items `keep` says no to, releasing their cost. */
  filter(keep: (item: T) => boolean): void {
    const items: T[] = [];
    const costs: number[] = [];
    const shares: number[] = [];
    for (let i = this.#head; i < this.#items.length; i++) {
      const item = this.#items[i]!;
      if (keep(item)) {
        items.push(item);
        costs.push(this.#costs[i]!);
        shares.push(this.#shares[i]!);
      } else {
        this.#release(this.#costs[i]!, this.#shares[i]!);
      }
    }
    this.#items = items;
    this.#costs = costs;
    this.#shares = shares;
    this.#head = 0;
  }

  /**
   * Ends the queue; with an `error`, `next()` throws it after the waiting
   * items (at once if `discard`, which also drops them).
   */
  close(error?: unknown, discard = false): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#error = error;
    if (discard) this.filter(() => false);
    this.#arrived.release();
  }
}
