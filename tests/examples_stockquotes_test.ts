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

Deno.test("stockquotes example: the market quotes only the symbols somebody wants, as interest comes", async () => {
  await using server = await spawnServe(["-N", "--no-http"]);
  // Started first: nobody wants anything yet, so it quotes nothing.
  await using market = runExample("examples/stockquotes/market.ts", [
    "--es",
    server.uri,
    "--count",
    "30",
    "--interval-ms",
    "5",
  ]);
  await market.waitForLine((l) => l === "Wanted: nothing yet");
  await new Promise((r) => setTimeout(r, 200));
  assertEquals(market.stdoutLines.filter((l) => l.startsWith("STOCKQUOTE")), []);
  // A subscriber of SUN and MSFT appears: $es.interest tells the market, which quotes just those.
  await using exact = runExample("examples/stockquotes/subscriber.ts", [
    "--es",
    server.uri,
    "--count",
    "30",
  ]);
  assertEquals((await exact.status(30_000)).code, 0, exact.stderr);
  assertEquals((await market.status(30_000)).code, 0, market.stderr);
  const quotes = market.stdoutLines.filter((l) => l.startsWith("STOCKQUOTE"));
  assertEquals(quotes.length, 30);
  assert(quotes.every((l) => /^STOCKQUOTE\.(SUN|MSFT) /.test(l)), quotes.join("\n"));
});
