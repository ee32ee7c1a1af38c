import { assert, assertEquals, assertMatch } from "./_assert.ts";
import { exampleRunFlags, runExample, startTestServer, waitUntil } from "./_helpers.ts";

Deno.test("examples/allinone runs to completion by itself with network access to 127.0.0.1 only", async () => {
  assertEquals(exampleRunFlags("examples/allinone/main.ts"), ["--allow-net=127.0.0.1"]);
  const readme = await Deno.readTextFile(
    new URL("../examples/allinone/README.md", import.meta.url),
  );
  assert(readme.includes("deno run --allow-net=127.0.0.1 examples/allinone/main.ts"), readme);
  await using example = runExample("examples/allinone/main.ts");
  const status = await example.status();
  assertEquals(status.code, 0, example.stderr);
  assertMatch(example.stdout, /^Name server ns:\/\/127\.0\.0\.1:\d+, event server es:\/\//);
  assertEquals(example.stdout.match(/^weather\.\w+: \w+ is \d+ °C$/gm)?.length, 5);
  assertMatch(example.stdout, /Received 5 readings\. Done\./);
});

Deno.test("examples/chatbox: two people chat on one channel", async () => {
  await using server = await startTestServer();
  const args = ["--es", server.uri, "--channel", "test"];
  await using alice = runExample("examples/chatbox/main.ts", [...args, "--nick", "alice"], true);
  await waitUntil(() => alice.stdout.includes("Joined"), 20_000, "alice to join");
  await using bob = runExample("examples/chatbox/main.ts", [...args, "--nick", "bob"], true);
  await waitUntil(() => bob.stdout.includes("Joined ChatBox.Channel.test as bob"), 20_000, "bob");
  await waitUntil(() => alice.stdout.includes("[bob] (joined)"), 10_000, "alice to see bob");
  await alice.write("hello bob");
  await waitUntil(() => bob.stdout.includes("[alice] hello bob"), 10_000, "bob to see alice");
  await bob.write("hi alice");
  await waitUntil(() => alice.stdout.includes("[bob] hi alice"), 10_000, "alice to see bob's line");
  assert(!alice.stdout.includes("[alice]"), "no echo of one's own lines");
  await bob.endInput();
  assertEquals((await bob.status()).code, 0, bob.stderr);
  await waitUntil(() => alice.stdout.includes("[bob] (left)"), 10_000, "alice to see bob leave");
  await alice.endInput();
  assertEquals((await alice.status()).code, 0, alice.stderr);
});

Deno.test("examples/stockquotes_no_ns: the viewer prints the market's matching quotes", async () => {
  await using server = await startTestServer();
  await using viewer = runExample("examples/stockquotes_no_ns/viewer.ts", [
    server.uri,
    "^STOCKQUOTE\\.S",
    "3",
  ]);
  await waitUntil(() => viewer.stdout.includes("Watching"), 20_000, "the viewer to subscribe");
  await using market = runExample("examples/stockquotes_no_ns/market.ts", [server.uri]);
  assertEquals((await viewer.status()).code, 0, viewer.stderr);
  const quotes = viewer.stdout.split("\n").filter((l) => /^\d{4}-/.test(l));
  assertEquals(quotes.length, 3);
  for (const q of quotes) assertMatch(q, /^\S+ (SUN|SAP|SEEBEYOND)\s+\d+\.\d{2}$/);
  assert(market.stdout.includes("Market open"));
});

Deno.test("examples/browser/serve.ts serves the page and prints where to open it for the es server given", async () => {
  await using page = runExample("examples/browser/serve.ts", ["0", "http://127.0.0.1:7800/"]);
  const line = await page.waitForLine((l) => l.startsWith("Open "));
  const match = line.match(
    /^Open (http:\/\/127\.0\.0\.1:(\d+))\/\?es=http:\/\/127\.0\.0\.1:7800\/$/,
  );
  assert(match !== null, line);
  await page.waitForLine((l) => l.includes(`--allow-origin ${match[1]}`));
  const response = await fetch(`${match[1]}/`);
  assertMatch(await response.text(), /<script type="module">/);
  const missing = await fetch(`${match[1]}/nope`);
  await missing.body?.cancel();
  assertEquals(missing.status, 404);
});
