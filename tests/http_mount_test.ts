/**
 * The HTTP side mounted in the user's own `Deno.serve`, through the public
 * entries only (`lib/http/mod.ts`, `lib/server/mod.ts`, `lib/client/mod.ts`):
 * its routes next to the user's, `/ws` on Deno's WebSocket, the monitoring
 * guard.
 */

import { assert, assertEquals, assertMatch } from "./_assert.ts";
import { waitUntil } from "./_helpers.ts";
import { connect } from "../lib/client/mod.ts";
import { createHandler } from "../lib/http/mod.ts";
import { type EventServerOptions, startEventServer } from "../lib/server/mod.ts";
import { CLIENT_JS } from "../lib/http/_generated/client_bundle.ts";

/** An event server without HTTP of its own, and a `Deno.serve` with one route of its own. */
async function mounted(options: EventServerOptions = {}) {
  const server = await startEventServer({
    port: 0,
    httpPort: false,
    nameServer: "none",
    ...options,
  });
  const es = createHandler(server.httpHost);
  const http = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    (request, info) =>
      new URL(request.url).pathname === "/hello"
        ? new Response("my own route\n")
        : es(request, info),
  );
  return {
    server,
    base: `http://127.0.0.1:${http.addr.port}`,
    async [Symbol.asyncDispose]() {
      await http.shutdown();
      await server.close();
    },
  };
}

Deno.test("createHandler() in Deno.serve answers /healthz and /client.js next to the app's own routes", async () => {
  await using app = await mounted();
  assertEquals(app.server.httpPort, undefined);

  const health = await fetch(`${app.base}/healthz`);
  assertEquals([health.status, await health.text()], [200, "ok\n"]);

  const js = await fetch(`${app.base}/client.js`);
  assertEquals(js.status, 200);
  assertMatch(js.headers.get("content-type")!, /^text\/javascript/);
  assertEquals(await js.text(), CLIENT_JS);

  const own = await fetch(`${app.base}/hello`);
  assertEquals(await own.text(), "my own route\n");
  const missing = await fetch(`${app.base}/nope`);
  assertEquals([missing.status, await missing.text()], [404, "Not found: /nope\n"]);

  const page = await fetch(`${app.base}/`);
  assertMatch(await page.text(), /<title>es dashboard<\/title>/);
  const metrics = await fetch(`${app.base}/metrics`);
  assertMatch(await metrics.text(), /^es_connections 0$/m);
});

Deno.test("createHandler() in Deno.serve carries the protocol over /ws, both ways with a TCP client", async () => {
  await using app = await mounted();
  await using browserLike = await connect({ esURI: `ws://${app.base.slice("http://".length)}` });
  await using tcp = await connect({ esURI: app.server.uri });
  const fromTcp = await browserLike.subscribe("mounted.in");
  const fromWs = await tcp.subscribe("mounted.out");

  await tcp.publish("mounted.in", { over: "tcp" });
  await browserLike.publish("mounted.out", { over: "ws" });
  const inbound = fromTcp[Symbol.asyncIterator]();
  const outbound = fromWs[Symbol.asyncIterator]();
  assertEquals((await inbound.next()).value?.msg, { over: "tcp" });
  assertEquals((await outbound.next()).value?.msg, { over: "ws" });

  const stats = await app.server.stats();
  assertEquals(stats.connections, 2);
  assert(
    stats.subscribers.some((s) => /^ws 127\.0\.0\.1:\d+$/.test(s.remote)),
    JSON.stringify(stats.subscribers.map((s) => s.remote)),
  );
  await browserLike.close();
  await waitUntil(async () => (await app.server.stats()).connections === 1, 5_000, "ws to end");
});

Deno.test("createHandler() in Deno.serve guards /stats with the monitoring token, /healthz stays open", async () => {
  await using app = await mounted({ monitorToken: "s3cret" });
  const refused = await fetch(`${app.base}/stats`);
  await refused.body?.cancel();
  assertEquals(refused.status, 401);
  const allowed = await fetch(`${app.base}/stats`, {
    headers: { authorization: "Bearer s3cret" },
  });
  assertEquals((await allowed.json()).uri, app.server.uri);
  const health = await fetch(`${app.base}/healthz`);
  assertEquals([health.status, await health.text()], [200, "ok\n"]);
});
