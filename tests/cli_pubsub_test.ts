import { assert, assertEquals, assertMatch } from "./_assert.ts";
import { EsProcess, runEs, spawnServe } from "./_helpers.ts";

Deno.test("es serve prints its banner with the real port and stops with exit 0 on SIGTERM", async () => {
  const server = await spawnServe(["-N", "--no-http"]);
  assertMatch(server.uri, /^es:\/\/127\.0\.0\.1:\d+$/);
  assert(!server.uri.endsWith(":0"));
  const uriLine = server.stdoutLines.findIndex((l) => l.startsWith("URI="));
  const startedLine = server.stdoutLines.indexOf("Event Server started.");
  assert(uriLine >= 0 && uriLine < startedLine);
  server.kill("SIGTERM");
  assertEquals((await server.status()).code, 0);
});

Deno.test("es subscribe -m prints matching events and skips the rest", async () => {
  await using server = await spawnServe(["-N", "--no-http"]);
  await using sub = new EsProcess([
    "subscribe",
    "--es",
    server.uri,
    "-m",
    "^STOCKQUOTE\\.S.*$",
    "--json",
    "--count",
    "2",
  ]);
  // The subscriber says "Subscribed" on stderr once the server has registered it.
  const deadline = Date.now() + 15_000;
  while (!sub.stderr.includes("Subscribed") && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 20));
  }
  for (
    const [subject, msg] of [["STOCKQUOTE.SUN", "22.44"], ["STOCKQUOTE.IBM", "1"], [
      "stockquote.sap",
      '{"p":[1,2]}',
    ]]
  ) {
    const r = await runEs(["publish", "--es", server.uri, subject!, msg!]);
    assertEquals(r.code, 0, r.stderr);
  }
  const status = await sub.status();
  assertEquals(status.code, 0, sub.stderr);
  const events = sub.stdoutLines.filter((l) => l).map((l) => JSON.parse(l));
  assertEquals(events.map((e) => e.subject), ["STOCKQUOTE.SUN", "stockquote.sap"]);
  assertEquals(events[0].msg, 22.44);
  assertEquals(events[1].msg, { p: [1, 2] });
  assert(typeof events[0].time === "number");
});
