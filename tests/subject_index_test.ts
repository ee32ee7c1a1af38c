/** Unit tests of `SubjectIndex`: case rules, `re.match` pattern semantics, at-most-once, the memo. */

import { assert, assertEquals, assertThrows } from "./_assert.ts";
import { SubjectIndex } from "../lib/broker/subject_index.ts";

const sorted = (targets: readonly string[]) => [...targets].sort();

Deno.test("SubjectIndex matches exact subjects case-insensitively", () => {
  const index = new SubjectIndex<string>();
  index.subscribe("s1", ["stockquotes"]);
  index.subscribe("s2", ["STOCKQuotes"]);
  assertEquals(sorted(index.targets("StockQuotes")), ["s1", "s2"]);
  assertEquals(sorted(index.targets("STOCKQUOTES")), ["s1", "s2"]);
  assertEquals(index.targets("stockquote"), []);
  assertEquals(index.exactCount, 1);
});

Deno.test("SubjectIndex: ^STOCKQUOTE\\.S.*$ matches STOCKQUOTE.SUN and stockquote.sap only", () => {
  const index = new SubjectIndex<string>();
  index.subscribeMatch("p", ["^STOCKQUOTE\\.S.*$"]);
  assertEquals(index.targets("STOCKQUOTE.SUN"), ["p"]);
  assertEquals(index.targets("stockquote.sap"), ["p"]);
  assertEquals(index.targets("STOCKQUOTE.IBM"), []);
  assertEquals(index.targets("NYSE.STOCKQUOTE.SUN"), []);
});

Deno.test("SubjectIndex: a pattern is anchored at the start only (stock matches STOCKQUOTE.IBM)", () => {
  const index = new SubjectIndex<string>();
  index.subscribeMatch("p", ["stock"]);
  assertEquals(index.targets("STOCKQUOTE.IBM"), ["p"]);
  assertEquals(index.targets("NYSE.STOCKQUOTE.IBM"), []);
  index.subscribeMatch("q", ["quote"]);
  assertEquals(index.targets("STOCKQUOTE.IBM"), ["p"], "quote is not at the start");
});

Deno.test("SubjectIndex anchors every alternative of a|b at the start", () => {
  const index = new SubjectIndex<string>();
  index.subscribeMatch("p", ["news|sport"]);
  assertEquals(index.targets("news.today"), ["p"]);
  assertEquals(index.targets("SPORT.football"), ["p"]);
  assertEquals(index.targets("today.news"), []);
  assertEquals(index.targets("x.sport"), []);
});

Deno.test("SubjectIndex refuses an invalid pattern and registers nothing", () => {
  const index = new SubjectIndex<string>();
  assertThrows(
    () => index.subscribeMatch("p", ["("]),
    (e: unknown) => e instanceof SyntaxError && e.message.includes('"("'),
  );
  assertEquals(index.patternCount, 0);
  assertEquals(index.targets("("), []);
});

Deno.test("SubjectIndex refuses all patterns of a call when one of them is bad", () => {
  const index = new SubjectIndex<string>();
  assertThrows(() => index.subscribeMatch("p", ["^good", "[bad", "also.good"]), SyntaxError);
  assertEquals(index.patternCount, 0);
  assertEquals(index.targets("good"), []);
  assertEquals(index.targets("also.good"), []);
});

Deno.test("SubjectIndex runs checkPattern and registers nothing when it throws", () => {
  const index = new SubjectIndex<string>({
    checkPattern: (p) => {
      if (p.length > 5) throw new RangeError(`pattern ${p} too long`);
    },
  });
  assertThrows(() => index.subscribeMatch("p", ["ok", "toolong"]), RangeError);
  assertEquals(index.patternCount, 0);
});

Deno.test("SubjectIndex lists a member once when exact and patterns all match", () => {
  const index = new SubjectIndex<string>();
  index.subscribe("s", ["STOCKQUOTE.SUN", "stockquote.sun"]);
  index.subscribeMatch("s", ["stock", "^STOCKQUOTE\\.S.*$", ".*"]);
  index.subscribeMatch("other", ["stock"]);
  assertEquals(sorted(index.targets("StockQuote.Sun")), ["other", "s"]);
});

Deno.test("SubjectIndex.unsubscribe() removes the exact and the pattern given by the same string", () => {
  const index = new SubjectIndex<string>();
  index.subscribe("s", ["news"]);
  index.subscribeMatch("s", ["news"]);
  assertEquals(index.targets("news.today"), ["s"]);
  assertEquals(index.targets("NEWS"), ["s"]);
  index.unsubscribe("s", ["news"]);
  assertEquals(index.targets("news.today"), []);
  assertEquals(index.targets("NEWS"), []);
  assertEquals(index.exactCount, 0);
  assertEquals(index.patternCount, 0);
});

Deno.test("SubjectIndex.unsubscribe() of an exact subject ignores case", () => {
  const index = new SubjectIndex<string>();
  index.subscribe("s", ["StockQuotes"]);
  index.unsubscribe("s", ["STOCKQUOTES"]);
  assertEquals(index.targets("stockquotes"), []);
});

Deno.test("SubjectIndex.unsubscribe() leaves other members alone", () => {
  const index = new SubjectIndex<string>();
  index.subscribe("a", ["x"]);
  index.subscribe("b", ["x"]);
  index.subscribeMatch("a", ["y"]);
  index.subscribeMatch("b", ["y"]);
  index.unsubscribe("a", ["x", "y"]);
  assertEquals(index.targets("x"), ["b"]);
  assertEquals(index.targets("y"), ["b"]);
});

Deno.test("SubjectIndex memo is invalidated by a later subscribe and unsubscribe", () => {
  const index = new SubjectIndex<string>();
  index.subscribe("a", ["stock.ibm"]);
  assertEquals(index.targets("STOCK.IBM"), ["a"]); // memoised now
  index.subscribeMatch("b", ["stock"]);
  assertEquals(sorted(index.targets("STOCK.IBM")), ["a", "b"]);
  index.subscribe("c", ["Stock.IBM"]);
  assertEquals(sorted(index.targets("stock.ibm")), ["a", "b", "c"]);
  index.unsubscribe("b", ["stock"]);
  assertEquals(sorted(index.targets("STOCK.IBM")), ["a", "c"]);
  index.unsubscribe("a", ["STOCK.IBM"]);
  assertEquals(index.targets("Stock.Ibm"), ["c"]);
  index.remove("c", ["stock.ibm"], []);
  assertEquals(index.targets("stock.ibm"), []);
});

Deno.test("SubjectIndex memo stays correct past its size limit", () => {
  const index = new SubjectIndex<string>({ memoLimit: 4 });
  index.subscribeMatch("p", ["s\\d"]);
  for (let round = 0; round < 3; round++) {
    for (let i = 0; i < 10; i++) assertEquals(index.targets(`s${i}`), ["p"]);
    assertEquals(index.targets("t1"), []);
  }
  index.unsubscribe("p", ["s\\d"]);
  for (let i = 0; i < 10; i++) assertEquals(index.targets(`s${i}`), []);
});

Deno.test("SubjectIndex: a pattern with its own ^ and $ still behaves like re.match", () => {
  const index = new SubjectIndex<string>();
  index.subscribeMatch("p", ["a.c$"]);
  assertEquals(index.targets("ABC"), ["p"]);
  assertEquals(index.targets("abcd"), []);
  assert(index.patternCount === 1);
});

Deno.test("SubjectIndex folds the case of non-ASCII subjects and patterns too", () => {
  const index = new SubjectIndex<string>();
  index.subscribe("s", ["ÄPFEL.Preis"]);
  index.subscribeMatch("p", ["^äpfel\\."]);
  assertEquals(sorted(index.targets("äpfel.preis")), ["p", "s"]);
  assertEquals(sorted(index.targets("ÄPFEL.PREIS")), ["p", "s"]);
});
