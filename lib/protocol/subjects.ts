/**
 * The rules for subjects, shared by the server and the clients: subjects are
 * case-insensitive (compared by `toLowerCase()`), non-empty and bounded in
 * UTF-8 bytes. Patterns are matched by the server alone (lib/broker/pattern.ts);
 * clients only check that a pattern is a regular expression at all.
 */

import { RESERVED_PREFIX } from "./constants.ts";

/** The key under which a subject is indexed: subjects are case-insensitive. */
export function subjectKey(subject: string): string {
  return subject.toLowerCase();
}

/** UTF-8 length of a string without encoding it. */
export function utf8Length(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) bytes += 1;
    else if (c < 0x800) bytes += 2;
    else if (c >= 0xd800 && c <= 0xdbff) {
      bytes += 4;
      i++;
    } else bytes += 3;
  }
  return bytes;
}

/**
 * Checks one subject (or pattern) against the length limit.
 *
 * @throws {TypeError} for a value that is not a non-empty string.
 * @throws {RangeError} for a subject longer than `maxBytes` in UTF-8.
 */
export function checkSubject(subject: unknown, maxBytes: number, what = "subject"): string {
  if (typeof subject !== "string" || subject.length === 0) {
    throw new TypeError(`Invalid ${what} ${JSON.stringify(subject)}: must be a non-empty string`);
  }
  const bytes = utf8Length(subject);
  if (bytes > maxBytes) {
    throw new RangeError(
      `Invalid ${what} "${subject.slice(0, 40)}…": ${bytes} bytes exceeds the limit of ${maxBytes}`,
    );
  }
  return subject;
}

/** True for subjects only the server publishes on (`$es.…`, case-insensitively). */
export function isReserved(subject: string): boolean {
  // On the hot path: almost every subject fails at the first character, with no string made.
  return subject.charCodeAt(0) === 0x24 && subject.length >= RESERVED_PREFIX.length &&
    subjectKey(subject.slice(0, RESERVED_PREFIX.length)) === RESERVED_PREFIX;
}

/**
 * Checks that `pattern` is a regular expression in JavaScript's syntax (with
 * the `u` flag, as the server reads it). The server checks more (what its
 * linear-time engine cannot run); this catches typos before anything is sent.
 *
 * @throws {SyntaxError} quoting the pattern.
 */
export function checkPatternSyntax(pattern: string): void {
  try {
    new RegExp(pattern, "u");
  } catch (cause) {
    throw new SyntaxError(
      `Cannot subscribe to pattern ${JSON.stringify(pattern)}: invalid regular expression (${
        (cause as Error).message
      })`,
      { cause },
    );
  }
}

/** Turns "one subject or a list" into a list. */
export function toList(subjects: string | readonly string[]): string[] {
  return typeof subjects === "string" ? [subjects] : [...subjects];
}
