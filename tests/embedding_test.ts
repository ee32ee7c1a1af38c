import { assert, assertEquals, assertMatch, assertNotEquals, assertRejects } from "./_assert.ts";
import { startTestServer, waitUntil } from "./_helpers.ts";
import { EventServiceStarter, startEventServer } from "../lib/server/mod.ts";
import { locateNameServer, startNameServer } from "../lib/mod.ts";
import { connect, EVENTSERVER_NAME, NamingError } from "../lib/client/mod.ts";

Deno.test("startEventServer embeds a name server on port 0 and registers itself; close() undoes it", async () => {
  const server = await startEventServer({ port: 0, httpPort: false, nsPort: 0 });
  try {
    assert(server.port > 0);
    assertMatch(server.uri, /^es:\/\/127\.0\.0\.1:\d+$/);
    assertMatch(server.nsURI ?? "", /^ns:\/\/127\.0\.0\.1:\d+$/);
    assertNotEquals(server.nsURI, `ns://127.0.0.1:${server.port}`);
    assertEquals(server.httpPort, undefined);
    await using ns = await locateNameServer({ nsURI: server.nsURI! });
    assertEquals(await ns.resolve(EVENTSERVER_NAME), server.uri);
    await using client = await connect({ nsURI: server.nsURI! });
    await client.flush();
  } finally {
    await server.close();
  }
  // The embedded name server went with it.
  await assertRejects(() => locateNameServer({ nsURI: server.nsURI! }), NamingError);
});

Deno.test('nameServer: "none" registers nowhere, and an ns:// URI registers there', async () => {
  await using none = await startTestServer();
  assertEquals(none.nsURI, undefined);
  await using names = await startNameServer({ port: 0 });
  await using server = await startEventServer({
    port: 0,
    httpPort: false,
    nameServer: names.uri,
  });
  assertEquals(server.nsURI, names.uri);
  assertEquals(names.stats().names, { [EVENTSERVER_NAME]: server.uri });
  await server.close();
  assertEquals(names.stats().names, {}); // close() unregisters before it resolves
});

Deno.test("startEventServer fails with NamingError for a held name unless replace", async () => {
  await using names = await startNameServer({ port: 0 });
  await using first = await startEventServer({ port: 0, httpPort: false, nameServer: names.uri });
  await assertRejects(
    () => startEventServer({ port: 0, httpPort: false, nameServer: names.uri }),
    (e: unknown) =>
      e instanceof NamingError && e.message.includes(first.uri) && /replace/.test(e.message),
  );
  await using second = await startEventServer({
    port: 0,
    httpPort: false,
    nameServer: names.uri,
    replace: true,
  });
  assertEquals(names.stats().names[EVENTSERVER_NAME], second.uri);
  // The replaced server's close() leaves the new owner's entry alone.
  await first.close();
  assertEquals(names.stats().names[EVENTSERVER_NAME], second.uri);
});

Deno.test("startEventServer fails clearly when the external name server is not there", async () => {
  const probe = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const deadPort = probe.addr.port;
  probe.close();
  await assertRejects(
    () => startEventServer({ port: 0, httpPort: false, nameServer: `ns://127.0.0.1:${deadPort}` }),
    (e: unknown) => e instanceof NamingError && /no es name server answers at/.test(e.message),
  );
});

Deno.test("an event server re-registers when its external name server comes back", async () => {
  const names = await startNameServer({ port: 0 });
  const port = names.port;
  await using server = await startEventServer({ port: 0, httpPort: false, nameServer: names.uri });
  await names.close();
  await using again = await startNameServer({ port });
  await waitUntil(
    () => again.stats().names[EVENTSERVER_NAME] === server.uri,
    10_000,
    "re-registration",
  );
});

Deno.test("EventServiceStarter starts, waits, serves and shuts down", async () => {
  const starter = new EventServiceStarter({ port: 0, httpPort: false, nsPort: 0 });
  assertEquals(starter.server, undefined); // the constructor does no I/O
  assertEquals(await starter.waitUntilStarted(20), false);
  const starting = starter.start();
  assert(await starter.waitUntilStarted(10_000));
  await starting;
  await starter.start(); // already running: nothing happens
  const server = starter.server!;
  await using client = await connect({ nsURI: server.nsURI! });
  await client.flush();
  await client.close();
  await starter.shutdown();
  await starter.shutdown();
  assertEquals(starter.server, undefined);
  assertEquals(await starter.waitUntilStarted(20), false);
});

Deno.test("EventServiceStarter reports a failed start", async () => {
  await using taken = await startTestServer();
  await using starter = new EventServiceStarter({
    port: taken.port,
    httpPort: false,
    nameServer: "none",
  });
  const waiting = starter.waitUntilStarted();
  await assertRejects(() => starter.start(), Deno.errors.AddrInUse);
  assertEquals(await waiting, false);
});

Deno.test("EventServiceStarter is AsyncDisposable", async () => {
  let uri: string;
  {
    await using starter = new EventServiceStarter({ port: 0, httpPort: false, nameServer: "none" });
    await starter.start();
    uri = starter.server!.uri;
  }
  const port = Number(uri.split(":").pop());
  const listener = Deno.listen({ hostname: "127.0.0.1", port }); // free again
  listener.close();
});

Deno.test("the embedded name server's port taken by another program fails clearly", async () => {
  const squatter = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const accepting = (async () => {
    for await (const conn of squatter) conn.close(); // not an es name server: hangs up at once
  })();
  try {
    await assertRejects(
      () => startEventServer({ port: 0, httpPort: false, nsPort: squatter.addr.port }),
      (e: unknown) =>
        e instanceof NamingError &&
        /port \d+ is taken by another program: use --ns-port, or -N/.test(e.message),
    );
  } finally {
    squatter.close();
    await accepting.catch(() => {});
  }
});
