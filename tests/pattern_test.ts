/**
 * Unit tests of `compilePattern()`: `re.match` semantics (anchored at the start only),
 * case-insensitive with Unicode simple case folding, linear time (RE2), and clear refusals.
 */

import { assert, assertEquals, assertThrows } from "./_assert.ts";
import { compilePattern, loadPatternEngine } from "../lib/broker/pattern.ts";

// The engine loads with the first pattern a server sees; these tests compile directly.
await loadPatternEngine();

/** Asserts that compiling `pattern` throws a SyntaxError quoting it and matching `why`. */
function assertRefused(pattern: string, why: RegExp): void {
  assertThrows(
    () => compilePattern(pattern),
    (e: unknown) => {
      assert(e instanceof SyntaxError, `expected a SyntaxError, got ${String(e)}`);
      assert(
        e.message.includes(JSON.stringify(pattern)),
        `message quotes the pattern: ${e.message}`,
      );
      assert(why.test(e.message), `message ${JSON.stringify(e.message)} should match ${why}`);
      return true;
    },
  );
}

Deno.test("compilePattern: ^STOCKQUOTE\\.S.*$ matches STOCKQUOTE.SUN and stockquote.sap only", () => {
  const p = compilePattern("^STOCKQUOTE\\.S.*$");
  assertEquals(p.test("STOCKQUOTE.SUN"), true);
  assertEquals(p.test("stockquote.sap"), true);
  assertEquals(p.test("STOCKQUOTE.IBM"), false);
  assertEquals(p.test("NYSE.STOCKQUOTE.SUN"), false);
});

Deno.test("compilePattern keeps the pattern's text as its source", () => {
  assertEquals(compilePattern("^STOCKQUOTE\\.S.*$").source, "^STOCKQUOTE\\.S.*$");
});

Deno.test("compilePattern anchors at the start only, like re.match: stock matches STOCKQUOTE.IBM", () => {
  const p = compilePattern("stock");
  assertEquals(p.test("STOCKQUOTE.IBM"), true);
  assertEquals(p.test("NYSE.STOCKQUOTE.IBM"), false);
  assertEquals(compilePattern("quote").test("STOCKQUOTE.IBM"), false, "quote is not at the start");
});

Deno.test("compilePattern anchors every alternative of a|b at the start", () => {
  const p = compilePattern("news|sport");
  assertEquals(p.test("news.today"), true);
  assertEquals(p.test("SPORT.football"), true);
  assertEquals(p.test("today.news"), false);
  assertEquals(p.test("x.sport"), false);
});

Deno.test("compilePattern: a pattern's own $ anchors the end, and a leading ^ changes nothing", () => {
  const p = compilePattern("a.c$");
  assertEquals(p.test("ABC"), true);
  assertEquals(p.test("abcd"), false);
  assertEquals(compilePattern("^a.c").test("abcd"), true);
});

Deno.test("compilePattern matches case-insensitively, non-ASCII letters too", () => {
  const p = compilePattern("^äpfel\\.");
  assertEquals(p.test("ÄPFEL.PREIS"), true);
  assertEquals(p.test("äpfel.preis"), true);
  assertEquals(p.test("apfel.preis"), false);
});

Deno.test("compilePattern: İstanbul matches İstanbul (dotted capital I)", () => {
  const p = compilePattern("İstanbul");
  assertEquals(p.test("İstanbul"), true);
  assertEquals(p.test("İSTANBUL"), true);
  // Simple case folding maps İ to nothing else: a plain i is another letter.
  assertEquals(p.test("istanbul"), false);
});

Deno.test("compilePattern: ^STRAẞE$ matches STRAẞE, and straße by simple case folding", () => {
  const p = compilePattern("^STRAẞE$");
  assertEquals(p.test("STRAẞE"), true);
  assertEquals(p.test("straße"), true);
  // Full case folding (ß → ss) changes the length; simple folding does not.
  assertEquals(p.test("STRASSE"), false);
});

Deno.test("compilePattern: kelvin matches a subject spelled with the Kelvin sign U+212A", () => {
  assertEquals(compilePattern("kelvin").test("\u212Aelvin"), true);
  assertEquals(compilePattern("\u212Aelvin").test("KELVIN"), true);
});

Deno.test("compilePattern: (a+)+$ on 50,000 a's and a b returns false (no backtracking)", () => {
  const p = compilePattern("(a+)+$");
  assertEquals(p.test(`${"a".repeat(50_000)}b`), false);
  assertEquals(p.test("a".repeat(50_000)), true);
});

Deno.test("compilePattern refuses lookahead, saying patterns cannot use lookaround", () => {
  assertRefused("(?=a)", /lookaround/);
  assertRefused("x(?!a)", /lookaround/);
});

Deno.test("compilePattern refuses a backreference, saying so", () => {
  assertRefused("(a)\\1", /backreference/);
});

Deno.test({
  name: "compilePattern refuses lookbehind and named backreferences, naming them",
  fn() {
    assertRefused("(?<=a)b", /lookaround/);
    assertRefused("(?<!a)b", /lookaround/);
    assertRefused("(?<n>a)\\k<n>", /backreference/);
  },
});

Deno.test("compilePattern refuses invalid JavaScript syntax, quoting the pattern", () => {
  assertRefused("(", /invalid regular expression/);
  assertRefused("[bad", /invalid regular expression/);
  assertRefused("a{2,1}", /invalid regular expression/);
});

Deno.test("compilePattern refuses the POSIX class [[:alpha:]]", () => {
  assertRefused("[[:alpha:]]", /./);
  assertRefused("^[[:digit:]]+$", /./);
  // A spelling JavaScript accepts as plain characters is refused as a POSIX class.
  assertRefused("[[:alpha:]", /POSIX/);
});

Deno.test({
  name: "compilePattern refuses [[:alpha:]] with the advice about POSIX classes",
  fn() {
    assertRefused("[[:alpha:]]", /POSIX/);
  },
});

Deno.test("compilePattern accepts Unicode property classes and runs them", () => {
  const p = compilePattern("^\\p{L}+\\.\\d+$");
  assertEquals(p.test("Äpfel.42"), true);
  assertEquals(p.test("Äpfel.x"), false);
});
