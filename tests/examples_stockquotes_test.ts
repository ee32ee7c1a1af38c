import { assert, assertEquals } from "./_assert.ts";
import { EsProcess, spawnServe } from "./_helpers.ts";

const DIR = new URL("../examples/stockquotes/", import.meta.url).pathname;

/** Runs an example as a user would, with `deno run`. */
function example(file: string, args: string[]): EsProcess {
  return new EsProcess([], { runArgs: ["--allow-net", "--allow-env", DIR + file, ...args] });
}

Deno.test("stockquotes example: exact and pattern subscribers get the market's quotes", async () => {
  await using server = await spawnServe(["-N", "--no-http"]);
  await using exact = example("subscriber.ts", ["--es", server.uri, "--count", "3"]);
  await using pattern = example("pattern_subscriber.ts", ["--es", server.uri, "--count", "3"]);
  await exact.waitForLine((l) => l.startsWith("Listening"));
  await pattern.waitForLine((l) => l.startsWith("Listening"));
  // Subscriptions are sent right after the banner line; give them a moment to register.
  await new Promise((r) => setTimeout(r, 500));
  await using market = example("market.ts", [
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
