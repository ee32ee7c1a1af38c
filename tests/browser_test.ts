/**
 * Browser tests in headless Chromium (Debian's /usr/bin/chromium, driven by
 * playwright-core): the dashboard and the example page. They are ignored when
 * Chromium is not installed (`.ci/install-deps` installs it).
 */

import fs from "node:fs";
import type { Browser } from "npm:playwright-core@1.65.1";
import { assert, assertEquals } from "./_assert.ts";
import { startTestServer, waitUntil } from "./_helpers.ts";
import { connect } from "../lib/client/mod.ts";
import { serveExample } from "../examples/browser/serve.ts";

const CHROMIUM = "/usr/bin/chromium";
const HAS_CHROMIUM = (() => {
  try {
    return Deno.statSync(CHROMIUM).isFile;
  } catch {
    return false;
  }
})();
const SKIPPED = HAS_CHROMIUM ? "" : ` (ignored: ${CHROMIUM} not found; run .ci/install-deps)`;

/** Set to a path (e.g. docs/dashboard.png) to save a screenshot of the dashboard. */
const SCREENSHOT = Deno.env.get("ES_DASHBOARD_SCREENSHOT");

/**
 * Loads playwright-core. At load time it probes /proc/sys/fs/binfmt_misc/WSLInterop, a
 * path Deno opens only under --allow-all; the test task grants less, so that probe (and
 * only it) answers "absent" here.
 */
async function loadPlaywright(): Promise<typeof import("npm:playwright-core@1.65.1")> {
  const existsSync = fs.existsSync;
  fs.existsSync = (path) => String(path).startsWith("/proc/sys/") ? false : existsSync(path);
  try {
    return await import("npm:playwright-core@1.65.1");
  } finally {
    fs.existsSync = existsSync;
  }
}

async function launch(): Promise<Browser> {
  const { chromium } = await loadPlaywright();
  return await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
    ],
    timeout: 30_000,
  });
}

const browserTest = { ignore: !HAS_CHROMIUM, sanitizeOps: false, sanitizeResources: false };

Deno.test({
  ...browserTest,
  name:
    `the dashboard shows subjects with their rates, subscribers with policy, queue and groups, the cluster line, and a live tail${SKIPPED}`,
  async fn() {
    await using server = await startTestServer({ httpPort: 0, queueSize: 100 });
    const base = `http://127.0.0.1:${server.httpPort}/`;
    await using publisher = await connect({ esURI: server.uri });
    await using watcher = await connect({ esURI: server.uri });
    const watched = await watcher.subscribeMatch("^sensor\\.");
    // Never read (one event in its buffer): its queue of 5 fills, and drop-old keeps it full.
    await using grouped = await connect({
      esURI: server.uri,
      overflow: "drop-old",
      queueSize: 5,
      bufferSize: 1,
    });
    await grouped.subscribe("sensor.humidity", { group: "loggers" });
    const browser = await launch();
    let publishing = true;
    const feed = (async () => {
      let i = 0;
      while (publishing) {
        await publisher.publish("sensor.temperature", { celsius: 20 + (i % 7) / 2, i });
        if (i % 3 === 0) await publisher.publish("sensor.humidity", { percent: 40 + (i % 5) });
        if (i % 10 === 0) await publisher.publish("orders.created", { id: i, total: 9.5 });
        i++;
        // A rate that rises and falls, so that the chart has a shape.
        await new Promise((r) => setTimeout(r, 12 + 18 * (1 + Math.sin(i / 40))));
      }
    })();
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 760 } });
      await page.goto(base);
      const rateCell = 'tr[data-subject="sensor.temperature"] td.rate';
      // Page-side expressions are strings: this file is checked without the DOM library.
      await page.waitForFunction(
        `Number(document.querySelector(${JSON.stringify(rateCell)})?.textContent ?? "0") > 0`,
        undefined,
        { timeout: 15_000 },
      );
      const rate = Number(await page.textContent(rateCell));
      assert(rate > 0, `rate shown: ${rate}`);
      assertEquals(await page.textContent("#status"), "live");
      const subscribers = await page.textContent("#subscribers tbody");
      assert(subscribers?.includes("/^sensor\\./"), `subscribers table: ${subscribers}`);
      const row = 'tr:has(td.groups:text-is("loggers"))';
      assertEquals(await page.textContent(`${row} td.policy`), "drop-old");
      // It never reads: its queue fills and stays full.
      await page.waitForSelector(`#subscribers ${row} td.fill:text-is("5/5")`, {
        timeout: 15_000,
      });
      assertEquals(await page.isHidden("#cluster"), true, "no cluster line without a cluster");

      // A server in a cluster: the same page shows its line (the stats are the real ones, plus a cluster).
      const clustered = await browser.newPage();
      await clustered.route("**/stats", async (route) => {
        const cluster = { connected: true, peers: ["es://10.0.0.2:7766"], dropped: 7, sent: 3 };
        await route.fulfill({
          contentType: "application/json",
          body: JSON.stringify({ ...await server.stats(), cluster }),
        });
      });
      await clustered.goto(base);
      await clustered.waitForSelector("#cluster:not([hidden])", { timeout: 15_000 });
      const line = await clustered.textContent("#cluster");
      assert(
        line?.includes("connected") && line.includes("1 peer (es://10.0.0.2:7766)") &&
          line.includes("cross-node drops 7"),
        `cluster line: ${line}`,
      );
      await clustered.close();

      // The live tail subscribes through /client.js over /ws.
      await page.fill("#tail-what", "^sensor\\.temp");
      await page.click("#tail-go");
      await page.waitForFunction(
        `(document.getElementById("tail-log")?.childElementCount ?? 0) >= 3`,
        undefined,
        { timeout: 15_000 },
      );
      const log = await page.textContent("#tail-log");
      assert(log?.includes("sensor.temperature"), `tail: ${log}`);
      assert(!log?.includes("orders.created"), `tail shows what it should not: ${log}`);
      await waitUntil(
        async () => (await server.stats()).subscribers.some((s) => s.remote.startsWith("ws ")),
        10_000,
        "the tail's WebSocket subscriber in the stats",
      );

      if (SCREENSHOT) {
        await page.waitForTimeout(20_000); // a chart with some history
        await page.screenshot({ path: SCREENSHOT, fullPage: true });
      }
    } finally {
      publishing = false;
      await feed;
      await browser.close();
      await watched.unsubscribe();
    }
  },
});

Deno.test({
  ...browserTest,
  name: `the example page receives an event published from Deno and publishes back${SKIPPED}`,
  async fn() {
    const example = serveExample(0);
    // The page comes from another origin than the es server's, which must allow it.
    await using server = await startTestServer({
      httpPort: 0,
      allowOrigins: [`http://127.0.0.1:${example.addr.port}`],
    });
    const browser = await launch();
    await using deno = await connect({ esURI: server.uri });
    const fromBrowser = await deno.subscribe("chat");
    try {
      const page = await browser.newPage();
      const esHttp = `http://127.0.0.1:${server.httpPort}/`;
      await page.goto(
        `http://127.0.0.1:${example.addr.port}/?es=${encodeURIComponent(esHttp)}`,
      );
      await page.waitForSelector("body[data-ready], body[data-error]", { timeout: 15_000 });
      assertEquals(await page.getAttribute("body", "data-error"), null);

      await deno.publish("chat", { text: "hello from Deno", from: "deno" });
      await page.waitForSelector("#events li:has-text('hello from Deno')", { timeout: 10_000 });

      await page.fill("#text", "hello from the browser");
      await page.click("#send button");
      for await (const event of fromBrowser) {
        const msg = event.msg as { text: string; from: string };
        if (msg.from !== "browser") continue;
        assertEquals(msg, { text: "hello from the browser", from: "browser" });
        break;
      }
    } finally {
      await browser.close();
      await example.shutdown();
    }
  },
});
