/**
 * Who wants which subject: exact subscriptions keyed by the lower-cased
 * subject, pattern subscriptions by their text, and a memo of the answer per
 * distinct subject so that pattern matching costs nothing on repeat traffic.
 */

import { type CompiledPattern, compilePattern, subjectKey } from "../protocol/subjects.ts";

/** Most distinct subjects remembered; past it the memo starts over. */
const DEFAULT_MEMO_LIMIT = 65_536;

interface PatternEntry<T> {
  pattern: CompiledPattern;
  members: Set<T>;
}

/** Per-subject memo entry; `generation` says whether `targets` is current. */
interface SubjectEntry<T> {
  targets: T[];
  generation: number;
}

/** Validates a pattern before the index accepts it; throws to refuse it. */
export type PatternCheck = (pattern: string) => void;

/**
 * Told when a subject key or pattern gains its first member (`present` true)
 * or loses its last one: the index's interest as a whole changed.
 */
export type InterestListener = (item: string, isPattern: boolean, present: boolean) => void;

/**
 * A subscription index over members of type `T` (subscribers, or peer
 * workers). Every member appears at most once in a subject's targets, however
 * many of its subscriptions match.
 */
export class SubjectIndex<T> {
  #exact = new Map<string, Set<T>>();
  #patterns = new Map<string, PatternEntry<T>>();
  #memo = new Map<string, SubjectEntry<T>>();
  #generation = 0;
  #memoLimit: number;
  #checkPattern: PatternCheck | undefined;
  /** Set by dispatch to mirror this index's interest on other workers. */
  onInterest: InterestListener | undefined;

  constructor(options: { memoLimit?: number; checkPattern?: PatternCheck } = {}) {
    this.#memoLimit = options.memoLimit ?? DEFAULT_MEMO_LIMIT;
    this.#checkPattern = options.checkPattern;
  }

  /** Distinct exact subjects with at least one subscriber. */
  get exactCount(): number {
    return this.#exact.size;
  }

  /** Distinct patterns with at least one subscriber. */
  get patternCount(): number {
    return this.#patterns.size;
  }

  /** Subscribes `member` to exact subjects. */
  subscribe(member: T, subjects: readonly string[]): void {
    for (const subject of subjects) {
      const key = subjectKey(subject);
      let members = this.#exact.get(key);
      if (!members) this.#exact.set(key, members = new Set());
      if (members.has(member)) continue;
      members.add(member);
      this.#memo.delete(key);
      if (members.size === 1) this.onInterest?.(key, false, true);
    }
  }

  /**
   * Subscribes `member` to patterns; all or nothing.
   *
   * @throws {SyntaxError} (or what `checkPattern` throws) for the first bad
   * pattern; then none of `patterns` is registered.
   */
  subscribeMatch(member: T, patterns: readonly string[]): void {
    const compiled = patterns.map((p) => this.#patterns.get(p)?.pattern ?? this.#compile(p));
    for (const pattern of compiled) {
      let entry = this.#patterns.get(pattern.source);
      if (!entry) this.#patterns.set(pattern.source, entry = { pattern, members: new Set() });
      if (entry.members.has(member)) continue;
      entry.members.add(member);
      this.#generation++;
      if (entry.members.size === 1) this.onInterest?.(pattern.source, true, true);
    }
  }

  #compile(pattern: string): CompiledPattern {
    this.#checkPattern?.(pattern);
    return compilePattern(pattern);
  }

  /** Removes the exact subscription and the pattern subscription given by each string. */
  unsubscribe(member: T, subjectsOrPatterns: readonly string[]): void {
    this.unsubscribeExact(member, subjectsOrPatterns);
    this.unsubscribePatterns(member, subjectsOrPatterns);
  }

  /** Removes exact subscriptions only. */
  unsubscribeExact(member: T, subjects: readonly string[]): void {
    for (const item of subjects) {
      const key = subjectKey(item);
      const members = this.#exact.get(key);
      if (members?.delete(member)) {
        if (members.size === 0) {
          this.#exact.delete(key);
          this.onInterest?.(key, false, false);
        }
        this.#memo.delete(key);
      }
    }
  }

  /** Removes pattern subscriptions only. */
  unsubscribePatterns(member: T, patterns: readonly string[]): void {
    for (const item of patterns) {
      const entry = this.#patterns.get(item);
      if (entry?.members.delete(member)) {
        if (entry.members.size === 0) {
          this.#patterns.delete(item);
          this.onInterest?.(item, true, false);
        }
        this.#generation++;
      }
    }
  }

  /** Every subject key and pattern with at least one member. */
  interest(): { exact: string[]; patterns: string[] } {
    return { exact: [...this.#exact.keys()], patterns: [...this.#patterns.keys()] };
  }

  /** Removes every subscription of `member`. */
  remove(member: T, exact: Iterable<string>, patterns: Iterable<string>): void {
    this.unsubscribe(member, [...exact, ...patterns]);
  }

  /**
   * Everyone subscribed to `subject`, each once.
   *
   * @returns A shared array: do not modify it.
   */
  targets(subject: string): readonly T[] {
    return this.targetsByKey(subjectKey(subject));
  }

  /** `targets()` for a subject already lower-cased with `subjectKey()`. */
  targetsByKey(key: string): readonly T[] {
    const entry = this.#memo.get(key);
    if (entry && entry.generation === this.#generation) return entry.targets;
    const targets = this.#compute(key);
    if (!entry && this.#memo.size >= this.#memoLimit) this.#memo.clear();
    this.#memo.set(key, { targets, generation: this.#generation });
    return targets;
  }

  #compute(key: string): T[] {
    const exact = this.#exact.get(key);
    if (this.#patterns.size === 0) return exact ? [...exact] : [];
    const found = new Set<T>(exact);
    for (const { pattern, members } of this.#patterns.values()) {
      if (!pattern.test(key)) continue;
      for (const member of members) found.add(member);
    }
    return [...found];
  }
}
