/**
 * Who wants which subject: exact subscriptions keyed by the lower-cased
 * subject, pattern subscriptions by their text, each member with the
 * subscription ids that matched, and a memo of the answer per distinct
 * subject so that pattern matching costs nothing on repeat traffic.
 */

import { subjectKey } from "../protocol/subjects.ts";
import { RESERVED_PREFIX } from "../protocol/constants.ts";
import type { CompiledPattern } from "./pattern.ts";
import {
  type Delivery,
  type Found,
  type GroupCursor,
  NO_ROUTES,
  type Routes,
  routesOf,
} from "./routes.ts";

export type { Delivery, GroupRoute, Routes } from "./routes.ts";

/** Most distinct subjects remembered; past it the memo starts over. */
const DEFAULT_MEMO_LIMIT = 65_536;

/** Members and, for each, its subscription ids on one subject or pattern. */
type Members<T> = Map<T, number[]>;

/** The subscriptions to one subject key or pattern: plain ones, and queue groups kept apart. */
interface Entry<T> {
  plain: Members<T>;
  /** By group name; undefined until the first group subscription. */
  groups: Map<string, Members<T>> | undefined;
}

interface PatternEntry<T> extends Entry<T> {
  pattern: CompiledPattern;
}

/** The answers for one subject key: usually one spelling; others only when spellings differ. */
interface KeyMemo<T> {
  generation: number;
  spelling: string;
  routes: Routes<T>;
  others: Map<string, Routes<T>> | undefined;
}

/** Told when a subject key or pattern gains its first subscription or loses its last one. */
export type InterestListener = (kind: "exact" | "pattern", item: string, present: boolean) => void;

/**
 * Told when a subject key or pattern gains its first subscription in a queue
 * group (`group`; "" for the ungrouped ones) or loses its last one there.
 */
export type GroupInterestListener = (
  kind: "exact" | "pattern",
  item: string,
  group: string,
  present: boolean,
) => void;

/** Options of `SubjectIndex`. */
export interface SubjectIndexOptions {
  /** Told of interest changes, whatever the groups (the first subscription of a key or pattern, the last one). */
  onInterest?: InterestListener;
  /** Told of interest changes per queue group ("" for ungrouped subscriptions). */
  onGroupInterest?: GroupInterestListener;
  /** Distinct subjects whose answers are remembered. Default 65536. */
  memoLimit?: number;
}

/** One subscription to a key or pattern, in a group or not: what `interest()` lists. */
export interface InterestItem {
  kind: "exact" | "pattern";
  item: string;
  group: string;
}

/**
 * A subscription index over members of type `T` (server sessions, or peer
 * nodes). A member appears at most once among a subject's plain routes, and
 * at most once in each of its groups, with every one of its subscription ids
 * that matched.
 *
 * @example
 * ```ts
 * const index = new SubjectIndex<string>();
 * index.subscribe("alice", 1, "news");
 * index.subscribe("bob", 2, "news", "workers");
 * index.subscribe("carol", 3, "news", "workers");
 * const routes = index.routes("NEWS", "news");
 * routes.all; // [{ member: "alice", … }]: every event
 * routes.groups; // [{ group: "workers", members: [bob, carol] }]: one of them per event
 * ```
 */
export class SubjectIndex<T> {
  #exact = new Map<string, Entry<T>>();
  #patterns = new Map<string, PatternEntry<T>>();
  #memo = new Map<string, KeyMemo<T>>();
  #generation = 0;
  #memoLimit: number;
  #onInterest: InterestListener | undefined;
  #onGroupInterest: GroupInterestListener | undefined;
  /** Each group's round-robin cursor, and how many (key or pattern, group) pairs have it. */
  #cursors = new Map<string, GroupCursor & { uses: number }>();
  /** Patterns run against subjects so far (each distinct subject once per pattern change). */
  patternTests = 0;

  constructor(options: SubjectIndexOptions = {}) {
    this.#memoLimit = options.memoLimit ?? DEFAULT_MEMO_LIMIT;
    this.#onInterest = options.onInterest;
    this.#onGroupInterest = options.onGroupInterest;
  }

  /** Distinct exact subjects with at least one subscriber. */
  get exactCount(): number {
    return this.#exact.size;
  }

  /** Distinct patterns with at least one subscriber. */
  get patternCount(): number {
    return this.#patterns.size;
  }

  /** Subscribes `member` to the exact `subject` under subscription id `sid`, in queue group `group` ("" for none). */
  subscribe(member: T, sid: number, subject: string, group = ""): void {
    const key = subjectKey(subject);
    let entry = this.#exact.get(key);
    const first = entry === undefined;
    if (entry === undefined) this.#exact.set(key, entry = { plain: new Map(), groups: undefined });
    if (this.#add(entry, member, sid, group, "exact", key)) {
      this.#memo.delete(key);
      if (first) this.#onInterest?.("exact", key, true);
    }
  }

  /** Subscribes `member` to a compiled pattern under subscription id `sid`, in queue group `group`. */
  subscribeMatch(member: T, sid: number, pattern: CompiledPattern, group = ""): void {
    const source = pattern.source;
    let entry = this.#patterns.get(source);
    const first = entry === undefined;
    if (entry === undefined) {
      this.#patterns.set(source, entry = { pattern, plain: new Map(), groups: undefined });
    }
    if (this.#add(entry, member, sid, group, "pattern", source)) {
      this.#generation++;
      if (first) this.#onInterest?.("pattern", source, true);
    }
  }

  /** Whether some member subscribes to the exact subject key `key` (in a group or not). */
  hasExact(key: string): boolean {
    return this.#exact.has(key);
  }

  /** Whether some member subscribes to the pattern `source` (in a group or not). */
  hasPattern(source: string): boolean {
    return this.#patterns.has(source);
  }

  /** The compiled pattern for `source` if some member has it already (so it is not compiled again). */
  knownPattern(source: string): CompiledPattern | undefined {
    return this.#patterns.get(source)?.pattern;
  }

  /** Removes `member`'s exact subscription `sid` on `subject` (made in `group`). */
  unsubscribe(member: T, sid: number, subject: string, group = ""): void {
    const key = subjectKey(subject);
    const entry = this.#exact.get(key);
    if (entry === undefined || !this.#remove(entry, member, sid, group, "exact", key)) return;
    this.#memo.delete(key);
    if (isEmpty(entry)) {
      this.#exact.delete(key);
      this.#onInterest?.("exact", key, false);
    }
  }

  /** Removes `member`'s pattern subscription `sid` on `source` (made in `group`). */
  unsubscribeMatch(member: T, sid: number, source: string, group = ""): void {
    const entry = this.#patterns.get(source);
    if (entry === undefined || !this.#remove(entry, member, sid, group, "pattern", source)) return;
    this.#generation++;
    if (isEmpty(entry)) {
      this.#patterns.delete(source);
      this.#onInterest?.("pattern", source, false);
    }
  }

  /** Every (subject key or pattern, group) with at least one member; group "" for ungrouped. */
  interest(): InterestItem[] {
    const items: InterestItem[] = [];
    const list = (kind: "exact" | "pattern", entries: Map<string, Entry<T>>) => {
      for (const [item, entry] of entries) {
        if (entry.plain.size > 0) items.push({ kind, item, group: "" });
        for (const group of entry.groups?.keys() ?? []) items.push({ kind, item, group });
      }
    };
    list("exact", this.#exact);
    list("pattern", this.#patterns);
    return items;
  }

  /**
   * Everyone an event on `subject` reaches without a queue group, each
   * member once with all its matching ids (see `routes()` for the groups).
   */
  targets(subject: string, key: string): readonly Delivery<T>[] {
    return this.routes(subject, key).all;
  }

  /**
   * Everyone subscribed to `subject`: the members that get every event, and
   * the queue groups of which one member gets each.
   *
   * @param subject The subject as the publisher spelled it (patterns see this).
   * @param key `subjectKey(subject)` (exact subscriptions see this).
   * @returns A shared answer: do not modify it.
   */
  routes(subject: string, key: string): Routes<T> {
    const memo = this.#memo.get(key);
    if (memo !== undefined && memo.generation === this.#generation) {
      if (memo.spelling === subject) return memo.routes;
      const other = memo.others?.get(subject);
      if (other !== undefined) return other;
    }
    const routes = this.#compute(subject, key);
    if (memo !== undefined && memo.generation === this.#generation) {
      // Another spelling of a known key: remembered beside it, a few at most.
      if ((memo.others ??= new Map()).size < 16) memo.others.set(subject, routes);
      return routes;
    }
    if (memo === undefined && this.#memo.size >= this.#memoLimit) this.#memo.clear();
    this.#memo.set(key, {
      generation: this.#generation,
      spelling: subject,
      routes,
      others: undefined,
    });
    return routes;
  }

  #compute(subject: string, key: string): Routes<T> {
    const exact = this.#exact.get(key);
    // The server's own subjects ($es.…) reach exact subscriptions only: `.*` is not asking for them.
    const patterns = key.startsWith(RESERVED_PREFIX) ? undefined : this.#patterns;
    if (exact === undefined && (patterns === undefined || patterns.size === 0)) return NO_ROUTES;
    const plain: Found<T> = new Map();
    let groups: Map<string, Found<T>> | undefined;
    const gather = (entry: Entry<T>) => {
      merge(plain, entry.plain);
      if (entry.groups === undefined) return;
      for (const [group, members] of entry.groups) {
        let found = (groups ??= new Map()).get(group);
        if (found === undefined) groups.set(group, found = new Map());
        merge(found, members);
      }
    };
    if (exact !== undefined) gather(exact);
    for (const entry of patterns?.values() ?? []) {
      this.patternTests++;
      if (entry.pattern.test(subject)) gather(entry);
    }
    return routesOf(plain, groups, (group) => this.#cursors.get(group)!);
  }

  /** Adds a subscription to `entry`; false if it was there. */
  #add(
    entry: Entry<T>,
    member: T,
    sid: number,
    group: string,
    kind: "exact" | "pattern",
    item: string,
  ): boolean {
    let members = group === "" ? entry.plain : entry.groups?.get(group);
    if (members === undefined) {
      (entry.groups ??= new Map()).set(group, members = new Map());
      const cursor = this.#cursors.get(group);
      if (cursor === undefined) this.#cursors.set(group, { next: 0, uses: 1 });
      else cursor.uses++;
    }
    if (!add(members, member, sid)) return false;
    if (members.size === 1 && members.get(member)!.length === 1) {
      this.#onGroupInterest?.(kind, item, group, true);
    }
    return true;
  }

  /** Removes a subscription from `entry`; false if it was not there. */
  #remove(
    entry: Entry<T>,
    member: T,
    sid: number,
    group: string,
    kind: "exact" | "pattern",
    item: string,
  ): boolean {
    const members = group === "" ? entry.plain : entry.groups?.get(group);
    if (members === undefined || !remove(members, member, sid)) return false;
    if (members.size > 0) return true;
    if (group !== "") {
      entry.groups!.delete(group);
      if (entry.groups!.size === 0) entry.groups = undefined;
      const cursor = this.#cursors.get(group)!;
      if (--cursor.uses === 0) this.#cursors.delete(group);
    }
    this.#onGroupInterest?.(kind, item, group, false);
    return true;
  }
}

function isEmpty<T>(entry: Entry<T>): boolean {
  return entry.plain.size === 0 && entry.groups === undefined;
}

/** Adds every member's ids of `from` to `into`. */
function merge<T>(into: Found<T>, from: Members<T>): void {
  for (const [member, sids] of from) {
    const known = into.get(member);
    if (known === undefined) into.set(member, [...sids]);
    else known.push(...sids);
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
