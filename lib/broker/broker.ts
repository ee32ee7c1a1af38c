/**
 * The broker: routes each published event to the queues of its subscribers.
 * It works on bytes only (payloads are never decoded) and does no I/O, so it
 * can be tested without sockets.
 */

import { encodeEvent } from "../protocol/frames.ts";
import { subjectKey } from "../protocol/subjects.ts";
import { type PatternCheck, SubjectIndex } from "./subject_index.ts";
import type { Target } from "./subscriber_queue.ts";

const NONE: readonly Target[] = [];

/** Most distinct subjects counted in the statistics; past it they are summed as one. */
const MAX_SUBJECT_STATS = 10_000;

/** Publish counters of one subject. */
export interface SubjectCounter {
  /** The subject as first spelled by a publisher. */
  subject: string;
  published: number;
}

/** Counters over the broker's life. */
export interface BrokerTotals {
  /** Publish frames processed. */
  publishes: number;
  /** Events (one per subject of a publish). */
  events: number;
  /** Events no subscriber wanted. */
  unrouted: number;
  /** Events queued for a subscriber (one per subscriber reached). */
  routed: number;
}

/** Routes events to targets through a `SubjectIndex`. */
export class Broker<T extends Target = Target> {
  readonly index: SubjectIndex<T>;
  readonly totals: BrokerTotals = { publishes: 0, events: 0, unrouted: 0, routed: 0 };
  readonly subjects = new Map<string, SubjectCounter>();
  /**
   * Other workers interested in each subject (set by dispatch). Events for
   * them are counted as routed by the worker that delivers them.
   */
  peers: SubjectIndex<Target> | undefined;
  #otherSubjects: SubjectCounter = { subject: "(other subjects)", published: 0 };

  constructor(options: { checkPattern?: PatternCheck } = {}) {
    this.index = new SubjectIndex<T>(options);
  }

  /**
   * Routes one event to everyone subscribed to `subject`, all sharing the same
   * frame bytes.
   *
   * @param subject The subject as the publisher spelled it.
   * @param subjectBytes The same subject in UTF-8, copied into the event frame.
   * @param blocked Receives the targets that are full in block mode; the
   * caller must wait for their room before it routes more.
   * @param key `subjectKey(subject)`, when the caller has it already.
   */
  route(
    subject: string,
    subjectBytes: Uint8Array,
    time: number,
    codec: number,
    payload: Uint8Array,
    blocked: Target[],
    key: string = subjectKey(subject),
  ): void {
    const totals = this.totals;
    totals.events++;
    this.#count(key, subject);
    const targets = this.index.targetsByKey(key);
    const peers = this.peers === undefined ? NONE : this.peers.targetsByKey(key);
    if (targets.length === 0 && peers.length === 0) {
      totals.unrouted++;
      return;
    }
    const frame = encodeEvent(time, codec, subjectBytes, payload);
    totals.routed += targets.length;
    for (let i = 0; i < targets.length; i++) {
      const target = targets[i]!;
      if (!target.deliver(frame)) blocked.push(target);
    }
    for (let i = 0; i < peers.length; i++) {
      const peer = peers[i]!;
      if (!peer.deliver(frame)) blocked.push(peer);
    }
  }

  /**
   * Delivers an EVENT frame that another worker routed here to the local
   * subscribers of the subject whose `subjectKey()` is `key` (the frame is
   * shared, never copied).
   */
  deliverFrame(key: string, frame: Uint8Array, blocked: Target[]): void {
    const targets = this.index.targetsByKey(key);
    this.totals.routed += targets.length;
    for (let i = 0; i < targets.length; i++) {
      const target = targets[i]!;
      if (!target.deliver(frame)) blocked.push(target);
    }
  }

  #count(key: string, subject: string): void {
    let counter = this.subjects.get(key);
    if (!counter) {
      if (this.subjects.size >= MAX_SUBJECT_STATS) {
        this.#otherSubjects.published++;
        return;
      }
      this.subjects.set(key, counter = { subject, published: 0 });
    }
    counter.published++;
  }

  /** Counter of the subjects past the statistics limit. */
  get otherSubjects(): SubjectCounter {
    return this.#otherSubjects;
  }
}

/** Waits until every blocked target has room again. */
export function whenAllHaveRoom(blocked: readonly Target[]): Promise<unknown> {
  if (blocked.length === 1) return blocked[0]!.whenRoom();
  return Promise.all(blocked.map((t) => t.whenRoom()));
}
