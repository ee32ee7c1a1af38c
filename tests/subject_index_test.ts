/**
 * Unit tests of `SubjectIndex`: members with subscription ids, case rules, `re.match`
 * pattern semantics, each member at most once per event with all its ids, interest
 * changes, and the memo (per subject key, with an answer per spelling).
 */

import { assert, assertEquals } from "./_assert.ts";
import { compilePattern, loadPatternEngine } from "../lib/broker/pattern.ts";

// The engine loads with the first pattern a server sees; these tests compile directly.
await loadPatternEngine();
import { SubjectIndex } from "../lib/broker/subject_index.ts";
import { encodeSids } from "../lib/protocol/frames/event.ts";
import { subjectKey } from "../lib/protocol/subjects.ts";

/** Reads the ids back out of `encodeSids()` bytes. */
function decodeSids(bytes: Uint8Array): number[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const count = view.getUint16(0);
  assertEquals(bytes.length, 2 + 4 * count, "sids bytes are u16 count, u32 ids");
  const ids: number[] = [];
  for (let i = 0; i < count; i++) ids.push(view.getUint32(2 + 4 * i));
  return ids;
}

/** Who an event on `subject` reaches: `{ member: [ids…] }`, ids sorted. */
function reach(index: SubjectIndex<string>, subject: string): Record<string, number[]> {
  const out: Record<string, number[]> = {};
  for (const { member, sids } of index.targets(subject, subjectKey(subject))) {
    assert(!(member in out), `member ${member} listed twice for ${subject}`);
    out[member] = decodeSids(sids).sort((a, b) => a - b);
  }
  return out;
}

/** Records interest changes. */
function interestLog(): {
  log: string[];
  onInterest: (kind: "exact" | "pattern", item: string, present: boolean) => void;
} {
  const log: string[] = [];
  return {
    log,
    onInterest: (kind, item, present) => log.push(`${present ? "+" : "-"}${kind}:${item}`),
  };
}

Deno.test("SubjectIndex matches exact subjects case-insensitively, with each member's id", () => {
  const index = new SubjectIndex<string>();
  index.subscribe("s1", 1, "stockquotes");
  index.subscribe("s2", 7, "STOCKQuotes");
  assertEquals(reach(index, "StockQuotes"), { s1: [1], s2: [7] });
  assertEquals(reach(index, "STOCKQUOTES"), { s1: [1], s2: [7] });
  assertEquals(reach(index, "stockquote"), {});
  assertEquals(index.exactCount, 1);
});

Deno.test("SubjectIndex gives the sids encoded as encodeSids() does", () => {
  const index = new SubjectIndex<string>();
  index.subscribe("m", 0xffff_fffe, "x");
  const [delivery] = index.targets("x", "x");
  assertEquals(delivery!.member, "m");
  assertEquals(delivery!.sids, encodeSids([0xffff_fffe]));
});

Deno.test("SubjectIndex folds the case of non-ASCII subjects", () => {
  const index = new SubjectIndex<string>();
  index.subscribe("s", 1, "ÄPFEL.Preis");
  assertEquals(reach(index, "äpfel.preis"), { s: [1] });
  assertEquals(reach(index, "ÄPFEL.PREIS"), { s: [1] });
});

Deno.test("SubjectIndex: ^STOCKQUOTE\\.S.*$ reaches STOCKQUOTE.SUN and stockquote.sap only", () => {
  const index = new SubjectIndex<string>();
  index.subscribeMatch("p", 3, compilePattern("^STOCKQUOTE\\.S.*$"));
  assertEquals(reach(index, "STOCKQUOTE.SUN"), { p: [3] });
  assertEquals(reach(index, "stockquote.sap"), { p: [3] });
  assertEquals(reach(index, "STOCKQUOTE.IBM"), {});
  assertEquals(reach(index, "NYSE.STOCKQUOTE.SUN"), {});
});

Deno.test("SubjectIndex: a pattern is anchored at the start only (stock reaches STOCKQUOTE.IBM)", () => {
  const index = new SubjectIndex<string>();
  index.subscribeMatch("p", 1, compilePattern("stock"));
  index.subscribeMatch("q", 2, compilePattern("quote"));
  assertEquals(reach(index, "STOCKQUOTE.IBM"), { p: [1] });
  assertEquals(reach(index, "NYSE.STOCKQUOTE.IBM"), {});
});

Deno.test("SubjectIndex lists a member once with every id that matched, exact and pattern", () => {
  const index = new SubjectIndex<string>();
  index.subscribe("s", 1, "STOCKQUOTE.SUN");
  index.subscribe("s", 2, "stockquote.sun");
  index.subscribeMatch("s", 3, compilePattern("stock"));
  index.subscribeMatch("s", 4, compilePattern("^STOCKQUOTE\\.S.*$"));
  index.subscribeMatch("s", 5, compilePattern("ibm"));
  index.subscribeMatch("other", 1, compilePattern("stock"));
  assertEquals(reach(index, "StockQuote.Sun"), { s: [1, 2, 3, 4], other: [1] });
});

Deno.test("SubjectIndex: subscribing the same id twice keeps one id", () => {
  const { log, onInterest } = interestLog();
  const index = new SubjectIndex<string>({ onInterest });
  index.subscribe("s", 1, "news");
  index.subscribe("s", 1, "NEWS");
  index.subscribeMatch("s", 2, compilePattern("new"));
  index.subscribeMatch("s", 2, compilePattern("new"));
  assertEquals(reach(index, "news"), { s: [1, 2] });
  assertEquals(log, ["+exact:news", "+pattern:new"]);
});

Deno.test("SubjectIndex.unsubscribe() removes one id and leaves the member's others", () => {
  const index = new SubjectIndex<string>();
  index.subscribe("s", 1, "news");
  index.subscribe("s", 2, "News");
  index.unsubscribe("s", 1, "NEWS");
  assertEquals(reach(index, "news"), { s: [2] });
  assertEquals(index.exactCount, 1);
  index.unsubscribe("s", 2, "news");
  assertEquals(reach(index, "news"), {});
  assertEquals(index.exactCount, 0);
});

Deno.test("SubjectIndex.unsubscribe() of an unknown member, id or subject changes nothing", () => {
  const { log, onInterest } = interestLog();
  const index = new SubjectIndex<string>({ onInterest });
  index.subscribe("s", 1, "news");
  index.unsubscribe("t", 1, "news");
  index.unsubscribe("s", 2, "news");
  index.unsubscribe("s", 1, "sport");
  index.unsubscribeMatch("s", 1, "news");
  assertEquals(reach(index, "news"), { s: [1] });
  assertEquals(log, ["+exact:news"]);
});

Deno.test("SubjectIndex keeps an exact subscription and a pattern of the same text apart", () => {
  const index = new SubjectIndex<string>();
  index.subscribe("s", 1, "news");
  index.subscribeMatch("s", 2, compilePattern("news"));
  assertEquals(reach(index, "NEWS"), { s: [1, 2] });
  assertEquals(reach(index, "news.today"), { s: [2] });
  index.unsubscribe("s", 1, "news");
  assertEquals(reach(index, "NEWS"), { s: [2] });
  index.unsubscribeMatch("s", 2, "news");
  assertEquals(reach(index, "NEWS"), {});
  assertEquals(index.exactCount + index.patternCount, 0);
});

Deno.test("SubjectIndex.unsubscribeMatch() leaves other members of the pattern alone", () => {
  const index = new SubjectIndex<string>();
  index.subscribeMatch("a", 1, compilePattern("y"));
  index.subscribeMatch("b", 9, compilePattern("y"));
  index.unsubscribeMatch("a", 1, "y");
  assertEquals(reach(index, "yes"), { b: [9] });
  assertEquals(index.patternCount, 1);
});

Deno.test("SubjectIndex tells onInterest of the first and last member of a subject key", () => {
  const { log, onInterest } = interestLog();
  const index = new SubjectIndex<string>({ onInterest });
  index.subscribe("a", 1, "StockQuotes");
  index.subscribe("a", 2, "stockquotes"); // a second id of the same member: no news
  index.subscribe("b", 1, "STOCKQUOTES"); // a second member: no news
  assertEquals(log, ["+exact:stockquotes"], "the key, lower-cased, once");
  index.unsubscribe("a", 1, "stockquotes");
  index.unsubscribe("a", 2, "stockquotes");
  assertEquals(log.length, 1, "b still wants it");
  index.unsubscribe("b", 1, "stockquotes");
  assertEquals(log, ["+exact:stockquotes", "-exact:stockquotes"]);
  index.subscribe("c", 1, "stockquotes");
  assertEquals(log.at(-1), "+exact:stockquotes", "interest comes back with a new member");
});

Deno.test("SubjectIndex tells onInterest of the first and last member of a pattern", () => {
  const { log, onInterest } = interestLog();
  const index = new SubjectIndex<string>({ onInterest });
  index.subscribeMatch("a", 1, compilePattern("^Stock"));
  index.subscribeMatch("a", 2, compilePattern("^Stock"));
  index.subscribeMatch("b", 1, compilePattern("^Stock"));
  assertEquals(log, ["+pattern:^Stock"], "the pattern as written, once");
  index.unsubscribeMatch("a", 1, "^Stock");
  index.unsubscribeMatch("b", 1, "^Stock");
  assertEquals(log.length, 1);
  index.unsubscribeMatch("a", 2, "^Stock");
  assertEquals(log, ["+pattern:^Stock", "-pattern:^Stock"]);
});

Deno.test("SubjectIndex.interest() lists every subject key and pattern with a member, per queue group", () => {
  const index = new SubjectIndex<string>();
  index.subscribe("a", 1, "News");
  index.subscribe("b", 1, "sport");
  index.subscribe("c", 1, "news", "workers");
  index.subscribeMatch("a", 2, compilePattern("^x"));
  index.unsubscribe("b", 1, "sport");
  assertEquals(index.interest(), [
    { kind: "exact", item: "news", group: "" },
    { kind: "exact", item: "news", group: "workers" },
    { kind: "pattern", item: "^x", group: "" },
  ]);
});

Deno.test("SubjectIndex.knownPattern() returns the compiled pattern while a member has it", () => {
  const index = new SubjectIndex<string>();
  const compiled = compilePattern("^a");
  assertEquals(index.knownPattern("^a"), undefined);
  index.subscribeMatch("m", 1, compiled);
  assert(index.knownPattern("^a") === compiled);
  index.unsubscribeMatch("m", 1, "^a");
  assertEquals(index.knownPattern("^a"), undefined);
});

Deno.test("SubjectIndex answers a repeated subject from its memo", () => {
  const index = new SubjectIndex<string>();
  index.subscribeMatch("p", 1, compilePattern("stock"));
  const first = index.targets("STOCK.IBM", "stock.ibm");
  assert(index.targets("STOCK.IBM", "stock.ibm") === first, "the same answer, not recomputed");
  assertEquals(index.targets("nothing", "nothing"), []);
});

Deno.test("SubjectIndex memo is invalidated by every kind of subscribe and unsubscribe", () => {
  const index = new SubjectIndex<string>();
  index.subscribe("a", 1, "stock.ibm");
  assertEquals(reach(index, "STOCK.IBM"), { a: [1] }); // memoised now
  index.subscribeMatch("b", 2, compilePattern("stock"));
  assertEquals(reach(index, "STOCK.IBM"), { a: [1], b: [2] });
  index.subscribe("c", 3, "Stock.IBM");
  assertEquals(reach(index, "stock.ibm"), { a: [1], b: [2], c: [3] });
  index.subscribe("a", 4, "STOCK.ibm");
  assertEquals(reach(index, "stock.ibm"), { a: [1, 4], b: [2], c: [3] });
  index.unsubscribeMatch("b", 2, "stock");
  assertEquals(reach(index, "STOCK.IBM"), { a: [1, 4], c: [3] });
  index.unsubscribe("a", 1, "STOCK.IBM");
  assertEquals(reach(index, "Stock.Ibm"), { a: [4], c: [3] });
  index.unsubscribe("a", 4, "stock.ibm");
  index.unsubscribe("c", 3, "stock.ibm");
  assertEquals(reach(index, "stock.ibm"), {});
});

Deno.test("SubjectIndex memo answers each spelling of one subject key for itself", () => {
  // "İstanbul" and "i̇stanbul" (i + U+0307) share a key (toLowerCase), but a pattern sees
  // the spelling: simple case folding maps İ to nothing else.
  const precomposed = "İstanbul";
  const decomposed = "i\u0307stanbul";
  const key = subjectKey(precomposed);
  assertEquals(subjectKey(decomposed), key);
  const index = new SubjectIndex<string>();
  index.subscribe("e", 1, precomposed);
  index.subscribeMatch("p", 2, compilePattern("^İ"));
  for (let round = 0; round < 3; round++) {
    assertEquals(reach(index, precomposed), { e: [1], p: [2] });
    assertEquals(reach(index, decomposed), { e: [1] });
  }
  // The other spelling's memo is dropped with the key's when interest changes.
  index.unsubscribe("e", 1, precomposed);
  assertEquals(reach(index, decomposed), {});
  assertEquals(reach(index, precomposed), { p: [2] });
});

Deno.test("SubjectIndex memo stays correct for more spellings of a key than it keeps", () => {
  // Each of the five letters is İ, i + U+0307 or I + U+0307: 243 spellings of one key.
  const letters = ["İ", "i\u0307", "I\u0307"];
  const spellings: string[] = [];
  for (let n = 0; n < 3 ** 5; n++) {
    let s = "";
    for (let d = 0, m = n; d < 5; d++, m = Math.floor(m / 3)) s += letters[m % 3];
    spellings.push(s);
  }
  const key = subjectKey(spellings[0]!);
  const index = new SubjectIndex<string>();
  index.subscribe("e", 1, spellings[0]!);
  index.subscribeMatch("p", 2, compilePattern("^.{5}$")); // five code points: all İ
  index.subscribeMatch("q", 3, compilePattern("^İ")); // starts with İ
  for (let round = 0; round < 2; round++) {
    for (const s of spellings) {
      assertEquals(subjectKey(s), key);
      const expected: Record<string, number[]> = { e: [1] };
      if ([...s].length === 5) expected.p = [2];
      if (s.startsWith("İ")) expected.q = [3];
      assertEquals(reach(index, s), expected, `spelling ${JSON.stringify(s)}`);
    }
  }
});

Deno.test("SubjectIndex memo stays correct past its size limit", () => {
  const index = new SubjectIndex<string>({ memoLimit: 4 });
  index.subscribeMatch("p", 1, compilePattern("s\\d"));
  for (let round = 0; round < 3; round++) {
    for (let i = 0; i < 10; i++) assertEquals(reach(index, `s${i}`), { p: [1] });
    assertEquals(reach(index, "t1"), {});
  }
  index.unsubscribeMatch("p", 1, "s\\d");
  for (let i = 0; i < 10; i++) assertEquals(reach(index, `s${i}`), {});
});

Deno.test("SubjectIndex agrees with a brute-force model under random changes (seeded)", () => {
  let seed = 0x1dea;
  const rand = () => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed / 2 ** 32;
  };
  const pick = <T>(items: readonly T[]): T => items[Math.floor(rand() * items.length)]!;
  const subjects = ["a.b", "A.B", "a.c", "b.a", "İx", "i\u0307x", "abc", "ABD"];
  const patterns = ["a", "a\\.", "^b", ".*c$", "^İ", "ab[cd]"];
  const members = ["m1", "m2", "m3"];
  const index = new SubjectIndex<string>({ memoLimit: 5 });
  // The model: [member, sid, exact subject | pattern source, isPattern].
  const model = new Set<string>();
  // As on a connection, one id means one subscription: it is derived from the item.
  const items = [
    ...subjects.map((s) => [false, s] as const),
    ...patterns.map((p) => [true, p] as const),
  ];
  for (let step = 0; step < 3000; step++) {
    const member = pick(members);
    const at = Math.floor(rand() * items.length);
    const [isPattern, item] = items[at]!;
    const sid = 1 + 2 * at + (rand() < 0.5 ? 0 : 1);
    const entry = JSON.stringify([member, sid, isPattern ? item : subjectKey(item), isPattern]);
    if (rand() < 0.55) {
      if (isPattern) index.subscribeMatch(member, sid, compilePattern(item));
      else index.subscribe(member, sid, item);
      model.add(entry);
    } else {
      if (isPattern) index.unsubscribeMatch(member, sid, item);
      else index.unsubscribe(member, sid, item);
      model.delete(entry);
    }
    const subject = pick(subjects);
    const expected: Record<string, number[]> = {};
    for (const e of model) {
      const [m, s, it, pat] = JSON.parse(e) as [string, number, string, boolean];
      const hit = pat ? new RegExp(`^(?:${it})`, "iu").test(subject) : it === subjectKey(subject);
      if (hit && !(expected[m] ?? []).includes(s)) (expected[m] ??= []).push(s);
    }
    for (const ids of Object.values(expected)) ids.sort((a, b) => a - b);
    assertEquals(reach(index, subject), expected, `step ${step}, subject ${subject}`);
  }
});
