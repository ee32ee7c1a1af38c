/**
 * Refuses patterns whose backtracking can blow up (nested or overlapping
 * quantifiers), using the recheck ReDoS checker in its pure-JavaScript build.
 * `PatternSafety` runs the checks on a worker thread (they take from a few to
 * several hundred milliseconds), so that a new pattern does not stall the server.
 */

import recheckModule from "recheck";
import type { PatternCheck } from "./subject_index.ts";

/** The part of recheck's diagnostics this module reads. */
interface Diagnostics {
  status: "safe" | "vulnerable" | "unknown";
  complexity?: { type: string; degree?: number; summary?: string };
  error?: { kind: string; message?: string };
}

type CheckSync = (
  source: string,
  flags: string,
  params?: { timeout?: number | null },
) => Diagnostics;

const checkSync = (recheckModule as unknown as { checkSync: CheckSync }).checkSync;

/** Options of `makePatternChecker()`. */
export interface PatternSafetyOptions {
  /**
   * Highest polynomial degree accepted. Degree 2 costs about a million steps on a
   * 1 KiB subject (milliseconds); degree 3 costs a billion. Default 2.
   */
  maxDegree?: number;
  /** Time the checker may take for one pattern; past it the pattern is refused. Default 1000. */
  timeoutMs?: number;
  /** Verdicts remembered (pattern text → error or null). Default 4096. */
  cacheSize?: number;
}

/** Thrown for a pattern that is valid but unsafe to run. */
export class UnsafePatternError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UnsafePatternError";
  }
}

/**
 * Makes a `PatternCheck` for `SubjectIndex`: it throws `UnsafePatternError`
 * for a pattern with exponential (or too high polynomial) backtracking, as
 * run by the index (case-insensitive, anchored at the start). Invalid syntax
 * is left to the compiler, which reports it with its own message.
 *
 * @example
 * ```ts
 * const index = new SubjectIndex({ checkPattern: makePatternChecker() });
 * index.subscribeMatch(member, ["(a+)+$"]); // throws UnsafePatternError
 * ```
 */
export function makePatternChecker(options: PatternSafetyOptions = {}): PatternCheck {
  const maxDegree = options.maxDegree ?? 2;
  const timeoutMs = options.timeoutMs ?? 1000;
  const cacheSize = options.cacheSize ?? 4096;
  const verdicts = new Map<string, string | null>();
  return (pattern: string): void => {
    let verdict = verdicts.get(pattern);
    if (verdict === undefined) {
      verdict = judge(pattern, maxDegree, timeoutMs);
      if (verdicts.size >= cacheSize) verdicts.clear();
      verdicts.set(pattern, verdict);
    }
    if (verdict !== null) throw new UnsafePatternError(verdict);
  };
}

/**
 * Returns why `pattern` is refused, or null when it is safe.
 *
 * @param maxDegree Highest polynomial degree accepted.
 * @param timeoutMs Time the checker may take; past it the pattern is refused.
 */
export function judge(pattern: string, maxDegree: number, timeoutMs: number): string | null {
  try {
    new RegExp(pattern, "iy");
  } catch {
    return null; // Invalid syntax: compilePattern() reports it.
  }
  const quoted = JSON.stringify(pattern);
  let result: Diagnostics;
  try {
    // The index matches with the sticky flag: the same as anchoring at the start.
    result = checkSync(`^(?:${pattern})`, "i", { timeout: timeoutMs });
  } catch (error) {
    return `Cannot subscribe to pattern ${quoted}: the safety check failed (${
      (error as Error).message
    })`;
  }
  if (result.status === "safe") return null;
  if (result.status === "unknown") {
    const kind = result.error?.kind ?? "unknown";
    if (kind === "timeout") {
      return `Cannot subscribe to pattern ${quoted}: it could not be proven safe within ${timeoutMs} ms`;
    }
    return `Cannot subscribe to pattern ${quoted}: it could not be checked for catastrophic backtracking (${kind})`;
  }
  const complexity = result.complexity;
  if (complexity?.type === "polynomial" && (complexity.degree ?? Infinity) <= maxDegree) {
    return null;
  }
  return `Cannot subscribe to pattern ${quoted}: unsafe regular expression (${
    complexity?.summary ?? "super-linear"
  } backtracking, e.g. from nested or overlapping quantifiers)`;
}

/** Time a check may take on the worker thread, where it blocks nobody. */
const WORKER_TIMEOUT_MS = 10_000;

/** Verdicts from the worker: pattern → refusal message or null. */
interface WorkerReply {
  id: number;
  verdict: string | null;
}

/**
 * Pattern checks for a server: `prepare()` judges new patterns on a worker
 * thread, and `check` (the `SubjectIndex` hook) then finds their verdicts
 * ready. When the worker cannot run, `check` judges in the calling thread
 * with a shorter time limit.
 */
export class PatternSafety {
  readonly #maxDegree: number;
  readonly #syncTimeoutMs: number;
  readonly #cacheSize: number;
  readonly #verdicts = new Map<string, string | null>();
  #worker: Worker | undefined;
  #workerBroken = false;
  #nextId = 1;
  #pending = new Map<number, { pattern: string; resolve: () => void }>();

  constructor(options: PatternSafetyOptions = {}) {
    this.#maxDegree = options.maxDegree ?? 2;
    this.#syncTimeoutMs = options.timeoutMs ?? 1000;
    this.#cacheSize = options.cacheSize ?? 4096;
  }

  /** The `SubjectIndex` hook: throws `UnsafePatternError` for an unsafe pattern. */
  readonly check: PatternCheck = (pattern: string): void => {
    let verdict = this.#verdicts.get(pattern);
    if (verdict === undefined) {
      verdict = judge(pattern, this.#maxDegree, this.#syncTimeoutMs);
      this.#remember(pattern, verdict);
    }
    if (verdict !== null) throw new UnsafePatternError(verdict);
  };

  #remember(pattern: string, verdict: string | null): void {
    if (this.#verdicts.size >= this.#cacheSize) this.#verdicts.clear();
    this.#verdicts.set(pattern, verdict);
  }

  /** Judges the patterns not yet judged, off the calling thread when possible. */
  async prepare(patterns: readonly string[]): Promise<void> {
    const fresh = patterns.filter((p) => !this.#verdicts.has(p));
    if (fresh.length === 0 || this.#workerBroken) return;
    const worker = this.#startWorker();
    if (!worker) return;
    await Promise.all(fresh.map((pattern) => {
      const id = this.#nextId++;
      const { promise, resolve } = Promise.withResolvers<void>();
      this.#pending.set(id, { pattern, resolve });
      worker.postMessage({
        id,
        pattern,
        maxDegree: this.#maxDegree,
        timeoutMs: WORKER_TIMEOUT_MS,
      });
      return promise;
    }));
  }

  #startWorker(): Worker | undefined {
    if (this.#worker) return this.#worker;
    try {
      const worker = new Worker(new URL("./pattern_worker.ts", import.meta.url), {
        type: "module",
      });
      worker.onmessage = (e: MessageEvent<WorkerReply>) => {
        const entry = this.#pending.get(e.data.id);
        if (!entry) return;
        this.#pending.delete(e.data.id);
        this.#remember(entry.pattern, e.data.verdict);
        entry.resolve();
      };
      worker.onerror = (e) => {
        e.preventDefault();
        this.#breakWorker();
      };
      this.#worker = worker;
      return worker;
    } catch {
      this.#breakWorker();
      return undefined;
    }
  }

  /** The worker failed: release everyone waiting; `check` will judge in-thread. */
  #breakWorker(): void {
    this.#workerBroken = true;
    this.#worker?.terminate();
    this.#worker = undefined;
    for (const { resolve } of this.#pending.values()) resolve();
    this.#pending.clear();
  }

  /** Stops the worker thread. */
  close(): void {
    this.#worker?.terminate();
    this.#worker = undefined;
    for (const { resolve } of this.#pending.values()) resolve();
    this.#pending.clear();
  }
}
