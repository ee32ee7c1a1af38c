/**
 * Liveness of the listeners (issue 12, item 1): `es serve` under `ulimit -n
 * 256` runs out of descriptors, tells `/healthz` so, and accepts again on
 * every port once they are free; incomplete HTTP requests time out.
 */

import { assert, assertEquals, assertMatch } from "./_assert.ts";
import { delay, spawnServe, waitUntil } from "./_helpers.ts";
import { connect } from "../lib/client/mod.ts";
import { locateNameServer } from "../lib/names/mod.ts";

function hostPort(uri: string): { hostname: string; port: number } {
  const url = new URL(uri.replace(/^[a-z+]+:/, "http:"));
  return { hostname: url.hostname, port: Number(url.port) };
}

/** One HTTP request on a fresh connection; the raw answer, or "" when none came in time. */
async function rawGet(httpURL: string, path: string, timeoutMs = 3000): Promise<string> {
  let conn: Deno.TcpConn;
  try {
    conn = await Deno.connect(hostPort(httpURL));
  } catch {
    return "";
  }
  const timer = setTimeout(() => conn.close(), timeoutMs);
  let text = "";
  try {
    await conn.write(
      new TextEncoder().encode(`GET ${path} HTTP/1.1\r\nhost: es\r\nconnection: close\r\n\r\n`),
    );
    const buffer = new Uint8Array(4096);
    for (let n = await conn.read(buffer); n !== null; n = await conn.read(buffer)) {
      text += new TextDecoder().decode(buffer.subarray(0, n));
    }
  } catch {
    // Closed by the timer.
  } finally {
    clearTimeout(timer);
    try {
      conn.close();
    } catch { /* closed */ }
  }
  return text;
}

Deno.test("out of descriptors (ulimit -n 256, 306 idle connections): /healthz says 503, then the event server and the name server accept again", async () => {
  await using server = await spawnServe(["--ns-port", "0", "--http-port", "0"], undefined, {
    limitFiles: 256,
  });
  const idle: Deno.TcpConn[] = [];
  const pending: Deno.TcpConn[] = [];
  try {
    // More than the process may open: the rest wait in the kernel's backlog.
    for (let i = 0; i < 306; i++) idle.push(await Deno.connect(hostPort(server.uri)));
    // Name server clients too, so that its accept loop meets the limit. Several: a descriptor
    // freed for a moment (each /healthz request below takes one and gives it back) may let
    // the first one in.
    for (let i = 0; i < 4; i++) pending.push(await Deno.connect(hostPort(server.nsURI!)));
    // The event server's accept fails first; the name server's once it meets its pending clients.
    const bothFailing = /unhealthy: the event server, the name server (and the HTTP side )?cannot/;
    let health = "";
    await waitUntil(
      async () => {
        health = await rawGet(server.httpURL!, "/healthz");
        return bothFailing.test(health);
      },
      8_000,
      "/healthz to report the failing listeners",
    );
    assertMatch(health, /^HTTP\/1\.1 503/);
    // Before: "Accept loop failed: Too many open files", and no accept ever again.
    assertMatch(
      server.stderr,
      /The "?event server"? cannot accept connections: .*(Too many open files|os error 24)/,
    );
  } finally {
    for (const c of [...idle, ...pending]) c.close();
  }
  // Descriptors free again: every listener accepts.
  await waitUntil(
    async () => (await rawGet(server.httpURL!, "/healthz")).startsWith("HTTP/1.1 200"),
    15_000,
    "/healthz to be ok again",
  );
  await using client = await connect({ esURI: server.uri, reconnect: false });
  await client.flush();
  const ns = await locateNameServer({ nsURI: server.nsURI! });
  try {
    assertEquals(await ns.resolve(":EventService"), server.uri);
  } finally {
    await ns.close();
  }
  assertMatch(server.stderr, /The "?event server"? accepts connections again/);
});

Deno.test("an incomplete HTTP request, and an idle HTTP connection, are closed after the header timeout", async () => {
  await using server = await spawnServe([
    "-N",
    "--http-port",
    "0",
    "--http-header-timeout-ms",
    "500",
  ]);
  const started = Date.now();
  const partial = await Deno.connect(hostPort(server.httpURL!));
  const silent = await Deno.connect(hostPort(server.httpURL!));
  await partial.write(new TextEncoder().encode("GET /stats HTTP/1.1\r\nhost: es\r\n"));
  const buffer = new Uint8Array(1024);
  // Before: never closed (Deno.serve has no header timeout).
  assertEquals(await partial.read(buffer), null);
  assertEquals(await silent.read(buffer), null);
  const elapsed = Date.now() - started;
  assert(elapsed >= 400 && elapsed < 5000, `closed after ${elapsed} ms`);
  partial.close();
  silent.close();
  // Complete requests are served as before, kept alive between them.
  const ok = await fetch(new URL("/healthz", server.httpURL));
  assertEquals([ok.status, await ok.text()], [200, "ok\n"]);
  await delay(10);
});
