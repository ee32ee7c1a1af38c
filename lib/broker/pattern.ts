/**
 * Patterns, as the server runs them: regular expressions matched
 * case-insensitively (Unicode simple case folding) from the start of the
 * subject as the publisher spelled it, like Python's `re.match`.
 *
 * They run on RE2's linear-time engine (re2js), so no pattern can make the
 * server backtrack: `(a+)+$` on a long subject costs microseconds, and no
 * safety check or checker thread is needed. A pattern must be valid
 * JavaScript syntax (with the `u` flag) and something RE2 can run: lookaround
 * and backreferences, which need backtracking, are refused with a clear error.
 */

import type { RE2JS } from "re2js";

/** The RE2 engine, loaded with the first pattern: a server without patterns never loads it. */
let engine: typeof RE2JS | undefined;

/** Loads the pattern engine; `compilePattern()` needs it. Cheap once loaded. */
export async function loadPatternEngine(): Promise<void> {
  engine ??= (await import("re2js")).RE2JS;
}

/** Whether `compilePattern()` can run now (else await `loadPatternEngine()` first). */
export function patternEngineLoaded(): boolean {
  return engine !== undefined;
}

/** A compiled pattern. */
export interface CompiledPattern {
  /** The pattern as the subscriber wrote it. */
  readonly source: string;
  /** True when the pattern matches `subject` from its first character. */
  test(subject: string): boolean;
}

/** POSIX classes are RE2 syntax that JavaScript reads as plain characters: refused, not guessed. */
const POSIX_CLASS = /\[:\^?[a-z]+:\]/;
/** What needs backtracking, for the message (RE2's own wording varies). */
const LOOKAROUND = /\(\?<?[=!]/;
const BACKREFERENCE = /\\[1-9]|\\k</;

/**
 * Compiles a pattern.
 *
 * @example
 * ```ts
 * const p = compilePattern("^STOCKQUOTE\\.S.*$");
 * p.test("stockquote.sap"); // true
 * ```
 * @throws {SyntaxError} quoting the pattern and saying why it cannot run.
 */
export function compilePattern(pattern: string): CompiledPattern {
  const quoted = JSON.stringify(pattern);
  if (POSIX_CLASS.test(pattern)) {
    throw new SyntaxError(
      `Cannot subscribe to pattern ${quoted}: POSIX classes like [:alpha:] mean different things in JavaScript and RE2; use \\p{L}, [a-z] or \\d instead`,
    );
  }
  try {
    new RegExp(pattern, "u");
  } catch (cause) {
    throw new SyntaxError(
      `Cannot subscribe to pattern ${quoted}: invalid regular expression (${
        (cause as Error).message
      })`,
      { cause },
    );
  }
  const RE2 = engine;
  if (RE2 === undefined) throw new Error("compilePattern() before loadPatternEngine()");
  let regex: RE2JS;
  try {
    // Anchored at the start only, as re.match is; the group keeps alternatives together.
    regex = RE2.compile(`^(?:${pattern})`, RE2.CASE_INSENSITIVE);
  } catch (cause) {
    const needs = LOOKAROUND.test(pattern)
      ? "lookaround"
      : BACKREFERENCE.test(pattern)
      ? "a backreference"
      : undefined;
    const why = needs
      ? `it uses ${needs}, which es does not run: patterns are matched in linear time, so none can make the server backtrack`
      : `es cannot run it (${(cause as Error).message})`;
    throw new SyntaxError(`Cannot subscribe to pattern ${quoted}: ${why}`, { cause });
  }
  return {
    source: pattern,
    test: (subject: string) => regex.test(subject),
  };
}
