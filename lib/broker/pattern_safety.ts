/**
 * Refuses patterns whose backtracking can blow up (nested or overlapping
 * quantifiers), using the recheck ReDoS checker in its pure-JavaScript build.
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

/** Returns why `pattern` is refused, or null when it is safe. */
function judge(pattern: string, maxDegree: number, timeoutMs: number): string | null {
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
