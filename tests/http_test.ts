/** The HTTP side: routes and content types, `/stats`, `/ws` as a transport, lifecycle. */

import { assert, assertEquals, assertMatch, assertRejects } from "./_assert.ts";
import { delay, spawnServe, startTestServer, waitUntil } from "./_helpers.ts";
import { connect } from "../lib/client/mod.ts";
import { AuthenticationError } from "../lib/errors.ts";
import type { ServerStats } from "../lib/node/stats.ts";
import { webSocketOrigin } from "../lib/client/browser_default.ts";
import { CLIENT_JS } from "../lib/http/_generated/client_bundle.ts";

async function get(url: string, init?: RequestInit): Promise<{ response: Response; body: string }> {
  const response = await fetch(url, init);
  return { response, body: await response.text() };
}

Deno.test("GET routes answer with the content types of SPEC §5, 404 and 405 otherwise", async () => {
  await using server = await startTestServer({ httpPort: 0 });
  assert(server.httpPort !== undefined && server.httpPort > 0);
  const base = `http://127.0.0.1:${server.httpPort}`;

  const page = await get(`${base}/`);
  assertEquals(page.response.status, 200);
  assertMatch(page.response.headers.get("content-type")!, /^text\/html/);
  assertMatch(page.body, /<title>es dashboard<\/title>/);

  const js = await get(`${base}/client.js`);
  assertEquals(js.response.status, 200);
  assertMatch(js.response.headers.get("content-type")!, /^(text|application)\/javascript/);
  assertEquals(js.response.headers.get("x-typescript-types"), "/client.d.ts");
  assertEquals(js.response.headers.get("access-control-allow-origin"), "*");
  assertMatch(js.body, /export \{[^}]*\bSubscriber\b/);
  assertEquals(js.body, CLIENT_JS);
  // fetch asks for gzip and unpacks it; without gzip the module comes as it is.
  assertEquals(js.response.headers.get("content-encoding"), "gzip");
  const plain = await get(`${base}/client.js`, { headers: { "accept-encoding": "identity" } });
  assertEquals(plain.response.headers.get("content-encoding"), null);
  assertEquals(plain.body, CLIENT_JS);

  const dts = await get(`${base}/client.d.ts`);
  assertEquals(dts.response.status, 200);
  assertMatch(dts.body, /export declare class Subscriber\b/);

  const stats = await get(`${base}/stats`);
  assertEquals(stats.response.status, 200);
  assertEquals(stats.response.headers.get("content-type"), "application/json");
  assertEquals(JSON.parse(stats.body).uri, server.uri);

  const health = await get(`${base}/healthz`);
  assertEquals([health.response.status, health.body], [200, "ok\n"]);

  const head = await fetch(`${base}/healthz`, { method: "HEAD" });
  await head.body?.cancel();
  assertEquals(head.status, 200);

  const missing = await get(`${base}/nope`);
  assertEquals(missing.response.status, 404);
  assertEquals((await get(`${base}/client.js/x`)).response.status, 404);

  const post = await get(`${base}/stats`, { method: "POST", body: "x" });
  assertEquals(post.response.status, 405);
  assertEquals(post.response.headers.get("allow"), "GET, HEAD");

  const noUpgrade = await get(`${base}/ws`);
  assertEquals(noUpgrade.response.status, 426);
});

Deno.test("GET /stats reports uptime, connections, subscribers with queues, subjects with rates, patterns and totals", async () => {
  await using server = await startTestServer({ httpPort: 0 });
  await using client = await connect({ esURI: server.uri });
  const sub = await client.subscribe("stats.a");
  const subMatch = await client.subscribeMatch("^stats\\.");
  for (let i = 0; i < 5; i++) await client.publish(["stats.a", "stats.b"], i);
  await client.flush();
  let stats: ServerStats | undefined;
  await waitUntil(
    async () => {
      const response = await fetch(`http://127.0.0.1:${server.httpPort}/stats`);
      stats = await response.json() as ServerStats;
      return stats.subjects.some((s) => s.subject === "stats.a" && s.rate > 0) &&
        stats.subscribers[0]?.delivered === 10;
    },
    10_000,
    "stats with rates and deliveries",
  );
  assert(stats);
  assert(stats.uptimeMs >= 0);
  assertEquals(stats.connections, 1);
  assertEquals(stats.exactSubjects, 1);
  assertEquals(stats.patterns, 1);
  assertEquals(stats.totals.events, 10);
  const subscriber = stats.subscribers[0]!;
  assertEquals(subscriber.subjects, ["stats.a"]);
  assertEquals(subscriber.patterns, ["^stats\\."]);
  assertEquals([subscriber.queueDepth, subscriber.dropped], [0, 0]);
  assertEquals(stats.subjects.find((s) => s.subject === "stats.b")?.published, 5);
  await sub.unsubscribe();
  await subMatch.unsubscribe();
});

Deno.test("a client over /ws publishes and subscribes like a TCP client, in order", async () => {
  await using server = await startTestServer({ httpPort: 0 });
  const wsURI = `ws://127.0.0.1:${server.httpPort}`;
  await using wsClient = await connect({ esURI: wsURI });
  await using tcpClient = await connect({ esURI: server.uri });
  const overWs = await wsClient.subscribeMatch("^order\\.");
  const overTcp = await tcpClient.subscribe("back");
  const stats = await server.stats();
  assert(stats.subscribers.some((s) => s.remote.startsWith("ws ") && s.patterns.length === 1));
  const count = 2_000;
  for (let i = 0; i < count; i++) await tcpClient.publish("order.x", { i, pad: "x".repeat(100) });
  await tcpClient.flush();
  let next = 0;
  for await (const event of overWs) {
    assertEquals(event.subject, "order.x");
    assertEquals((event.msg as { i: number }).i, next++);
    if (next === count) break;
  }
  await wsClient.publish("back", "from ws");
  for await (const event of overTcp) {
    assertEquals(event.msg, "from ws");
    break;
  }
});

Deno.test("a /ws connection outlives its connect timeout", async () => {
  await using server = await startTestServer({ httpPort: 0 });
  await using client = await connect({
    esURI: `ws://127.0.0.1:${server.httpPort}`,
    connectTimeoutMs: 200,
  });
  const sub = await client.subscribe("later");
  await delay(500);
  await client.publish("later", "still here");
  for await (const event of sub) {
    assertEquals(event.msg, "still here");
    break;
  }
});

Deno.test("/ws speaks binary frames only: a text message ends the connection with 1003", async () => {
  await using server = await startTestServer({ httpPort: 0 });
  const socket = new WebSocket(`ws://127.0.0.1:${server.httpPort}/ws`);
  const closed = new Promise<CloseEvent>((resolve) => socket.onclose = resolve);
  socket.onopen = () => socket.send("hello?");
  const event = await closed;
  assertEquals(event.code, 1003);
  await waitUntil(() => server.connections.size === 0, 5_000, "the connection to end");
});

Deno.test("/ws applies the passphrase handshake", async () => {
  await using server = await startTestServer({ httpPort: 0, ident: "s3cret" });
  const wsURI = `ws://127.0.0.1:${server.httpPort}`;
  await assertRejects(
    async () => {
      await using client = await connect({ esURI: wsURI, ident: "wrong" });
      await client.publish("x", 1);
    },
    AuthenticationError,
  );
  await using client = await connect({ esURI: wsURI, ident: "s3cret" });
  const sub = await client.subscribe("auth.ok");
  await client.publish("auth.ok", 42);
  for await (const event of sub) {
    assertEquals(event.msg, 42);
    break;
  }
});

Deno.test("a slow /ws subscriber with a dropping queue loses events and /stats counts them", async () => {
  await using server = await startTestServer({ httpPort: 0, queueSize: 10, blockQueue: false });
  await using slow = await connect({ esURI: `ws://127.0.0.1:${server.httpPort}`, bufferSize: 1 });
  // A small client buffer and nobody reading: the server queue fills up.
  const sub = await slow.subscribe("flood");
  await using pub = await connect({ esURI: server.uri });
  const big = "y".repeat(16 * 1024);
  await waitUntil(
    async () => {
      for (let i = 0; i < 200; i++) await pub.publish("flood", big);
      await pub.flush();
      return (await server.stats()).totals.dropped > 0;
    },
    20_000,
    "dropped events",
  );
  const stats = await server.stats();
  const subscriber = stats.subscribers.find((s) => s.subjects.includes("flood"))!;
  assert(subscriber.dropped > 0);
  assert(subscriber.remote.startsWith("ws "));
  await sub.unsubscribe();
});

Deno.test("httpPort false turns HTTP off; close() stops HTTP even with a WebSocket client open", async () => {
  await using off = await startTestServer();
  assertEquals(off.httpPort, undefined);

  const server = await startTestServer({ httpPort: 0 });
  const base = `http://127.0.0.1:${server.httpPort}`;
  const client = await connect({ esURI: `ws://127.0.0.1:${server.httpPort}`, reconnect: false });
  const sub = await client.subscribe("bye");
  const ended = (async () => {
    for await (const _ of sub) { /* nothing is published */ }
  })().catch((error) => error);
  const started = Date.now();
  await server.close();
  assert(Date.now() - started < 5_000, "close() took too long");
  await assertRejects(() => fetch(`${base}/healthz`));
  await ended;
  await client.close();
});

Deno.test("a taken HTTP port fails startEventServer and frees the TCP port", async () => {
  await using first = await startTestServer({ httpPort: 0 });
  const probe = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const tcpPort = probe.addr.port;
  probe.close();
  await assertRejects(
    () => startTestServer({ port: tcpPort, httpPort: first.httpPort! }),
    Deno.errors.AddrInUse,
  );
  // The event server's TCP port was released when HTTP failed.
  const again = Deno.listen({ hostname: "127.0.0.1", port: tcpPort });
  again.close();
});

Deno.test("es serve prints HTTP= with the real port, and nothing with --no-http", async () => {
  await using server = await spawnServe(["-N", "--http-port", "0"]);
  assertMatch(server.httpURL!, /^http:\/\/127\.0\.0\.1:\d+\/$/);
  assert(!server.httpURL!.endsWith(":0/"));
  const health = await fetch(new URL("healthz", server.httpURL));
  assertEquals(await health.text(), "ok\n");
  await using quiet = await spawnServe(["-N", "--no-http"]);
  assertEquals(quiet.httpURL, undefined);
});

Deno.test("browser clients default to the WebSocket of the origin that served the client", () => {
  assertEquals(webSocketOrigin("http://example.org:7767/client.js"), "ws://example.org:7767");
  assertEquals(webSocketOrigin("https://example.org/client.js"), "wss://example.org:443");
  assertEquals(webSocketOrigin("http://[::1]:8000/"), "ws://[::1]:8000");
  assertEquals(webSocketOrigin("http://example.org/"), "ws://example.org:80");
  assertEquals(webSocketOrigin("file:///x/client.js"), undefined);
  assertEquals(webSocketOrigin(undefined), undefined);
});
