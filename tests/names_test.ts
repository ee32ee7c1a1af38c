import { assert, assertEquals, assertMatch, assertRejects } from "./_assert.ts";
import { EsProcess, runEs, spawnServe, waitUntil } from "./_helpers.ts";
import { NameRegistry } from "../lib/names/registry.ts";
import { locateNameServer, startNameServer } from "../lib/names/mod.ts";
import { connect, EVENTSERVER_NAME, NamingError, ProtocolError } from "../lib/client/mod.ts";
import { Publisher, Subscriber } from "../lib/client/mod.ts";
import type { Event } from "../lib/client/mod.ts";

/** Starts `es ns -p 0` and waits for its banner. */
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

/** Whether the name server at `nsURI` resolves the event server's name. */
async function isRegistered(nsURI: string): Promise<boolean> {
  await using ns = await locateNameServer({ nsURI });
  try {
    await ns.resolve(EVENTSERVER_NAME);
    return true;
  } catch (error) {
    if (error instanceof NamingError) return false;
    throw error;
  }
}

Deno.test("NameRegistry registers, resolves, lists by prefix and drops an owner's names", async (t) => {
  const registry = new NameRegistry();
  registry.register(1, "a.one", "es://h:1");
  registry.register(1, "a.two", "es://h:2");
  registry.register(2, "b.one", "es://h:3");
  await t.step("resolve", () => assertEquals(registry.resolve("a.two"), "es://h:2"));
  await t.step("list by prefix, sorted", () => {
    assertEquals(registry.list("a."), {
      names: { "a.one": "es://h:1", "a.two": "es://h:2" },
      next: null,
    });
    assertEquals(Object.keys(registry.list().names), ["a.one", "a.two", "b.one"]);
  });
  await t.step("another owner cannot take a held name without replace", () => {
    let error: unknown;
    try {
      registry.register(2, "a.one", "es://x:9");
    } catch (e) {
      error = e;
    }
    assertMatch((error as Error).message, /"a\.one" is already registered to es:\/\/h:1/);
    registry.register(1, "a.one", "es://h:11"); // the owner may update its own entry
    registry.register(2, "a.one", "es://x:9", true);
    assertEquals(registry.resolve("a.one"), "es://x:9");
  });
  await t.step("dropOwner removes only that owner's entries", () => {
    assertEquals(registry.dropOwner(1), ["a.one", "a.two"]);
    assertEquals(registry.list().names, { "a.one": "es://x:9", "b.one": "es://h:3" });
  });
  await t.step("unknown names", () => {
    assert(!registry.unregister(1, "nope"));
    let error: unknown;
    try {
      registry.resolve("nope");
    } catch (e) {
      error = e;
    }
    assertMatch((error as Error).message, /Unknown name "nope"/);
  });
});

Deno.test("NameServerProxy: register, resolve, list, unregister and ping on a name server", async () => {
  await using server = await startNameServer({ port: 0 });
  assertMatch(server.uri, /^ns:\/\/127\.0\.0\.1:\d+$/);
  assert(server.port > 0);
  await using ns = await locateNameServer({ nsURI: server.uri });
  await ns.ping();
  await ns.register("svc.alpha", "es://127.0.0.1:1111");
  await ns.register("svc.beta", "es://127.0.0.1:2222");
  await ns.register("other", "es://127.0.0.1:3333");
  assertEquals(await ns.resolve("svc.alpha"), "es://127.0.0.1:1111");
  assertEquals(await ns.list("svc."), {
    "svc.alpha": "es://127.0.0.1:1111",
    "svc.beta": "es://127.0.0.1:2222",
  });
  await ns.unregister("svc.alpha");
  await ns.unregister("never.registered");
  await assertRejects(() => ns.resolve("svc.alpha"), NamingError);
  assertEquals(Object.keys(await ns.list()), ["other", "svc.beta"]);
});

Deno.test("a registration vanishes when the connection that made it closes", async () => {
  await using server = await startNameServer({ port: 0 });
  await using reader = await locateNameServer({ nsURI: server.uri });
  const owner = await locateNameServer({ nsURI: server.uri });
  await owner.register("temp", "es://127.0.0.1:1");
  assertEquals(await reader.resolve("temp"), "es://127.0.0.1:1");
  await owner.close();
  await waitUntil(async () => Object.keys(await reader.list()).length === 0, 5000, "entry removal");
  await assertRejects(() => reader.resolve("temp"), NamingError);
});

Deno.test("a name held by a live connection is refused to another unless replace", async () => {
  await using server = await startNameServer({ port: 0 });
  await using first = await locateNameServer({ nsURI: server.uri });
  await using second = await locateNameServer({ nsURI: server.uri });
  await first.register("svc", "es://127.0.0.1:1");
  await assertRejects(
    () => second.register("svc", "es://127.0.0.1:2"),
    (e: unknown) =>
      e instanceof NamingError && /already registered to es:\/\/127\.0\.0\.1:1/.test(e.message),
  );
  await second.register("svc", "es://127.0.0.1:2", { replace: true });
  assertEquals(await first.resolve("svc"), "es://127.0.0.1:2");
  // The replaced owner closing does not remove the new owner's entry.
  await first.close();
  await new Promise((r) => setTimeout(r, 100));
  assertEquals(await second.resolve("svc"), "es://127.0.0.1:2");
});

Deno.test("a name server refuses publish and subscribe with a clear error", async () => {
  await using server = await startNameServer({ port: 0 });
  await using client = await connect({ esURI: `es://127.0.0.1:${server.port}` });
  await assertRejects(
    () => client.subscribe("news"),
    (e: unknown) => e instanceof ProtocolError && /this is a name server/.test(e.message),
  );
});

Deno.test("a client given only nsURI finds the event server that es serve embeds", async () => {
  await using server = await spawnServe(["--ns-port", "0", "--no-http"]);
  assertMatch(server.nsURI ?? "", /^ns:\/\/127\.0\.0\.1:\d+$/);
  const nsLine = server.stdoutLines.findIndex((l) => l.startsWith("NS="));
  const uriLine = server.stdoutLines.findIndex((l) => l.startsWith("URI="));
  assert(uriLine >= 0 && nsLine > uriLine);
  const nsURI = server.nsURI!;
  const received = Promise.withResolvers<Event>();
  class Catcher extends Subscriber {
    override event(event: Event): void {
      received.resolve(event);
      this.abort();
    }
  }
  const catcher = new Catcher({ nsURI });
  await catcher.subscribe("names.test");
  const listening = catcher.listen();
  await using publisher = new Publisher({ nsURI });
  await publisher.publish("names.test", { hello: "by name" });
  await publisher.flush();
  assertEquals((await received.promise).msg, { hello: "by name" });
  await listening;
});

Deno.test("es ns + es serve --ns: the entry lives while the server runs, and vanishes on SIGTERM or SIGKILL", async (t) => {
  await using ns = await spawnNs();
  assertMatch(ns.uri, /^ns:\/\/127\.0\.0\.1:\d+$/);
  for (const signal of ["SIGTERM", "SIGKILL"] as const) {
    await t.step(signal, async () => {
      const server = await spawnServe(["--ns", ns.uri, "--no-http"]);
      try {
        assertEquals(server.nsURI, ns.uri);
        await using proxy = await locateNameServer({ nsURI: ns.uri });
        assertEquals(await proxy.resolve(EVENTSERVER_NAME), server.uri);
        const resolved = await runEs(["ns", "resolve", EVENTSERVER_NAME, "--ns", ns.uri]);
        assertEquals(resolved.code, 0, resolved.stderr);
        assertEquals(resolved.stdout.trim(), server.uri);
        server.kill(signal);
        await server.status();
        // After SIGTERM the server unregisters; after SIGKILL its dropped connection does it.
        await waitUntil(async () => !(await isRegistered(ns.uri)), 10_000, "the entry to vanish");
        await assertRejects(() => proxy.resolve(EVENTSERVER_NAME), NamingError);
        const after = await runEs(["publish", "--ns", ns.uri, "x", "1"]);
        assertEquals(after.code, 1);
        assertMatch(after.stderr, /Cannot find the event server: the name server at .* knows no/);
      } finally {
        await server[Symbol.asyncDispose]();
      }
    });
  }
});

Deno.test("a second event server on a held name exits non-zero; --replace takes the name over", async () => {
  await using first = await spawnServe(["--ns-port", "0", "--no-http"]);
  const nsURI = first.nsURI!;
  const second = await runEs(["serve", "-p", "0", "--no-http", "--ns", nsURI]);
  assertEquals(second.code, 1);
  assert(!second.stdout.includes("Event Server started."), second.stdout);
  assertMatch(second.stderr, /":EventService" is already registered to es:\/\/127\.0\.0\.1:\d+/);
  assertMatch(second.stderr, /--replace/);

  // The embedded name server's port taken by the first server's: the second registers there.
  const port = nsURI.split(":").pop()!;
  const third = await runEs(["serve", "-p", "0", "--no-http", "--ns-port", port]);
  assertEquals(third.code, 1);
  assertMatch(third.stderr, /already registered/);

  await using replacer = await spawnServe(["--no-http", "--ns", nsURI, "--replace"]);
  await using proxy = await locateNameServer({ nsURI });
  assertEquals(await proxy.resolve(EVENTSERVER_NAME), replacer.uri);
});

Deno.test("es ns list and es ns resolve print names; an unknown name exits 1", async () => {
  await using ns = await spawnNs();
  await using proxy = await locateNameServer({ nsURI: ns.uri });
  await proxy.register("Weather.Station", "es://127.0.0.1:1234");
  await proxy.register("Weather.Radar", "es://127.0.0.1:5678");
  await proxy.register("Other", "es://127.0.0.1:9999");

  const all = await runEs(["ns", "list", "--ns", ns.uri]);
  assertEquals(all.code, 0, all.stderr);
  assertEquals(all.stdout.trim().split("\n"), [
    "Other            es://127.0.0.1:9999",
    "Weather.Radar    es://127.0.0.1:5678",
    "Weather.Station  es://127.0.0.1:1234",
  ]);
  const prefixed = await runEs(["ns", "list", "Weather.", "--json"], { env: { ES_NS: ns.uri } });
  assertEquals(prefixed.code, 0, prefixed.stderr);
  assertEquals(JSON.parse(prefixed.stdout), {
    "Weather.Radar": "es://127.0.0.1:5678",
    "Weather.Station": "es://127.0.0.1:1234",
  });
  const resolved = await runEs(["ns", "resolve", "Weather.Radar", "--ns", ns.uri]);
  assertEquals(resolved.stdout.trim(), "es://127.0.0.1:5678");
  const unknown = await runEs(["ns", "resolve", "Nope", "--ns", ns.uri]);
  assertEquals(unknown.code, 1);
  assertMatch(unknown.stderr, /Unknown name "Nope"/);
  const noServer = await runEs(["ns", "list", "--ns", "ns://127.0.0.1:1"]);
  assertEquals(noServer.code, 1);
  assertMatch(noServer.stderr, /No name server at ns:\/\/127\.0\.0\.1:1/);
  const bad = await runEs(["ns", "resolve"]);
  assertEquals(bad.code, 2);
});

Deno.test("es ns stops with exit code 0 on SIGINT", async () => {
  const ns = await spawnNs();
  ns.kill("SIGINT");
  assertEquals((await ns.status()).code, 0);
});
