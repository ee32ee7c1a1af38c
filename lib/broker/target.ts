/** What the router delivers to and what a held publisher waits for: the types queues implement. */

/** Where a queue's bytes go: a connection's `writeAll`, or a test's array. */
export type WriteFn = (bytes: Uint8Array) => Promise<void>;

/**
 * What a full queue does (SPEC §6): `block` holds the publishers, `drop-new`
 * drops the newest event, `drop-old` the oldest waiting one, `latest` keeps
 * one waiting event per subject, the newest (docs/DELIVERY.md).
 */
export type OverflowPolicy = "block" | "drop-new" | "drop-old" | "latest";

/** Sizes and policy of a queue. */
export interface QueueLimits {
  /** Most events waiting. */
  capacity: number;
  /** Most bytes of waiting EVENT frames. */
  maxBytes: number;
  policy: OverflowPolicy;
}

/** What a publisher waits for before it routes more: a full queue, a held link. */
export interface Blocker {
  /** Resolves once the publisher may go on. */
  whenRoom(): Promise<void>;
}

/** Anything a router can deliver an event to: a subscriber's queue. */
export interface Target extends Blocker {
  /**
   * Queues one event: the subscription ids part and the shared event body.
   *
   * @param key The event's subject key, which the `latest` policy keeps one
   * event per (read from the body when not given).
   * @returns false when the target is now full in block mode: the caller must
   * wait for `whenRoom()` before it offers more.
   */
  deliver(sids: Uint8Array, body: Uint8Array, key?: string): boolean;
  /**
   * Queues one event from a sender that cannot be held: a full queue drops
   * it (counted, and told to the subscriber) whatever its policy.
   *
   * @returns false when it was dropped.
   */
  deliverOrDrop(sids: Uint8Array, body: Uint8Array, key?: string): boolean;
  /** Whether an event now would be queued without dropping or holding (queue groups skip full members). */
  hasRoom(): boolean;
}
