/**
 * Who wants which subject: exact subscriptions keyed by the lower-cased
 * subject, pattern subscriptions by their text, each member with the
 * subscription ids that matched, and a memo of the answer per distinct
 * subject so that pattern matching costs nothing on repeat traffic.
 */

import { encodeSids } from "../protocol/frames/event.ts";
import { subjectKey } from "../protocol/subjects.ts";
import { RESERVED_PREFIX } from "../protocol/constants.ts";
import type { CompiledPattern } from "./pattern.ts";

/** Most distinct subjects remembered; past it the memo starts over. */
const DEFAULT_MEMO_LIMIT = 65_536;

/** What an event on one subject reaches at one member. */
export interface Delivery<T> {
  readonly member: T;
  /** The ids of the member's subscriptions that match, encoded for the EVENT frame. */
  readonly sids: Uint8Array;
}

/** Members and, for each, its subscription ids on one subject or pattern. */
type Members<T> = Map<T, number[]>;

interface PatternEntry<T> {
  pattern: CompiledPattern;
  members: Members<T>;
}

/** The answers for one subject key: usually one spelling; others only when spellings differ. */
interface KeyMemo<T> {
  generation: number;
  spelling: string;
  targets: readonly Delivery<T>[];
  others: Map<string, readonly Delivery<T>[]> | undefined;
}

/** Told when a subject key or pattern gains its first member or loses its last one. */
export type InterestListener = (kind: "exact" | "pattern", item: string, present: boolean) => void;

/** Options of `SubjectIndex`. */
export interface SubjectIndexOptions {
  /** Told of interest changes (the first subscriber of a key or pattern, the last one). */
  onInterest?: InterestListener;
  /** Distinct subjects whose answers are remembered. Default 65536. */
  memoLimit?: number;
}

const NONE: readonly Delivery<never>[] = [];

/**
 * A subscription index over members of type `T` (server sessions, or peer
 * nodes). A member appears at most once in a subject's targets, with every
 * one of its subscription ids that matched.
 *
 * @example
 * ```ts
 * const index = new SubjectIndex<string>();
 * index.subscribe("alice", 1, "news");
 * index.targets("NEWS", "news"); // [{ member: "alice", sids: <ids [1]> }]
 * ```
 */
export class SubjectIndex<T> {
  #exact = new Map<string, Members<T>>();
  #patterns = new Map<string, PatternEntry<T>>();
  #memo = new Map<string, KeyMemo<T>>();
  #generation = 0;
  #memoLimit: number;
  #onInterest: InterestListener | undefined;
  /** Patterns run against subjects so far (each distinct subject once per pattern change). */
  patternTests = 0;

  constructor(options: SubjectIndexOptions = {}) {
    this.#memoLimit = options.memoLimit ?? DEFAULT_MEMO_LIMIT;
    this.#onInterest = options.onInterest;
  }

  /** Distinct exact subjects with at least one subscriber. */
  get exactCount(): number {
    return this.#exact.size;
  }

  /** Distinct patterns with at least one subscriber. */
  get patternCount(): number {
    return this.#patterns.size;
  }

  /** Subscribes `member` to the exact `subject` under subscription id `sid`. */
  subscribe(member: T, sid: number, subject: string): void {
    const key = subjectKey(subject);
    let members = this.#exact.get(key);
    if (!members) this.#exact.set(key, members = new Map());
    if (add(members, member, sid)) {
      this.#memo.delete(key);
      if (members.size === 1 && members.get(member)!.length === 1) {
        this.#onInterest?.("exact", key, true);
      }
    }
  }

  /** Subscribes `member` to a compiled pattern under subscription id `sid`. */
  subscribeMatch(member: T, sid: number, pattern: CompiledPattern): void {
    let entry = this.#patterns.get(pattern.source);
    if (!entry) this.#patterns.set(pattern.source, entry = { pattern, members: new Map() });
    if (add(entry.members, member, sid)) {
      this.#generation++;
      if (entry.members.size === 1 && entry.members.get(member)!.length === 1) {
        this.#onInterest?.("pattern", pattern.source, true);
      }
    }
  }

  /** Whether some member subscribes to the exact subject key `key`. */
  hasExact(key: string): boolean {
    return this.#exact.has(key);
  }

  /** Whether some member subscribes to the pattern `source`. */
  hasPattern(source: string): boolean {
    return this.#patterns.has(source);
  }

  /** The compiled pattern for `source` if some member has it already (so it is not compiled again). */
  knownPattern(source: string): CompiledPattern | undefined {
    return this.#patterns.get(source)?.pattern;
  }

  /** Removes `member`'s exact subscription `sid` on `subject`. */
  unsubscribe(member: T, sid: number, subject: string): void {
    const key = subjectKey(subject);
    const members = this.#exact.get(key);
    if (members === undefined || !remove(members, member, sid)) return;
    this.#memo.delete(key);
    if (members.size === 0) {
      this.#exact.delete(key);
      this.#onInterest?.("exact", key, false);
    }
  }

  /** Removes `member`'s pattern subscription `sid` on `source`. */
  unsubscribeMatch(member: T, sid: number, source: string): void {
    const entry = this.#patterns.get(source);
    if (entry === undefined || !remove(entry.members, member, sid)) return;
    this.#generation++;
    if (entry.members.size === 0) {
      this.#patterns.delete(source);
      this.#onInterest?.("pattern", source, false);
    }
  }

  /** Every subject key and pattern with at least one member. */
  interest(): { exact: string[]; patterns: string[] } {
    return { exact: [...this.#exact.keys()], patterns: [...this.#patterns.keys()] };
  }

  /**
   * Everyone subscribed to `subject`, each member once with all its matching ids.
   *
   * @param subject The subject as the publisher spelled it (patterns see this).
   * @param key `subjectKey(subject)` (exact subscriptions see this).
   * @returns A shared array: do not modify it.
   */
  targets(subject: string, key: string): readonly Delivery<T>[] {
    const memo = this.#memo.get(key);
    if (memo !== undefined && memo.generation === this.#generation) {
      if (memo.spelling === subject) return memo.targets;
      const other = memo.others?.get(subject);
      if (other !== undefined) return other;
    }
    const targets = this.#compute(subject, key);
    if (memo !== undefined && memo.generation === this.#generation) {
      // Another spelling of a known key: remembered beside it, a few at most.
      if ((memo.others ??= new Map()).size < 16) memo.others.set(subject, targets);
      return targets;
    }
    if (memo === undefined && this.#memo.size >= this.#memoLimit) this.#memo.clear();
    this.#memo.set(key, {
      generation: this.#generation,
      spelling: subject,
      targets,
      others: undefined,
    });
    return targets;
  }

  #compute(subject: string, key: string): readonly Delivery<T>[] {
    const exact = this.#exact.get(key);
    // The server's own subjects ($es.…) reach exact subscriptions only: `.*` is not asking for them.
    if (this.#patterns.size === 0 || key.startsWith(RESERVED_PREFIX)) {
      if (exact === undefined) return NONE;
      return [...exact].map(([member, sids]) => ({ member, sids: encodeSids(sids) }));
    }
    const found = new Map<T, number[]>();
    if (exact !== undefined) { for (const [member, sids] of exact) found.set(member, [...sids]); }
    for (const { pattern, members } of this.#patterns.values()) {
      this.patternTests++;
      if (!pattern.test(subject)) continue;
      for (const [member, sids] of members) {
        const known = found.get(member);
        if (known === undefined) found.set(member, [...sids]);
        else known.push(...sids);
      }
    }
    if (found.size === 0) return NONE;
    return [...found].map(([member, sids]) => ({ member, sids: encodeSids(sids) }));
  }
}

/** Adds `sid` to `member`'s ids; false if it was there. */
function add<T>(members: Members<T>, member: T, sid: number): boolean {
  const sids = members.get(member);
  if (sids === undefined) {
    members.set(member, [sid]);
    return true;
  }
  if (sids.includes(sid)) return false;
  sids.push(sid);
  return true;
}

/** Removes `sid` from `member`'s ids (and the member when none is left); false if absent. */
function remove<T>(members: Members<T>, member: T, sid: number): boolean {
  const sids = members.get(member);
  if (sids === undefined) return false;
  const at = sids.indexOf(sid);
  if (at < 0) return false;
  sids.splice(at, 1);
  if (sids.length === 0) members.delete(member);
  return true;
}
