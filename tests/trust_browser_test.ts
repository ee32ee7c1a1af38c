/**
 * SPEC §8, browsers, in a real headless Chromium against a real `es serve`:
 * a page from another origin can neither open `/ws` nor read `/stats` unless
 * that origin is allowed, and with a passphrase the dashboard shows nothing
 * until it has proved the passphrase over `/ws`.
 */

import { assert, assertEquals } from "./_assert.ts";
import { spawnServe } from "./_helpers.ts";
import { BROWSER_TEST, launchChromium, SKIPPED } from "./_browser.ts";
import { connect } from "../lib/client/mod.ts";

/** A page that opens the WebSocket `?ws=` and fetches `?stats=`, and records what happened. */
const PROBE_PAGE = `<!doctype html>
<html><body><script>
const params = new URL(location.href).searchParams;
const body = document.body;
const ws = new WebSocket(params.get("ws"));
ws.binaryType = "arraybuffer";
ws.onopen = () => body.dataset.ws = "open";
ws.onmessage = () => body.dataset.hello = "received";
ws.onclose = (e) => body.dataset.closed = String(e.code);
fetch(params.get("stats")).then((r) => r.text()).then(
  (text) => body.dataset.stats = "read " + text.length,
  () => body.dataset.stats = "blocked",
);
</script></body></html>`;

/** Serves the probe page on a port of its own: another origin than the es server's. */
function servePage(): Deno.HttpServer<Deno.NetAddr> {
  return Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    () => new Response(PROBE_PAGE, { headers: { "content-type": "text/html; charset=utf-8" } }),
  );
}

Deno.test({
  ...BROWSER_TEST,
  name:
    `a page from another origin cannot open /ws or read /stats, unless --allow-origin names it${SKIPPED}`,
  async fn() {
    const page = servePage();
    const pageOrigin = `http://127.0.0.1:${page.addr.port}`;
    const browser = await launchChromium();
    try {
      for (const allowed of [false, true]) {
        await using server = await spawnServe([
          "--ns-port",
          "0",
          "--http-port",
          "0",
          ...(allowed ? ["--allow-origin", pageOrigin] : []),
        ]);
        const http = new URL(server.httpURL!);
        const tab = await browser.newPage();
        await tab.goto(
          `${pageOrigin}/?ws=${encodeURIComponent(`ws://${http.host}/ws`)}&stats=${
            encodeURIComponent(`${http.origin}/stats`)
          }`,
        );
        // The page is empty, so "attached" (not visible) is what to wait for.
        const waiting = { timeout: 15_000, state: "attached" } as const;
        await tab.waitForSelector(allowed ? "body[data-hello]" : "body[data-closed]", waiting);
        await tab.waitForSelector("body[data-stats]", waiting);
        const seen = {
          ws: await tab.getAttribute("body", "data-ws"),
          hello: await tab.getAttribute("body", "data-hello"),
          stats: await tab.getAttribute("body", "data-stats"),
        };
        if (allowed) {
          assertEquals([seen.ws, seen.hello], ["open", "received"]);
        } else {
          assertEquals([seen.ws, seen.hello], [null, null], "the foreign page opened /ws");
        }
        // /stats sends no Access-Control-Allow-Origin: no foreign page reads it, allowed or not.
        assertEquals(seen.stats, "blocked");
        await tab.close();
      }
    } finally {
      await browser.close();
      await page.shutdown();
    }
  },
});

Deno.test({
  ...BROWSER_TEST,
  name:
    `with a passphrase the dashboard shows nothing until it proves the passphrase over /ws${SKIPPED}`,
  async fn() {
    const ident = "correct horse battery staple";
    await using server = await spawnServe(["--ns-port", "0", "--http-port", "0", "-i", ident]);
    await using publisher = await connect({ esURI: server.uri, ident });
    await publisher.publish("payroll.secret", { amount: 1 });
    await publisher.flush();
    const browser = await launchChromium();
    try {
      const tab = await browser.newPage();
      await tab.goto(server.httpURL!);
      await tab.waitForFunction(
        `document.getElementById("status")?.textContent === "locked: this server has a passphrase"`,
        undefined,
        { timeout: 15_000 },
      );
      const locked = await tab.content();
      assert(!locked.includes("payroll"), "the locked dashboard shows a subject");
      assert(!locked.includes("127.0.0.1:"), "the locked dashboard shows an address");

      await tab.fill("#auth-ident", "a guess");
      await tab.click("#auth-form button");
      await tab.waitForFunction(
        `document.getElementById("status")?.textContent === "wrong passphrase"`,
        undefined,
        { timeout: 15_000 },
      );
      assert(!(await tab.content()).includes("payroll"));

      await tab.fill("#auth-ident", ident);
      await tab.click("#auth-form button");
      await tab.waitForSelector('tr[data-subject="payroll.secret"]', { timeout: 15_000 });
      assertEquals(await tab.textContent("#status"), "live");
    } finally {
      await browser.close();
    }
  },
});
