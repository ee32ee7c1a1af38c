/**
 * The bound on the bytes waiting in all the queues of a node together
 * (`maxQueuedBytes`, shared evenly by the nodes of a server), on top of each
 * queue's own bound: many slow subscribers cannot together take more.
 */

/**
 * Bytes a queue may always hold, whatever the total: a subscriber that keeps
 * up is never stalled because others filled the budget, and an empty queue
 * always takes one event.
 */
export const QUEUE_FLOOR_BYTES = 64 * 1024;

/**
 * The running total of queued bytes of one node and its limit.
 *
 * @example
 * ```ts
 * const budget = new QueueBudget(256 << 20);
 * const queue = new SubscriberQueue(write, limits, onError, budget);
 * ```
 */
export class QueueBudget {
  /** Most bytes all queues hold together (past it, only queues under the floor take more). */
  readonly limit: number;
  /** Bytes of events waiting in the queues now. */
  used = 0;
  /** Events dropped (drop policies) because the total was reached, not the queue's own bound. */
  dropped = 0;

  constructor(limit: number) {
    this.limit = limit;
  }

  /** Whether a queue holding `bytes` is full for `extra` more because of the total. */
  refuses(bytes: number, extra: number): boolean {
    return this.used + extra > this.limit && bytes > 0 && bytes + extra > QUEUE_FLOOR_BYTES;
  }
}
