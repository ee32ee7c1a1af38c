/**
 * Tests of the `es` command as users run it (the real program, spawned):
 * usage errors, help and version, publish from stdin, subscribe --json,
 * stats, and the queue settings from flags and environment.
 */

import { assert, assertEquals, assertMatch } from "./_assert.ts";
import { EsProcess, runEs, spawnServe, waitUntil } from "./_helpers.ts";
import { CollectingSubscriber, deadPort } from "./_collect.ts";
import { Publisher } from "../lib/client/publisher.ts";

/** Flags that keep a spawned server off the fixed ports. */
const ISOLATED = ["-N", "--no-http"];

function oneLine(stderr: string): string {
  const lines = stderr.trim().split("\n");
  assertEquals(lines.length, 1, `expected one line on stderr, got:\n${stderr}`);
  return lines[0]!;
}

Deno.test("es exits 2 with one line on stderr for a bad flag or a bad value", async () => {
  const cases: [string[], RegExp][] = [
    [["serve", "--bogus"], /bogus/],
    [["--bogus"], /bogus/],
    [["serve", "-p", "notaport"], /--port.*notaport/],
    [["-p", "70000"], /--port.*70000/],
    [["serve", "-p", "0", "--queue-size", "-5"], /--queue-size.*-5/],
    [["serve", "-p", "0", "--queue-size", "0"], /--queue-size/],
    [["serve", "-p", "0", "--log-level", "loud"], /--log-level/],
    [["serve", "-p", "0", "--block-queue", "--no-block-queue"], /block-queue/],
    [["subscribe", "x", "--es", "es://127.0.0.1:1", "--count", "many"], /--count.*many/],
    [["subscribe", "x", "--count", "0"], /--count/],
    [["subscribe"], /Nothing to subscribe/],
    [["publish"], /SUBJECT/],
    [["publish", "a", "b", "c"], /Too many/],
    [["publish", "x", "1", "--es", "http://nope"], /--es/],
    [["stats", "--bogus"], /bogus/],
    [["frobnicate"], /Unknown command/],
  ];
  const results = await Promise.all(cases.map(([args]) => runEs(args, { timeoutMs: 20_000 })));
  results.forEach((r, i) => {
    const [args, pattern] = cases[i]!;
    assertEquals(r.code, 2, `es ${args.join(" ")}: exit ${r.code}, stderr ${r.stderr}`);
    assertMatch(oneLine(r.stderr), pattern);
    assert(!r.stdout.includes("Event Server started."), `es ${args.join(" ")} started a server`);
  });
});

Deno.test("es exits 2 for a bad ES_QUEUESIZE or ES_BLOCKQUEUE", async () => {
  const [size, block] = await Promise.all([
    runEs(["serve", ...ISOLATED, "-p", "0"], { env: { ES_QUEUESIZE: "-5" } }),
    runEs(["serve", ...ISOLATED, "-p", "0"], { env: { ES_BLOCKQUEUE: "maybe" } }),
  ]);
  assertEquals(size.code, 2, size.stderr);
  assertMatch(oneLine(size.stderr), /ES_QUEUESIZE/);
  assertEquals(block.code, 2, block.stderr);
  assertMatch(oneLine(block.stderr), /ES_BLOCKQUEUE/);
});

Deno.test("es --help, es COMMAND --help and es --version exit 0", async () => {
  const runs = await Promise.all([
    runEs(["--help"]),
    runEs(["serve", "--help"]),
    runEs(["publish", "--help"]),
    runEs(["subscribe", "--help"]),
    runEs(["stats", "--help"]),
    runEs(["--version"]),
  ]);
  for (const r of runs) assertEquals(r.code, 0, r.stderr);
  assertMatch(runs[0]!.stdout, /Usage: es/);
  assertMatch(runs[1]!.stdout, /--queue-size/);
  assertMatch(runs[2]!.stdout, /Usage: es publish/);
  assertMatch(runs[3]!.stdout, /--json/);
  assertMatch(runs[4]!.stdout, /Usage: es stats/);
  assertMatch(runs[5]!.stdout.trim(), /^es \d+\.\d+\.\d+/);
});

Deno.test("es publish sends each stdin line as one event, JSON when it is JSON", async () => {
  await using server = await spawnServe(ISOLATED);
  const sub = new CollectingSubscriber({ esURI: server.uri, threading: false });
  await sub.subscribe("lines");
  sub.start();
  try {
    const stdin = ['{"a":[1,2]}', "plain text", "42", "", "true", "null", '"quoted"', "{broken"]
      .join("\n") + "\r\nlast line without newline";
    const r = await runEs(["publish", "--es", server.uri, "Lines"], { stdin });
    assertEquals(r.code, 0, r.stderr);
    const events = await sub.waitFor(8);
    assertEquals(events.map((e) => e.msg), [
      { a: [1, 2] },
      "plain text",
      42,
      true,
      null,
      "quoted",
      "{broken",
      "last line without newline",
    ]);
    assert(events.every((e) => e.subject === "Lines"));
  } finally {
    await sub.stop();
  }
});

Deno.test("es publish SUBJECT MESSAGE parses MESSAGE as JSON when it is JSON", async () => {
  await using server = await spawnServe(ISOLATED);
  const sub = new CollectingSubscriber({ esURI: server.uri, threading: false });
  await sub.subscribe("one");
  sub.start();
  try {
    for (const message of ["22.44", '{"x":"y"}', "hello world"]) {
      const r = await runEs(["publish", "--es", server.uri, "one", message]);
      assertEquals(r.code, 0, r.stderr);
    }
    assertEquals((await sub.waitFor(3)).map((e) => e.msg), [22.44, { x: "y" }, "hello world"]);
  } finally {
    await sub.stop();
  }
});

Deno.test("es subscribe --json prints only JSON lines on stdout and exits after --count", async () => {
  await using server = await spawnServe(ISOLATED);
  await using sub = new EsProcess([
    "subscribe",
    "--es",
    server.uri,
    "Quotes",
    "-m",
    "^news\\.",
    "--json",
    "--count",
    "4",
  ]);
  await waitUntil(
    async () => {
      const stats = await fetchStatsJson(server.uri);
      return stats.subscribers.length === 1 && stats.patterns === 1;
    },
    15_000,
    "the subscriber to register",
  );
  await using pub = new Publisher({ esURI: server.uri });
  await pub.publish("QUOTES", { sun: 22.44 });
  await pub.publish("weather", "not wanted");
  await pub.publish("news.today", "hello");
  await pub.publish("quotes", new Uint8Array([1, 2]));
  await pub.publish("News.tomorrow", [1, "two"]);
  await pub.flush();
  assertEquals((await sub.status()).code, 0, sub.stderr);
  const lines = sub.stdoutLines.filter((l) => l !== "");
  const events = lines.map((l) => JSON.parse(l));
  assertEquals(events.map((e) => [e.subject, e.msg]), [
    ["QUOTES", { sun: 22.44 }],
    ["news.today", "hello"],
    ["quotes", [1, 2]],
    ["News.tomorrow", [1, "two"]],
  ]);
  for (const e of events) {
    assertEquals(Object.keys(e).sort(), ["msg", "subject", "time"]);
    assert(typeof e.time === "number");
  }
});

Deno.test("es subscribe without --json prints time, subject and message", async () => {
  await using server = await spawnServe(ISOLATED);
  await using sub = new EsProcess(["subscribe", "--es", server.uri, "t", "--count", "1"]);
  await waitUntil(
    async () => (await fetchStatsJson(server.uri)).subscribers.length === 1,
    15_000,
    "the subscriber to register",
  );
  await using pub = new Publisher({ esURI: server.uri });
  await pub.publish("T", "hello");
  assertEquals((await sub.status()).code, 0, sub.stderr);
  assertMatch(sub.stdoutLines[0]!, /^\d{4}-\d\d-\d\dT.*\bT\b.*hello$/);
});

async function fetchStatsJson(uri: string) {
  const r = await runEs(["stats", "--es", uri, "--json"]);
  assertEquals(r.code, 0, r.stderr);
  return JSON.parse(r.stdout);
}

Deno.test("es stats prints a table, and es stats --json the raw counters", async () => {
  await using server = await spawnServe(ISOLATED);
  const sub = new CollectingSubscriber({ esURI: server.uri });
  await sub.subscribe("stats.subject");
  try {
    await using pub = new Publisher({ esURI: server.uri });
    for (let i = 0; i < 3; i++) await pub.publish("stats.subject", i);
    await pub.flush();
    const [table, json] = await Promise.all([
      runEs(["stats", "--es", server.uri]),
      runEs(["stats", "--es", server.uri, "--json"]),
    ]);
    assertEquals(table.code, 0, table.stderr);
    assertMatch(table.stdout, /connections\s+publishes\s+events/);
    assertMatch(table.stdout, /Subscribers \(1\)/);
    assertMatch(table.stdout, /stats\.subject/);
    assertMatch(table.stdout, /policy\s+queue\s+delivered\s+dropped\s+groups/);
    assertMatch(table.stdout, /block\s+0\/1000\s+3\s+0\s+-/);
    assertEquals(json.code, 0, json.stderr);
    const stats = JSON.parse(json.stdout);
    assertEquals(stats.totals.publishes, 3);
    assertEquals(stats.uri, server.uri);
    assertEquals(stats.subscribers[0].subjects, ["stats.subject"]);
    assertEquals(stats.subjects[0].subject, "stats.subject");
  } finally {
    await sub.close();
  }
});

Deno.test("es serve takes queueSize and blockQueue from ES_QUEUESIZE and ES_BLOCKQUEUE", async () => {
  {
    await using server = await spawnServe(ISOLATED, { ES_QUEUESIZE: "7", ES_BLOCKQUEUE: "0" });
    const stats = await fetchStatsJson(server.uri);
    assertEquals([stats.queueSize, stats.blockQueue], [7, false]);
  }
  {
    await using server = await spawnServe(ISOLATED, { ES_QUEUESIZE: "12", ES_BLOCKQUEUE: "1" });
    const stats = await fetchStatsJson(server.uri);
    assertEquals([stats.queueSize, stats.blockQueue], [12, true]);
  }
});

Deno.test("es serve flags win over the environment; the defaults are 1000 and blocking", async () => {
  {
    await using server = await spawnServe(
      [...ISOLATED, "--queue-size", "5", "--block-queue"],
      { ES_QUEUESIZE: "7", ES_BLOCKQUEUE: "0" },
    );
    const stats = await fetchStatsJson(server.uri);
    assertEquals([stats.queueSize, stats.blockQueue], [5, true]);
  }
  {
    await using server = await spawnServe([...ISOLATED, "--no-block-queue"]);
    const stats = await fetchStatsJson(server.uri);
    assertEquals([stats.queueSize, stats.blockQueue], [1000, false]);
  }
});

Deno.test("es serve stops with exit 0 on SIGINT", async () => {
  const server = await spawnServe(ISOLATED);
  server.kill("SIGINT");
  assertEquals((await server.status()).code, 0, server.stderr);
});

Deno.test("es publish and es stats exit 1 with one line when the server cannot be reached", async () => {
  const esURI = `es://127.0.0.1:${deadPort()}`;
  const [pub, stats] = await Promise.all([
    runEs(["publish", "--es", esURI, "x", "1"]),
    runEs(["stats", "--es", esURI]),
  ]);
  for (const r of [pub, stats]) {
    assertEquals(r.code, 1, r.stderr);
    assertMatch(oneLine(r.stderr), /Cannot connect/);
  }
});

Deno.test("es publish keeps the order of 2,000 stdin lines", async () => {
  await using server = await spawnServe(ISOLATED);
  const sub = new CollectingSubscriber({ esURI: server.uri, threading: false });
  await sub.subscribe("many");
  sub.start();
  try {
    const stdin = Array.from({ length: 2000 }, (_, i) => JSON.stringify({ i })).join("\n") + "\n";
    const r = await runEs(["publish", "--es", server.uri, "many"], { stdin });
    assertEquals(r.code, 0, r.stderr);
    assertMatch(r.stderr, /Published 2000 events/);
    const events = await sub.waitFor(2000);
    assertEquals(events.map((e) => (e.msg as { i: number }).i), [...Array(2000).keys()]);
  } finally {
    await sub.stop();
  }
});

Deno.test("es subscribe stops with exit 0 on SIGINT and SIGTERM", async () => {
  await using server = await spawnServe(ISOLATED);
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    await using sub = new EsProcess(["subscribe", "--es", server.uri, "x"]);
    await waitUntil(() => sub.stderr.includes("Subscribed"), 15_000, "es subscribe to subscribe");
    sub.kill(signal);
    assertEquals((await sub.status()).code, 0, `${signal}: ${sub.stderr}`);
  }
});

Deno.test("es subscribe --count N prints exactly N events even when more arrive at once", async () => {
  await using server = await spawnServe(ISOLATED);
  await using sub = new EsProcess([
    "subscribe",
    "--es",
    server.uri,
    "burst",
    "--json",
    "--count",
    "3",
  ]);
  await waitUntil(() => sub.stderr.includes("Subscribed"), 15_000, "es subscribe to subscribe");
  await using pub = new Publisher({ esURI: server.uri });
  for (let i = 0; i < 50; i++) await pub.publish("burst", i);
  await pub.flush();
  assertEquals((await sub.status()).code, 0, sub.stderr);
  const lines = sub.stdoutLines.filter((l) => l !== "");
  assertEquals(lines.map((l) => JSON.parse(l).msg), [0, 1, 2]);
});

Deno.test("es subscribe -m with an invalid pattern exits 1 with one clear line", async () => {
  await using server = await spawnServe(ISOLATED);
  const r = await runEs(["subscribe", "--es", server.uri, "-m", "(unclosed"]);
  assertEquals(r.code, 1, r.stderr);
  assertMatch(oneLine(r.stderr), /\(unclosed.*invalid regular expression/);
  assertEquals(r.stdout.trim(), "");
});

Deno.test("es serve on a host it cannot listen on exits 1 with one line, no stack trace", async () => {
  const runs = await Promise.all([
    runEs(["serve", ...ISOLATED, "-p", "0", "-n", "nonexistent.invalid"]),
    runEs(["serve", ...ISOLATED, "-p", "0", "-n", "192.0.2.1"]), // TEST-NET-1: not ours
  ]);
  for (const r of runs) {
    assertEquals(r.code, 1, r.stderr);
    assert(!oneLine(r.stderr).includes("    at "), r.stderr);
    assert(!r.stdout.includes("Event Server started."));
  }
});

Deno.test("es serve on a port in use exits 1 with one line", async () => {
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const r = await runEs(["serve", ...ISOLATED, "-p", String(listener.addr.port)]);
  assertEquals(r.code, 1, r.stderr);
  assertMatch(oneLine(r.stderr), /in use/i);
});

Deno.test("es publish to something that is not an es server exits 1 with one line", async () => {
  // A TCP server that answers with bytes that are not a HELLO frame, then closes.
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const serving = (async () => {
    const conn = await listener.accept();
    await conn.write(new TextEncoder().encode("HTTP/1.1 400 Bad Request\r\n\r\n"));
    conn.close();
  })();
  try {
    const r = await runEs(["publish", "--es", `es://127.0.0.1:${listener.addr.port}`, "x", "1"]);
    assertEquals(r.code, 1, r.stderr);
    oneLine(r.stderr);
  } finally {
    await serving;
    listener.close();
  }
});
