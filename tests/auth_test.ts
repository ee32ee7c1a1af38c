import { assert, assertEquals, assertMatch, assertRejects } from "./_assert.ts";
import { EsProcess, runEs, spawnServe, waitUntil } from "./_helpers.ts";
import { startEventServer } from "../lib/server/mod.ts";
import { locateNameServer, startNameServer } from "../lib/names/mod.ts";
import {
  AuthenticationError,
  connect,
  EVENTSERVER_NAME,
  Publisher,
  Subscriber,
} from "../lib/client/mod.ts";

const IDENT = "correct horse battery staple";

const isAuthError = (pattern: RegExp) => (e: unknown) =>
  e instanceof AuthenticationError && pattern.test(e.message);

Deno.test("a missing or wrong passphrase gives AuthenticationError from the first operation", async (t) => {
  await using server = await startEventServer({
    port: 0,
    httpPort: false,
    nsPort: 0,
    ident: IDENT,
  });
  const esURI = server.uri;
  const nsURI = server.nsURI!;
  for (const [label, ident] of [["no passphrase", undefined], ["wrong passphrase", "guess"]]) {
    const options = ident === undefined ? {} : { ident };
    const why = ident === undefined ? /requires a passphrase/ : /refused the passphrase/;
    await t.step(`${label}: publish and flush`, async () => {
      await using pub = new Publisher({ esURI, ...options });
      await assertRejects(() => pub.publish("x", 1), isAuthError(why));
      await using pub2 = new Publisher({ esURI, ...options });
      await assertRejects(() => pub2.flush(), isAuthError(why));
    });
    await t.step(`${label}: subscribe and listen`, async () => {
      class S extends Subscriber {
        override event(): void {}
      }
      await using sub = new S({ esURI, ...options });
      await assertRejects(() => sub.subscribe("x"), isAuthError(why));
      await using sub2 = new S({ esURI, ...options });
      await assertRejects(() => sub2.listen(), isAuthError(why));
    });
    await t.step(`${label}: locateNameServer and lookup by name`, async () => {
      await assertRejects(() => locateNameServer({ nsURI, ...options }), isAuthError(why));
      await using pub = new Publisher({ nsURI, ...options });
      await assertRejects(() => pub.publish("x", 1), isAuthError(why));
    });
  }
  await t.step("the right passphrase works, found by name", async () => {
    await using client = await connect({ nsURI, ident: IDENT });
    const sub = await client.subscribe("auth.ok");
    await client.publish("auth.ok", "welcome");
    for await (const event of sub) {
      assertEquals(event.msg, "welcome");
      break;
    }
    await using ns = await locateNameServer({ nsURI, ident: IDENT });
    assertEquals(await ns.resolve(EVENTSERVER_NAME), esURI);
  });
});

Deno.test("a standalone name server with a passphrase refuses strangers", async () => {
  await using server = await startNameServer({ port: 0, ident: IDENT });
  await assertRejects(() => locateNameServer({ nsURI: server.uri }), AuthenticationError);
  await assertRejects(
    () => locateNameServer({ nsURI: server.uri, ident: "nope" }),
    AuthenticationError,
  );
  await using ns = await locateNameServer({ nsURI: server.uri, ident: IDENT });
  await ns.ping();
});

Deno.test("es serve -i: clients without the passphrase fail, the refusal is logged with the peer", async () => {
  await using server = await spawnServe(["--ns-port", "0", "--no-http", "-i", IDENT]);
  assert(server.stdoutLines.some((l) => l.includes("auth=on")));
  const none = await runEs(["publish", "--es", server.uri, "x", "1"]);
  assertEquals(none.code, 1);
  assertMatch(none.stderr, /requires a passphrase/);
  const wrong = await runEs(["publish", "--ns", server.nsURI!, "-i", "wrong", "x", "1"]);
  assertEquals(wrong.code, 1);
  assertMatch(wrong.stderr, /refused the passphrase/);
  await waitUntil(
    () =>
      /Refused "?127\.0\.0\.1:\d+"?: "?no passphrase given/.test(server.stderr) &&
      /Refused "?127\.0\.0\.1:\d+"?: "?wrong passphrase/.test(server.stderr),
    10_000,
    "the server to log both refusals",
  );

  // The right passphrase, by flag and by environment, through the name server.
  await using sub = new EsProcess([
    "subscribe",
    "--ns",
    server.nsURI!,
    "-i",
    IDENT,
    "auth.cli",
    "--json",
    "--count",
    "1",
  ]);
  await waitUntil(() => sub.stderr.includes("Subscribed"), 15_000, "the subscriber");
  const right = await runEs(["publish", "--ns", server.nsURI!, "auth.cli", '"hi"'], {
    env: { ES_IDENT: IDENT },
  });
  assertEquals(right.code, 0, right.stderr);
  assertEquals((await sub.status()).code, 0, sub.stderr);
  assertEquals(JSON.parse(sub.stdoutLines[0]!).msg, "hi");
});

Deno.test("es ns -i refuses es ns list without the passphrase", async () => {
  await using ns = new EsProcess(["ns", "-p", "0", "-i", IDENT]);
  const line = await ns.waitForLine((l) => l.startsWith("URI="));
  const uri = line.slice(4).trim();
  const refused = await runEs(["ns", "list", "--ns", uri]);
  assertEquals(refused.code, 1);
  assertMatch(refused.stderr, /requires a passphrase/);
  const ok = await runEs(["ns", "list", "--ns", uri, "-i", IDENT]);
  assertEquals(ok.code, 0, ok.stderr);
});

Deno.test("servers warn when they listen beyond loopback without a passphrase", async () => {
  await using server = await spawnServe(["-n", "0.0.0.0", "--ns-port", "0", "--no-http"]);
  await waitUntil(
    () => (server.stderr.match(/beyond loopback, without a passphrase/g) ?? []).length >= 2,
    10_000,
    "warnings for the event server and its name server",
  );
  await using quiet = await spawnServe(["--ns-port", "0", "--no-http"]);
  assert(!quiet.stderr.includes("beyond loopback"), quiet.stderr);
  await using ns = new EsProcess(["ns", "-n", "0.0.0.0", "-p", "0"]);
  await ns.waitForLine((l) => l === "Name Server started.");
  await waitUntil(() => ns.stderr.includes("beyond loopback"), 10_000, "the name server warning");
});
