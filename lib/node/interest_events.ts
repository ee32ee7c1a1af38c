/**
 * Interest events: the server publishes on `$es.interest` when the first
 * subscriber of an exact subject or a pattern appears and when the last one
 * goes, so that a publisher can produce only what somebody wants.
 */

import type { Router } from "../broker/router.ts";
import { encodeMessage } from "../protocol/codec.ts";
import { CodecTag } from "../protocol/constants.ts";
import { utf8 } from "../protocol/frames/_body.ts";
import type { CachedSubject } from "../protocol/subject_cache.ts";
import { subjectKey } from "../protocol/subjects.ts";

/** The reserved subject interest events are published on. */
export const INTEREST_SUBJECT = "$es.interest";

/** One interest event, as subscribers of `$es.interest` receive it. */
export interface InterestEvent {
  action: "first" | "last";
  kind: "exact" | "pattern";
  /** The subject key (lower-cased subject) or the pattern's text. */
  key: string;
}

const SUBJECT: CachedSubject = {
  subject: INTEREST_SUBJECT,
  key: subjectKey(INTEREST_SUBJECT),
  bytes: utf8(INTEREST_SUBJECT),
};

/**
 * Gathers interest changes while a request runs and publishes them after it,
 * in the order they happened.
 *
 * @example
 * ```ts
 * const events = new InterestEvents(router);
 * events.changed("exact", "stockquote.sun", true);
 * events.publish(); // one event on $es.interest: { action: "first", kind: "exact", key: … }
 * ```
 */
export class InterestEvents {
  #router: Router;
  #elsewhere: ((kind: "exact" | "pattern", key: string) => boolean) | undefined;
  #pending: InterestEvent[] = [];

  /**
   * @param elsewhere Whether another node still (or already) wants `key`: then a change
   * here is not the server's first or last, and no event is published.
   */
  constructor(router: Router, elsewhere?: (kind: "exact" | "pattern", key: string) => boolean) {
    this.#router = router;
    this.#elsewhere = elsewhere;
  }

  /** The node's interest in `key` appeared (`present`) or went. */
  changed(kind: "exact" | "pattern", key: string, present: boolean): void {
    // Subscribing to $es.interest itself is not news.
    if (kind === "exact" && key === SUBJECT.key) return;
    if (this.#elsewhere?.(kind, key)) return;
    this.#pending.push({ action: present ? "first" : "last", kind, key });
  }

  /** Publishes what changed since the last call. */
  publish(): void {
    if (this.#pending.length === 0) return;
    const events = this.#pending;
    this.#pending = [];
    const time = Date.now();
    for (const event of events) {
      // Nobody can hold the server itself: a full queue of a $es.interest subscriber drops it.
      this.#router.route(SUBJECT, time, CodecTag.MSGPACK, encodeMessage(event), undefined);
    }
  }
}
