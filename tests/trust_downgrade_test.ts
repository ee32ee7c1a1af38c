/**
 * SPEC §8, authentication both ways: a client that has a passphrase refuses a
 * server that does not prove it, whether that server claims to need no
 * passphrase (a downgrade) or answers READY with a wrong proof. Both client
 * APIs, the name server proxy and the `es` commands, against a forging server.
 */

import { assert, assertEquals, assertMatch, assertRejects } from "./_assert.ts";
import { runEs } from "./_helpers.ts";
import { ForgingServer } from "./_fake_server.ts";
import { AuthenticationError, connect, Publisher, Subscriber } from "../lib/client/mod.ts";
import { locateNameServer } from "../lib/names/mod.ts";

const IDENT = "correct horse battery staple";

/** The lies a server can tell a client with a passphrase, and what the client says. */
const FORGERIES = [
  {
    label: 'HELLO says "no passphrase required"',
    options: { authRequired: false, readyProof: new Uint8Array(0) },
    why: /does not ask for the passphrase/,
    connects: 0,
  },
  {
    label: "READY carries a wrong proof",
    options: { authRequired: true, readyProof: crypto.getRandomValues(new Uint8Array(32)) },
    why: /could not prove it knows the passphrase/,
    connects: 1,
  },
  {
    label: "READY carries no proof",
    options: { authRequired: true, readyProof: new Uint8Array(0) },
    why: /could not prove it knows the passphrase/,
    connects: 1,
  },
];

const refusal = (why: RegExp) => (error: unknown) =>
  error instanceof AuthenticationError && why.test(error.message);

class Quiet extends Subscriber {
  override event(): void {}
}

for (const forgery of FORGERIES) {
  Deno.test(`a client with a passphrase refuses a server whose ${forgery.label}`, async (t) => {
    await using fake = new ForgingServer(forgery.options);
    const options = { esURI: fake.uri, ident: IDENT, reconnect: false };
    const isRefusal = refusal(forgery.why);

    await t.step("Publisher: publish and flush", async () => {
      await using pub = new Publisher(options);
      await assertRejects(() => pub.publish("forged", 1), isRefusal);
      await using pub2 = new Publisher(options);
      await assertRejects(() => pub2.flush(), isRefusal);
    });
    await t.step("Subscriber: subscribe and listen", async () => {
      await using sub = new Quiet(options);
      await assertRejects(() => sub.subscribe("forged"), isRefusal);
      await using sub2 = new Quiet(options);
      await assertRejects(() => sub2.listen(), isRefusal);
    });
    await t.step("connect()", async () => {
      await assertRejects(() => connect(options), isRefusal);
    });
    await t.step("locateNameServer()", async () => {
      const nsURI = fake.uri.replace(/^es:/, "ns:");
      await assertRejects(() => locateNameServer({ nsURI, ident: IDENT }), isRefusal);
    });
    // A client that refuses at HELLO never sends its proof, which the fake could attack offline.
    assertEquals(fake.connects, forgery.connects * 6);
    assertEquals(fake.requests, 0, "no client went on talking to the forging server");
  });
}

Deno.test("es publish, es subscribe and es stats with -i refuse a server that does not prove the passphrase", async () => {
  for (const forgery of FORGERIES.slice(0, 2)) {
    await using fake = new ForgingServer(forgery.options);
    for (
      const args of [
        ["publish", "--es", fake.uri, "-i", IDENT, "forged", "1"],
        ["subscribe", "--es", fake.uri, "-i", IDENT, "forged", "--count", "1"],
        ["stats", "--es", fake.uri, "-i", IDENT],
      ]
    ) {
      const result = await runEs(args);
      assertEquals(result.code, 1, `${args[0]}: ${result.stderr}`);
      assertMatch(result.stderr, forgery.why);
    }
    // The passphrase from the environment too.
    const byEnv = await runEs(["publish", "--es", fake.uri, "forged", "1"], {
      env: { ES_IDENT: IDENT },
    });
    assertEquals(byEnv.code, 1, byEnv.stderr);
    assertMatch(byEnv.stderr, forgery.why);
    assert(fake.requests === 0, "no command went on talking to the forging server");
  }
});
