/**
 * Tests of the test helpers themselves: hermetic environments, waits that end
 * when the child does, the assertion adapters, and fake time for timers.
 */

import { FakeTime } from "@std/testing/time";
import {
  assert,
  assertEquals,
  AssertionError,
  assertMatch,
  assertRejects,
  assertThrows,
} from "./_assert.ts";
import { childEnv, TEST_SETTINGS } from "./_env.ts";
import { EsProcess, spawnServe, waitUntil } from "./_helpers.ts";

const esVars = (env: Record<string, string>) => Object.keys(env).filter((k) => k.startsWith("ES_"));

Deno.test("the test process starts without the user's ES_* variables", () => {
  const vars = esVars(Deno.env.toObject()).filter((name) => !TEST_SETTINGS.has(name));
  assertEquals(vars, []);
});

Deno.test("childEnv() keeps the process's environment but no ES_* variable", () => {
  const screenshot = Deno.env.get("ES_DASHBOARD_SCREENSHOT");
  Deno.env.set("ES_NS", "ns://127.0.0.1:1");
  try {
    const env = childEnv({ EXTRA: "1" });
    assertEquals(esVars(env), []);
    assertEquals(env.PATH, Deno.env.get("PATH"));
    assertEquals(env.NO_COLOR, "1");
    assertEquals(env.EXTRA, "1");
    assertEquals(childEnv({ ES_IDENT: "asked for" }).ES_IDENT, "asked for");
    Deno.env.set("ES_DASHBOARD_SCREENSHOT", "x.png");
    assertEquals(esVars(childEnv()), []);
  } finally {
    Deno.env.delete("ES_NS");
    if (screenshot === undefined) Deno.env.delete("ES_DASHBOARD_SCREENSHOT");
    else Deno.env.set("ES_DASHBOARD_SCREENSHOT", screenshot);
  }
});

Deno.test("a spawned es does not inherit ES_NS or ES_IDENT", async () => {
  Deno.env.set("ES_NS", "ns://127.0.0.1:1");
  Deno.env.set("ES_IDENT", "from the shell");
  try {
    await using server = await spawnServe(["--no-http"]);
    assert(server.stdoutLines.some((l) => l.endsWith("auth=off")), server.stdout);
    assert(server.nsURI !== undefined, "es serve did not embed its name server");
  } finally {
    Deno.env.delete("ES_NS");
    Deno.env.delete("ES_IDENT");
  }
});

Deno.test("EsProcess.waitForLine() fails at once, with stderr, when the child exits first", async () => {
  await using child = new EsProcess(["serve", "-p", "0", "--bogus"]);
  const start = Date.now();
  const error = await assertRejects(
    child.waitForLine((l) => l === "Event Server started.", 60_000),
    Error,
  );
  assertMatch(String(error), /exited \(code 2\) before printing the awaited line/);
  assertMatch(String(error), /stderr:\n.*bogus/);
  assert(Date.now() - start < 30_000, "waited for the timeout");
  assertEquals(child.exit?.code, 2);
});

Deno.test("EsProcess.waitForLines() fails at once when the child exits first", async () => {
  await using child = new EsProcess(["--version"]);
  await assertRejects(child.waitForLines(5, () => true, 60_000), /exited \(code 0\).*got 1/);
});

Deno.test("waitUntil() gives up after its timeout (fake time)", async () => {
  using time = new FakeTime();
  let polls = 0;
  let settled = false;
  const waiting = assertRejects(
    waitUntil(() => (polls++, false), 1_000, "never"),
    /Timed out waiting for never/,
  ).finally(() => settled = true);
  for (let ms = 0; ms < 990; ms += 10) await time.tickAsync(10);
  assert(!settled, "gave up before its timeout");
  for (let ms = 0; ms < 30; ms += 10) await time.tickAsync(10);
  await waiting;
  assert(polls >= 90 && polls <= 110, `polled ${polls} times, about every 10 ms expected`);
});

Deno.test("assertRejects() and assertThrows() take a class, a RegExp or a predicate", async (t) => {
  const fails = () => Promise.reject(new RangeError("out of range"));
  await t.step("a promise or a function, checked by class", async () => {
    assertEquals((await assertRejects(fails(), RangeError) as Error).message, "out of range");
    await assertRejects(fails, RangeError);
    await assertRejects(assertRejects(fails, TypeError), AssertionError);
  });
  await t.step("checked by RegExp over String(error)", async () => {
    await assertRejects(fails, /^RangeError: out/);
    await assertRejects(assertRejects(fails, /nope/), AssertionError);
  });
  await t.step("checked by a predicate that must return true", async () => {
    await assertRejects(fails, (e) => e instanceof RangeError);
    await assertRejects(assertRejects(fails, () => false), AssertionError);
  });
  await t.step("a promise that resolves fails", async () => {
    await assertRejects(assertRejects(Promise.resolve(1)), AssertionError);
  });
  await t.step("assertThrows() the same way", () => {
    const throws = () => {
      throw new TypeError("bad type");
    };
    assertThrows(throws, TypeError);
    assertThrows(throws, /bad type/);
    assertThrows(throws, (e) => e instanceof TypeError);
    assertThrows(() => assertThrows(throws, () => false), AssertionError);
    assertThrows(() => assertThrows(() => {}), AssertionError);
  });
});
