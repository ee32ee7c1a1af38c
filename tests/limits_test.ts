import { assert, assertEquals, assertMatch, assertRejects, assertThrows } from "./_assert.ts";
import { delay, runEs, startTestServer, waitUntil } from "./_helpers.ts";
import { connect, ConnectionClosedError, ProtocolError } from "../lib/client/mod.ts";
import { ErrorCode } from "../lib/protocol/constants.ts";
import { serveOptions } from "../cli/serve.ts";

Deno.test("connections past maxConnections are refused with a reason the client surfaces", async () => {
  await using server = await startTestServer({ maxConnections: 2 });
  const first = await connect({ esURI: server.uri });
  await using second = await connect({ esURI: server.uri });
  await assertRejects(() => connect({ esURI: server.uri }), (e: unknown) => {
    assert(e instanceof ConnectionClosedError, String(e));
    assertEquals(e.code, ErrorCode.LIMIT);
    assertMatch(e.message, /refused the connection: Too many connections: the server's limit is 2/);
    return true;
  });
  assertEquals((await server.stats()).reliability?.refusedConnections, 1);
  await first.close();
  await waitUntil(() => server.connections.size === 1, 5000, "the first connection to end");
  await using third = await connect({ esURI: server.uri });
  await third.flush();
  await second.flush();
});

Deno.test("subscriptions past maxSubscriptions are refused with ERR LIMIT, all or nothing", async () => {
  await using server = await startTestServer({ maxSubscriptions: 3 });
  await using client = await connect({ esURI: server.uri });
  await client.subscribe(["a", "b"]);
  await assertRejects(() => client.subscribeMatch(["^x", "^y"]), (e: unknown) => {
    assert(e instanceof ProtocolError);
    assertEquals(e.code, ErrorCode.LIMIT);
    assertMatch(e.message, /4 subscriptions would exceed this connection's limit of 3/);
    return true;
  });
  assertEquals(server.node.router.index.patternCount, 0);
  await client.subscribeMatch("^x"); // The third fits.
  const stats = await server.stats();
  assertEquals(stats.reliability?.refusedSubscriptions, 1);
  assertEquals(stats.exactSubjects + stats.patterns, 3);
});

/** Publishes `count` events of 64 KiB. */
async function flood(
  publisher: { publish(s: string, m: unknown): Promise<void> },
  count: number,
): Promise<void> {
  const payload = new Uint8Array(64 * 1024);
  for (let i = 0; i < count; i++) await publisher.publish("big", payload);
}

Deno.test("block mode with slowConsumerMs drops a frozen subscriber with BYE SLOW_CONSUMER and frees publishers", async () => {
  await using server = await startTestServer({ queueSize: 4, slowConsumerMs: 200 });
  await using frozen = await connect({ esURI: server.uri, reconnect: false, bufferSize: 1 });
  // A subscription nobody reads, with a one-event buffer: the server holds the rest.
  const stuck = await frozen.subscribe("big");
  await using publisher = await connect({ esURI: server.uri });
  // Enough to fill the socket buffers and the queue many times over.
  await flood(publisher, 400);
  await publisher.flush(); // Completes only because the frozen subscriber was dropped.
  await waitUntil(async () => (await server.stats()).reliability?.slowConsumers === 1, 5000);
  await waitUntil(() => server.connections.size === 1, 5000, "the slow consumer to be gone");
  await stuck.unsubscribe().catch(() => {});
});

Deno.test("block mode without slowConsumerMs keeps the publisher waiting (the original's semantics)", async () => {
  await using server = await startTestServer({ queueSize: 4 });
  const frozen = await connect({ esURI: server.uri, bufferSize: 1 });
  await frozen.subscribe("big");
  const publisher = await connect({ esURI: server.uri });
  let done = false;
  const flushed = flood(publisher, 400).then(() => publisher.flush()).then(
    () => done = true,
    () => done = true,
  );
  await delay(600);
  assert(!done, "the publisher should still be held by the full queue");
  assertEquals((await server.stats()).reliability?.slowConsumers, 0);
  await frozen.close();
  await flushed;
  await publisher.close();
});

Deno.test("es serve takes --max-connections, --max-subscriptions and --slow-consumer-ms", () => {
  const options = serveOptions([
    "--max-connections",
    "10",
    "--max-subscriptions",
    "20",
    "--slow-consumer-ms",
    "3000",
  ]);
  assertEquals(options?.maxConnections, 10);
  assertEquals(options?.maxSubscriptions, 20);
  assertEquals(options?.slowConsumerMs, 3000);
  assertThrows(() => serveOptions(["--max-connections", "0"]), /--max-connections/);
  assertThrows(() => serveOptions(["--slow-consumer-ms", "soon"]), /--slow-consumer-ms/);
});

Deno.test("es serve --help lists the limit, slow-consumer and TLS flags; client commands list --ca-cert", async () => {
  const serve = await runEs(["serve", "--help"]);
  assertEquals(serve.code, 0);
  for (
    const flag of ["--max-connections", "--max-subscriptions", "--slow-consumer-ms", "--tls-cert"]
  ) {
    assertMatch(serve.stdout, new RegExp(flag));
  }
  const publish = await runEs(["publish", "--help"]);
  assertMatch(publish.stdout, /--ca-cert PATH/);
});

Deno.test("drop mode: a frozen subscriber loses its own events (counted) and holds no publisher", async () => {
  await using server = await startTestServer({ queueSize: 4, blockQueue: false });
  await using frozen = await connect({ esURI: server.uri, reconnect: false, bufferSize: 1 });
  await frozen.subscribe("big");
  await using publisher = await connect({ esURI: server.uri });
  await flood(publisher, 400);
  await publisher.flush(); // Never held: drop mode.
  const stats = await server.stats();
  const frozenStats = stats.subscribers.find((s) => s.subjects.includes("big"));
  assert(frozenStats && frozenStats.dropped > 0, "the frozen subscriber's events are dropped");
  assertEquals(stats.totals.dropped, frozenStats.dropped);
  assertEquals(stats.reliability?.slowConsumers, 0);
});
