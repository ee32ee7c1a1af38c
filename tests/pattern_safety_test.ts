import { assert, assertEquals, assertMatch, assertRejects, assertThrows } from "./_assert.ts";
import { startTestServer } from "./_helpers.ts";
import { makePatternChecker, UnsafePatternError } from "../lib/broker/pattern_safety.ts";
import { SubjectIndex } from "../lib/broker/subject_index.ts";
import { connect, ProtocolError } from "../lib/client/mod.ts";
import { ErrorCode } from "../lib/protocol/constants.ts";
import { serveOptions } from "../cli/serve.ts";

Deno.test("makePatternChecker() refuses exponential and high-degree patterns, accepts ordinary ones", () => {
  const check = makePatternChecker();
  for (const evil of ["(a+)+$", "(a|a)*$", "^(\\w+\\s?)*$", "(x+x+)+y", ".*x.*y.*z$"]) {
    assertThrows(() => check(evil), UnsafePatternError, evil);
  }
  for (const fine of ["^STOCKQUOTE\\.S.*$", "stock", "news\\.(sport|weather)\\..*", "a.*b"]) {
    check(fine);
  }
  // Invalid syntax is not this checker's business: the compiler reports it.
  check("(");
});

Deno.test("SubjectIndex with the checker registers nothing when one pattern of a list is unsafe", () => {
  const index = new SubjectIndex<string>({ checkPattern: makePatternChecker() });
  assertThrows(() => index.subscribeMatch("m", ["^ok", "(a+)+$"]), /unsafe regular expression/);
  assertEquals(index.patternCount, 0);
  index.subscribeMatch("m", ["^ok"]);
  assertEquals(index.patternCount, 1);
});

Deno.test("the server refuses (a+)+$ with ERR BAD_PATTERN and registers nothing", async () => {
  await using server = await startTestServer();
  await using client = await connect({ esURI: server.uri });
  await assertRejects(
    () => client.subscribeMatch("(a+)+$"),
    (e: unknown) => {
      assert(e instanceof ProtocolError);
      assertEquals(e.code, ErrorCode.BAD_PATTERN);
      assertMatch(e.message, /pattern "\(a\+\)\+\$".*unsafe regular expression.*exponential/);
      return true;
    },
  );
  assertEquals(server.broker.index.patternCount, 0);
  // The connection still works.
  const sub = await client.subscribeMatch("^fine\\.");
  await client.publish("fine.1", 1);
  for await (const event of sub) {
    assertEquals(event.msg, 1);
    break;
  }
});

Deno.test("an accepted pattern cannot stall the server on a long adversarial subject", async () => {
  await using server = await startTestServer();
  await using subscriber = await connect({ esURI: server.uri });
  // Quadratic at worst, the highest the checker lets through.
  await subscriber.subscribeMatch("^(?:.*a.*a$)");
  await subscriber.subscribeMatch("^(a|b)*c");
  await using publisher = await connect({ esURI: server.uri });
  const started = Date.now();
  for (let i = 0; i < 20; i++) {
    // Distinct subjects defeat the per-subject memo; each is as long as allowed.
    await publisher.publish(`${"a".repeat(1019)}${String(i).padStart(4, "0")}b`.slice(-1024), i);
    await publisher.publish(`${"ab".repeat(511)}${i % 10}`, i);
  }
  await publisher.flush();
  // Exponential backtracking on such subjects would take longer than the universe's age.
  assert(Date.now() - started < 10_000, `flush took ${Date.now() - started} ms`);
});

Deno.test("a pattern over --max-pattern-bytes is refused with BAD_PATTERN", async () => {
  await using server = await startTestServer({ maxPatternBytes: 16, maxSubjectBytes: 16 });
  await using client = await connect({ esURI: server.uri });
  await assertRejects(() => client.subscribeMatch("x".repeat(17)), (e: unknown) => {
    assert(e instanceof ProtocolError);
    assertEquals(e.code, ErrorCode.BAD_PATTERN);
    assertMatch(e.message, /17 bytes exceeds the limit of 16/);
    return true;
  });
  await assertRejects(() => client.subscribe("y".repeat(17)), /exceeds the limit of 16/);
  assertEquals(server.broker.index.patternCount + server.broker.index.exactCount, 0);
});

Deno.test("es serve takes --max-subject-bytes and --max-pattern-bytes", () => {
  const options = serveOptions(["--max-subject-bytes", "200", "--max-pattern-bytes", "300"]);
  assertEquals(options?.maxSubjectBytes, 200);
  assertEquals(options?.maxPatternBytes, 300);
  assertThrows(() => serveOptions(["--max-pattern-bytes", "0"]), /--max-pattern-bytes/);
});

Deno.test("a new pattern is checked off the server's thread: other clients are served meanwhile", async () => {
  await using server = await startTestServer();
  await using subscriber = await connect({ esURI: server.uri });
  await using other = await connect({ esURI: server.uri });
  await other.flush();
  const order: string[] = [];
  // A pattern whose check takes a while (and the checker's first run warms it up).
  const subscribed = subscriber.subscribeMatch("^[a-z0-9_.-]+@[a-z]+\\.(com|org|net)$")
    .then(() => order.push("subscribed"));
  await new Promise((r) => setTimeout(r, 20)); // Let the SUBMATCH reach the server first.
  await other.flush();
  order.push("flushed");
  await subscribed;
  assertEquals(order, ["flushed", "subscribed"]);
});
