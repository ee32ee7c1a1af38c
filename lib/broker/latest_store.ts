/**
 * What a subscriber's queue holds under the `latest` policy (conflation): at
 * most one waiting event per subject key, the newest. A quote screen that
 * falls behind gets the last price of each symbol, not a backlog of old ones.
 *
 * Rules (docs/DELIVERY.md):
 * - A newer event on a subject already waiting replaces it and goes to the
 *   tail, so that the events left keep the order they were published in.
 *   The replaced event is dropped, and a MISSED notice goes right before its
 *   replacement, carrying the notice the replaced event had.
 * - Full of distinct subjects (events or bytes), the oldest waiting event
 *   makes room, as under drop-old; its notice goes before the next event sent.
 * - An event larger than the queue's byte bound is dropped; its notice goes
 *   before the next event sent.
 */

import { eventFrameBytes, writeEventFrame } from "../protocol/frames/event.ts";
import { MISSED_FRAME_BYTES, writeMissed } from "../protocol/frames/control.ts";
import { subjectKey } from "../protocol/subjects.ts";
import type { QueueBudget } from "./queue_budget.ts";

/** One waiting event. */
interface Entry {
  /** The whole EVENT frame, an owned copy. */
  frame: Uint8Array;
  /** Drops told right before it (the events it replaced). */
  missed: number;
}

/** Frames taken from the store to write: events and their notices. */
export interface LatestBatch {
  bytes: Uint8Array;
  /** Events in it. */
  count: number;
  /** Bytes of its EVENT frames (notices use no credit). */
  eventBytes: number;
}

const decoder = new TextDecoder();

/**
 * The waiting events of a `latest` queue, by subject key in queue order.
 *
 * @example
 * ```ts
 * const store = new LatestStore();
 * store.put("quote.sun", sids, body1, { capacity: 10, maxBytes: 1 << 20 }); // 0 dropped
 * store.put("quote.sun", sids, body2, { capacity: 10, maxBytes: 1 << 20 }); // 1 dropped
 * store.take(Infinity, Infinity); // MISSED(1), then body2's EVENT
 * ```
 */
export class LatestStore {
  /** Bytes of the EVENT frames waiting. */
  bytes = 0;
  // A Map keeps insertion order: delete and set again moves a subject to the tail.
  #entries = new Map<string, Entry>();
  /** Drops to tell before the next event sent. */
  #missedHead = 0;
  #budget: QueueBudget | undefined;

  /** @param budget The node's total of queued bytes, which this store counts in. */
  constructor(budget?: QueueBudget) {
    this.#budget = budget;
  }

  /** Events waiting (one per subject key at most). */
  get depth(): number {
    return this.#entries.size;
  }

  /**
   * Queues the event `sids` + `body` on subject key `key` (derived from the
   * body when not given), replacing the one waiting for that key.
   *
   * @returns How many events were dropped: the replaced one, the oldest ones
   * that made room, or this one when it is larger than the queue may hold.
   */
  put(
    key: string | undefined,
    sids: Uint8Array,
    body: Uint8Array,
    limits: { capacity: number; maxBytes: number },
  ): number {
    const size = eventFrameBytes(sids, body);
    if (size > limits.maxBytes) {
      this.#missedHead++;
      return 1;
    }
    key ??= keyOfBody(body);
    const entries = this.#entries;
    let dropped = 0;
    let missed = 0;
    const old = entries.get(key);
    if (old !== undefined) {
      entries.delete(key);
      this.#count(-old.frame.length);
      missed = old.missed + 1;
      dropped++;
    }
    const budget = this.#budget;
    while (
      entries.size > 0 && (entries.size >= limits.capacity || this.bytes + size > limits.maxBytes ||
        (budget !== undefined && budget.refuses(this.bytes, size)))
    ) {
      const [oldestKey, oldest] = entries.entries().next().value!;
      entries.delete(oldestKey);
      this.#count(-oldest.frame.length);
      this.#missedHead += oldest.missed + 1;
      dropped++;
    }
    const frame = new Uint8Array(size);
    writeEventFrame(frame, 0, sids, body);
    entries.set(key, { frame, missed });
    this.#count(size);
    return dropped;
  }

  /**
   * Takes the oldest waiting events, at most `maxEvents` and (past the first)
   * `maxBytes` of EVENT frames, each behind its notice.
   */
  take(maxEvents: number, maxBytes: number): LatestBatch | undefined {
    if (this.#entries.size === 0 || maxEvents <= 0 || maxBytes <= 0) return undefined;
    const taken: [string, Entry][] = [];
    let eventBytes = 0;
    let notices = 0;
    for (const item of this.#entries) {
      const size = item[1].frame.length;
      if (taken.length > 0 && (taken.length >= maxEvents || eventBytes + size > maxBytes)) break;
      taken.push(item);
      eventBytes += size;
      if (item[1].missed > 0) notices++;
    }
    // The drops owed to the head are told together with the first event's own, in one notice.
    const first = taken[0]![1];
    if (this.#missedHead > 0 && first.missed === 0) notices++;
    first.missed += this.#missedHead;
    this.#missedHead = 0;
    const bytes = new Uint8Array(eventBytes + notices * MISSED_FRAME_BYTES);
    let at = 0;
    for (const [key, entry] of taken) {
      this.#entries.delete(key);
      if (entry.missed > 0) at = writeMissed(bytes, at, entry.missed);
      bytes.set(entry.frame, at);
      at += entry.frame.length;
    }
    this.#count(-eventBytes);
    return { bytes, count: taken.length, eventBytes };
  }

  /** Forgets everything waiting. */
  clear(): void {
    this.#entries.clear();
    this.#missedHead = 0;
    this.#count(-this.bytes);
  }

  #count(delta: number): void {
    this.bytes += delta;
    if (this.#budget !== undefined) this.#budget.used += delta;
  }
}

/**
 * The subject key of an event body (see lib/protocol/frames/event.ts), for callers that lack it.
 *
 * @example
 * ```ts
 * keyOfBody(new EventBodyWriter().write(Date.now(), 1, utf8("Quote.SUN"), payload)); // "quote.sun"
 * ```
 */
export function keyOfBody(body: Uint8Array): string {
  const length = (body[9]! << 8) | body[10]!;
  return subjectKey(decoder.decode(body.subarray(11, 11 + length)));
}
