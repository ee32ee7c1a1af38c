import { assert, assertEquals } from "./_assert.ts";
import { runExample, spawnServe } from "./_helpers.ts";

Deno.test("stockquotes example: exact and pattern subscribers get the market's quotes", async () => {
  await using server = await spawnServe(["-N", "--no-http"]);
  await using exact = runExample("examples/stockquotes/subscriber.ts", [
    "--es",
    server.uri,
    "--count",
    "3",
  ]);
  await using pattern = runExample("examples/stockquotes/pattern_subscriber.ts", [
    "--es",
    server.uri,
    "--count",
    "3",
  ]);
  await exact.waitForLine((l) => l.startsWith("Listening"));
  await pattern.waitForLine((l) => l.startsWith("Listening"));
  // Subscriptions are sent right after the banner line; give them a moment to register.
  await new Promise((r) => setTimeout(r, 500));
  await using market = runExample("examples/stockquotes/market.ts", [
    "--es",
    server.uri,
    "--count",
    "400",
    "--interval-ms",
    "5",
  ]);
  assertEquals((await exact.status(30_000)).code, 0, exact.stderr);
  assertEquals((await pattern.status(30_000)).code, 0, pattern.stderr);
  market.kill();
  const exactQuotes = exact.stdoutLines.filter((l) => l.startsWith("STOCKQUOTE"));
  const patternQuotes = pattern.stdoutLines.filter((l) => l.startsWith("STOCKQUOTE"));
  assertEquals(exactQuotes.length, 3);
  assertEquals(patternQuotes.length, 3);
  assert(
    exactQuotes.every((l) => /^STOCKQUOTE\.(SUN|MSFT) \d+(\.\d+)? /.test(l)),
    exactQuotes.join("\n"),
  );
  assert(
    patternQuotes.every((l) => /^STOCKQUOTE\.S\w* \d+(\.\d+)?$/.test(l)),
    patternQuotes.join("\n"),
  );
});
