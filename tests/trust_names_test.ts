/**
 * SPEC §8, names: the event server keeps its name (taken over by a connection
 * that then leaves, it is back; nobody else may remove it), and names are
 * printable and bounded in length and number, with `NS_LIST` paged so that
 * `es ns list` shows them all. Through real `es serve` and `es ns` processes,
 * with the name server proxy as the attacker's client.
 */

import { assert, assertEquals, assertMatch, assertRejects } from "./_assert.ts";
import { EsProcess, runEs, spawnServe, waitUntil } from "./_helpers.ts";
import { sampleResident } from "./_rss.ts";
import { EVENTSERVER_NAME, NamingError, ProtocolError } from "../lib/client/mod.ts";
import { locateNameServer, startNameServer } from "../lib/names/mod.ts";
import {
  MAX_ENTRIES,
  MAX_ENTRIES_PER_OWNER,
  MAX_NAME_LENGTH,
  MAX_URI_LENGTH,
} from "../lib/names/registry.ts";
import { ErrorCode } from "../lib/protocol/constants.ts";
import { startEventServer } from "../lib/server/mod.ts";

const ROGUE = "es://127.0.0.1:1";

/** Starts `es ns -p 0 ARGS` and waits for its banner. */
async function spawnNs(args: string[] = []): Promise<EsProcess & { uri: string }> {
  const child = new EsProcess(["ns", "-p", "0", ...args]);
  try {
    await child.waitForLine((l) => l === "Name Server started.");
  } catch (error) {
    await child[Symbol.asyncDispose]();
    throw error;
  }
  const uri = child.stdoutLines.find((l) => l.startsWith("URI="))!.slice(4).trim();
  return Object.assign(child, { uri });
}

async function resolveName(nsURI: string): Promise<string> {
  await using ns = await locateNameServer({ nsURI });
  return await ns.resolve(EVENTSERVER_NAME).catch((e: Error) => `(${e.message})`);
}

Deno.test("the event server keeps its name: a takeover that leaves gives it back, others cannot unregister it", async (t) => {
  for (const mode of ["embedded", "es ns"] as const) {
    await t.step(mode, async () => {
      await using names = mode === "es ns" ? await spawnNs() : undefined;
      await using server = await spawnServe(
        names ? ["--no-http", "--ns", names.uri] : ["--no-http", "--ns-port", "0"],
      );
      const nsURI = server.nsURI!;
      assertEquals(await resolveName(nsURI), server.uri);

      // A rogue takes the name over, then goes away.
      const rogue = await locateNameServer({ nsURI });
      await rogue.register(EVENTSERVER_NAME, ROGUE, { replace: true });
      assertEquals(await resolveName(nsURI), ROGUE);
      await rogue.close();
      await waitUntil(async () => await resolveName(nsURI) === server.uri, 10_000, "the name back");

      // A plain unregister from another connection is refused; the name stays.
      await using other = await locateNameServer({ nsURI });
      await assertRejects(
        () => other.unregister(EVENTSERVER_NAME),
        (e: unknown) =>
          e instanceof NamingError &&
          e.message.includes(`registered to ${server.uri} by another live connection`),
      );
      assertEquals(await resolveName(nsURI), server.uri);

      // Clients that find the server by name reach the real one.
      const published = await runEs(["publish", "--ns", nsURI, "kept.name", "1"]);
      assertEquals(published.code, 0, published.stderr);
    });
  }
});

Deno.test("an event server registers again within a heartbeat when its entry vanishes from the name server", async () => {
  await using names = await startNameServer({ port: 0 });
  await using server = await startEventServer({
    port: 0,
    httpPort: false,
    nameServer: names.uri,
    heartbeatMs: 200,
  });
  // The registry loses the entry while the registering connection lives (no es name server
  // does that, but one that kept no claims under a taken-over name would).
  for (const session of names.sessions) names.registry.dropOwner(session.id);
  await assertRejects(async () => {
    await using ns = await locateNameServer({ nsURI: names.uri });
    await ns.resolve(EVENTSERVER_NAME);
  }, NamingError);
  await waitUntil(
    () => names.stats().names[EVENTSERVER_NAME] === server.uri,
    10_000,
    "the entry back",
  );
});

Deno.test("es ns refuses unprintable and over-long names and URIs", async () => {
  await using names = await spawnNs();
  await using ns = await locateNameServer({ nsURI: names.uri });
  const refusals: [string, string, RegExp][] = [
    ["a".repeat(MAX_NAME_LENGTH + 1), "es://h:1", /must be a string of 1 to 256 characters/],
    ["", "es://h:1", /must be a string of 1 to 256 characters/],
    ["evil\u202eecivreS", "es://h:1", /control and invisible formatting characters/],
    ["line\nbreak", "es://h:1", /control and invisible formatting characters/],
    ["zero\u200bwidth", "es://h:1", /control and invisible formatting characters/],
    ["ok", "es://h:1/" + "x".repeat(MAX_URI_LENGTH), /URI .* must be a string of 1 to 512/],
    ["ok", "es://h:1\u0000", /control and invisible formatting characters/],
  ];
  for (const [name, uri, why] of refusals) {
    const error = await assertRejects(() => ns.register(name, uri), ProtocolError) as ProtocolError;
    assertEquals(error.code, ErrorCode.PROTOCOL);
    assertMatch(error.message, why);
  }
  await ns.register("Printable.Ünïcødé.名前", "es://h:1");
  assertEquals(await ns.resolve("Printable.Ünïcødé.名前"), "es://h:1");
});

Deno.test(`es ns holds at most ${MAX_ENTRIES} names, ${MAX_ENTRIES_PER_OWNER} per connection, in bounded memory; es ns list shows them all`, async () => {
  await using names = await spawnNs();
  const proxies = await Promise.all(
    Array.from({ length: 11 }, () => locateNameServer({ nsURI: names.uri })),
  );
  try {
    const warm = sampleResident(names.child.pid);
    const before = await warm.first;
    // The longest names and URIs allowed, to bound the worst case.
    const name = (owner: number, i: number) =>
      `${String(owner).padStart(2, "0")}.${String(i).padStart(4, "0")}.`.padEnd(
        MAX_NAME_LENGTH,
        "n",
      );
    const uri = (i: number) => `es://host-${i}:7766/`.padEnd(MAX_URI_LENGTH, "u");
    for (let owner = 0; owner < 10; owner++) {
      const proxy = proxies[owner]!;
      const batch = [];
      for (let i = 0; i < MAX_ENTRIES_PER_OWNER; i++) {
        batch.push(proxy.register(name(owner, i), uri(i)));
      }
      await Promise.all(batch);
      if (owner === 0) {
        const error = await assertRejects(
          () => proxy.register("one.too.many", ROGUE),
          ProtocolError,
        ) as ProtocolError;
        assertEquals(error.code, ErrorCode.LIMIT);
        assertMatch(error.message, /this connection holds 1000 names/);
      }
    }
    const full = await assertRejects(
      () => proxies[10]!.register("full", ROGUE),
      ProtocolError,
    ) as ProtocolError;
    assertEquals(full.code, ErrorCode.LIMIT);
    assertMatch(full.message, /the registry holds 10000 entries/);
    const grown = (await warm.stop()) - before;
    // About 15 MiB of strings; 50,000 shorter names took 243 MiB before names were bounded.
    assert(grown < 64, `${MAX_ENTRIES} names of the longest kind grew es ns by ${grown} MiB`);

    const listed = await runEs(["ns", "list", "--ns", names.uri], { timeoutMs: 60_000 });
    assertEquals(listed.code, 0, listed.stderr);
    assertEquals(listed.stdout.split("\n").length, MAX_ENTRIES);
    const json = await runEs(["ns", "list", "05.", "--json", "--ns", names.uri]);
    assertEquals(Object.keys(JSON.parse(json.stdout)).length, MAX_ENTRIES_PER_OWNER);
  } finally {
    await Promise.all(proxies.map((p) => p.close()));
  }
});
