/**
 * An empty passphrase is a mistake, never "no passphrase": clients refuse it
 * with `AuthenticationError` (the CLI with one line and exit code 1), servers
 * refuse to start with it (`es serve -i ""`: one line, exit code 2). An empty
 * `ES_IDENT` is as good as unset (docs/CLIENT.md).
 */

import { assert, assertEquals, assertMatch, assertRejects } from "./_assert.ts";
import { runEs, spawnServe } from "./_helpers.ts";
import { AuthenticationError, connect, Publisher, Subscriber } from "../lib/client/mod.ts";
import { startEventServer } from "../lib/server/event_server.ts";
import { startNameServer } from "../lib/names/name_server.ts";

/** stderr as lines, without the trailing newline. */
function lines(stderr: string): string[] {
  return stderr.split("\n").filter((l) => l !== "");
}

Deno.test("A client with an empty passphrase gets AuthenticationError from es serve -i secret, by URI and by name", async () => {
  await using server = await spawnServe(["--ns-port", "0", "--no-http", "-i", "secret"]);
  await assertRejects(() => connect({ esURI: server.uri, ident: "" }), AuthenticationError);
  await assertRejects(() => connect({ nsURI: server.nsURI!, ident: "" }), AuthenticationError);
  await using pub = new Publisher({ esURI: server.uri, ident: "" });
  await assertRejects(() => pub.publish("x", 1), AuthenticationError);
  await using sub = new Subscriber({ esURI: server.uri, ident: "" });
  await assertRejects(() => sub.subscribe("x"), AuthenticationError);
  // The right one still works.
  await using client = await connect({ esURI: server.uri, ident: "secret" });
  await client.flush();
});

Deno.test("es publish -i '' exits 1 with one line on stderr", async () => {
  await using server = await spawnServe(["-N", "--no-http", "-i", "secret"]);
  for (const args of [["publish", "-i", ""], ["subscribe", "-i", ""], ["stats", "-i", ""]]) {
    const target = args[0] === "stats" ? [] : ["x", ...(args[0] === "publish" ? ["1"] : [])];
    const r = await runEs([...args, "--es", server.uri, ...target]);
    assertEquals(r.code, 1, `es ${args[0]}: ${r.stderr}`);
    assertEquals(lines(r.stderr).length, 1, r.stderr);
    assertMatch(r.stderr, /^es: .*passphrase is empty/);
  }
});

Deno.test("es serve -i '' and es ns -i '' refuse to start: one line, exit 2", async () => {
  for (
    const args of [["serve", "-p", "0", "-N", "--no-http", "-i", ""], ["ns", "-p", "0", "-i", ""]]
  ) {
    const r = await runEs(args);
    assertEquals(r.code, 2, r.stderr);
    assertEquals(lines(r.stderr).length, 1, r.stderr);
    assertMatch(r.stderr, /^es: .*passphrase is empty/);
    assert(!r.stdout.includes("started"), r.stdout);
  }
});

Deno.test("An empty ES_IDENT counts as unset: es serve runs without a passphrase and es publish reaches it", async () => {
  await using server = await spawnServe(["-N", "--no-http"], { ES_IDENT: "" });
  const r = await runEs(["publish", "--es", server.uri, "x", "1"], { env: { ES_IDENT: "" } });
  assertEquals(r.code, 0, r.stderr);
});

Deno.test("es serve --help says an empty passphrase is refused", async () => {
  const r = await runEs(["serve", "--help"]);
  assertEquals(r.code, 0);
  assertMatch(r.stdout, /-i, --ident PASSPHRASE[^\n]*\n[^\n]*empty/);
});

Deno.test("startEventServer() and startNameServer() refuse an empty passphrase with RangeError", async () => {
  await assertRejects(
    () => startEventServer({ port: 0, httpPort: false, nameServer: "none", ident: "" }),
    RangeError,
    "empty",
  );
  await assertRejects(() => startNameServer({ port: 0, ident: "" }), RangeError, "empty");
});
