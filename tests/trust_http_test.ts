/**
 * SPEC §8 on the HTTP side of a real `es serve`: `/ws` upgrades for programs
 * (no `Origin`) and for pages of the server's own origin or of allowed ones
 * only (raw requests with chosen `Origin` and `Host` headers); `/stats` sends
 * no `Access-Control-Allow-Origin`; with a passphrase the monitoring routes
 * answer only the monitoring token, while `/healthz`, `/client.js` and the
 * dashboard page stay open.
 */

import { assert, assertEquals, assertMatch } from "./_assert.ts";
import { runEs, spawnServe } from "./_helpers.ts";
import { connect } from "../lib/client/mod.ts";

/** Sends a WebSocket upgrade for `/ws` with these headers over a raw socket; returns the status. */
async function upgradeStatus(
  http: URL,
  headers: { origin?: string; host?: string },
): Promise<number> {
  const conn = await Deno.connect({ hostname: http.hostname, port: Number(http.port) });
  try {
    const lines = [
      "GET /ws HTTP/1.1",
      `Host: ${headers.host ?? http.host}`,
      "Upgrade: websocket",
      "Connection: Upgrade",
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
      "Sec-WebSocket-Version: 13",
      ...(headers.origin !== undefined ? [`Origin: ${headers.origin}`] : []),
      "",
      "",
    ];
    await conn.write(new TextEncoder().encode(lines.join("\r\n")));
    const buffer = new Uint8Array(4096);
    let text = "";
    while (!text.includes("\r\n")) {
      const n = await conn.read(buffer);
      if (n === null) break;
      text += new TextDecoder().decode(buffer.subarray(0, n));
    }
    return Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0);
  } finally {
    conn.close();
  }
}

Deno.test("es serve: /ws upgrades programs and pages of its own origin only, unless --allow-origin", async (t) => {
  await t.step("default: the server's own origin", async () => {
    await using server = await spawnServe(["--ns-port", "0", "--http-port", "0"]);
    const http = new URL(server.httpURL!);
    const own = `http://127.0.0.1:${http.port}`;
    const cases: [string, { origin?: string; host?: string }, number][] = [
      ["no Origin (a program)", {}, 101],
      ["its own origin", { origin: own }, 101],
      ["its own origin as localhost", {
        origin: `http://localhost:${http.port}`,
        host: `localhost:${http.port}`,
      }, 101],
      ["a foreign site", { origin: "http://evil.example" }, 403],
      ["another port on the same host", { origin: "http://127.0.0.1:8000" }, 403],
      ["a page claiming the host it was sent to, by a DNS name (rebinding)", {
        origin: `http://rebind.example:${http.port}`,
        host: `rebind.example:${http.port}`,
      }, 403],
      ['a sandboxed page ("null")', { origin: "null" }, 403],
    ];
    for (const [label, headers, status] of cases) {
      assertEquals(await upgradeStatus(http, headers), status, label);
    }
  });
  await t.step("--allow-origin adds origins; '*' allows every page", async () => {
    await using server = await spawnServe([
      "--ns-port",
      "0",
      "--http-port",
      "0",
      "--allow-origin",
      "http://evil.example",
      "--allow-origin",
      "https://app.example:8443",
    ]);
    const http = new URL(server.httpURL!);
    assertEquals(await upgradeStatus(http, { origin: "http://evil.example" }), 101);
    assertEquals(await upgradeStatus(http, { origin: "https://app.example:8443" }), 101);
    assertEquals(await upgradeStatus(http, { origin: `http://127.0.0.1:${http.port}` }), 101);
    assertEquals(await upgradeStatus(http, { origin: "http://other.example" }), 403);
    await using open = await spawnServe(["-N", "--http-port", "0", "--allow-origin", "*"]);
    assertEquals(await upgradeStatus(new URL(open.httpURL!), { origin: "http://x.example" }), 101);
  });
});

Deno.test("es serve --allow-origin refuses what is not an origin, exit code 2", async () => {
  for (const bad of ["evil.example", "http://evil.example/path", "http://u@evil.example"]) {
    const result = await runEs(["serve", "-p", "0", "-N", "--no-http", "--allow-origin", bad]);
    assertEquals(result.code, 2, result.stderr);
    assertMatch(result.stderr, /Invalid value for --allow-origin: Invalid origin/);
  }
});

Deno.test("es serve: /stats never answers other origins with Access-Control-Allow-Origin", async () => {
  await using server = await spawnServe(["-N", "--http-port", "0"]);
  const response = await fetch(`${server.httpURL}stats`, {
    headers: { origin: "http://evil.example" },
  });
  assertEquals(response.status, 200, "without a passphrase /stats stays open");
  await response.body?.cancel();
  assertEquals(response.headers.get("access-control-allow-origin"), null);
});

Deno.test("es serve -i: /stats needs the monitoring token; /healthz, /client.js and / stay open", async (t) => {
  const ident = "correct horse battery staple";
  const token = "mon-7f3a9c1e";
  for (const how of ["--monitor-token", "ES_MONITOR_TOKEN", "no token"] as const) {
    await t.step(how, async () => {
      await using server = await spawnServe(
        ["-N", "--http-port", "0", "-i", ident, ...(how === "--monitor-token" ? [how, token] : [])],
        how === "ES_MONITOR_TOKEN" ? { ES_MONITOR_TOKEN: token } : undefined,
      );
      await using client = await connect({ esURI: server.uri, ident, reconnect: false });
      const sub = await client.subscribe("payroll.secret");
      await client.publish("payroll.secret", 1);
      for await (const _ of sub) break;

      const stats = (headers: HeadersInit = {}) => fetch(`${server.httpURL}stats`, { headers });
      for (const headers of [{}, { authorization: "Bearer wrong" }, { authorization: ident }]) {
        const refused = await stats(headers);
        const body = await refused.text();
        assertEquals(refused.status, 401, JSON.stringify(headers));
        assertEquals(refused.headers.get("www-authenticate"), 'Bearer realm="es monitoring"');
        assert(!body.includes("payroll") && !body.includes("127.0.0.1"), body);
      }
      const allowed = await stats({ authorization: `Bearer ${token}` });
      const body = await allowed.text();
      assertEquals(allowed.status, how === "no token" ? 401 : 200, body);
      if (how !== "no token") assert(body.includes("payroll.secret"));
      else assertMatch(body, /es stats -i/);

      for (const path of ["healthz", "client.js", ""]) {
        const open = await fetch(`${server.httpURL}${path}`);
        const text = await open.text();
        assertEquals(open.status, 200, path);
        assert(!text.includes("payroll"), path);
      }
      // Over the protocol, proving the passphrase, the counters are there.
      assert(JSON.stringify(await client.stats()).includes("payroll.secret"));
    });
  }
});
