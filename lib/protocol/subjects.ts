/**
 * The rules for subjects and patterns, shared by the broker and the clients:
 * subjects are case-insensitive, patterns are JavaScript regular expressions
 * matched case-insensitively from the start of the subject, like Python's
 * `re.match`.
 */

/** The key under which a subject is indexed: subjects are case-insensitive. */
export function subjectKey(subject: string): string {
  return subject.toLowerCase();
}

/** A compiled pattern with `re.match` semantics. */
export interface CompiledPattern {
  /** The pattern as the subscriber wrote it. */
  readonly source: string;
  /** True when the pattern matches `subject` from its first character. */
  test(subject: string): boolean;
}

/**
 * Compiles a pattern. The sticky flag anchors every alternative at the start
 * of the subject and nowhere else, exactly as `re.match` does, without
 * rewriting the pattern's text.
 *
 * @throws {SyntaxError} when `pattern` is not a valid regular expression.
 */
export function compilePattern(pattern: string): CompiledPattern {
  let regex: RegExp;
  try {
    regex = new RegExp(pattern, "iy");
  } catch (cause) {
    throw new SyntaxError(
      `Cannot subscribe to pattern ${JSON.stringify(pattern)}: invalid regular expression`,
      { cause },
    );
  }
  return {
    source: pattern,
    test(subject: string): boolean {
      regex.lastIndex = 0;
      return regex.test(subject);
    },
  };
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

/** Turns "one subject or a list" into a list. */
export function toList(subjects: string | readonly string[]): string[] {
  return typeof subjects === "string" ? [subjects] : [...subjects];
}
