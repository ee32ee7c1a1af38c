/**
 * A stopped subscriber must not stall unrelated traffic on any node (issue
 * 12, item 8): `es serve` with two nodes, a subscriber process stopped with
 * SIGSTOP, a publisher held by it, and an unrelated publisher whose
 * subscribers are on both nodes.
 */

import { assert, assertEquals } from "./_assert.ts";
import { delay, EsProcess, type ServeProcess, spawnServe, waitUntil } from "./_helpers.ts";
import { type Client, connect } from "../lib/client/mod.ts";
import { fetchStats } from "../cli/stats.ts";

let probes = 0;

/** A client on node `node` (or not on it, with `away`), found by trying new connections. */
async function clientOn(uri: string, node: number, away = false): Promise<Client> {
  for (let attempt = 0; attempt < 32; attempt++) {
    const client = await connect({ esURI: uri, reconnect: false });
    const marker = `probe.${probes++}`;
    const sub = await client.subscribe(marker);
    const stats = await fetchStats({ esURI: uri, reconnect: false });
    const where = stats.subscribers.find((s) => s.subjects.includes(marker))?.worker ?? 0;
    await sub.unsubscribe();
    if ((where === node) !== away) return client;
    await client.close();
  }
  throw new Error(`No connection landed ${away ? "away from" : "on"} node ${node} in 32 tries`);
}

/** Counts the events of a subscription until the client closes. */
function count(client: Client, subject: string): { n: number; ready: Promise<unknown> } {
  const counter = { n: 0, ready: Promise.resolve() as Promise<unknown> };
  counter.ready = client.subscribe(subject).then((sub) => {
    void (async () => {
      for await (const _ of sub) counter.n++;
    })();
  });
  return counter;
}

async function stuckSubscriber(server: ServeProcess): Promise<{ proc: EsProcess; node: number }> {
  const proc = new EsProcess(["subscribe", "stuck", "--es", server.uri]);
  let node = -1;
  await waitUntil(
    async () => {
      const stats = await fetchStats({ esURI: server.uri, reconnect: false });
      node = stats.subscribers.find((s) => s.subjects.includes("stuck"))?.worker ?? -1;
      return node >= 0;
    },
    15_000,
    "es subscribe to subscribe",
  );
  return { proc, node };
}

Deno.test("a subscriber stopped with SIGSTOP holds only its own publisher: unrelated traffic on both nodes flows and flushes promptly", async () => {
  await using server = await spawnServe([
    "-N",
    "--no-http",
    "--workers",
    "2",
    "--queue-size",
    "10",
  ]);
  const { proc: stuck, node: stuckNode } = await stuckSubscriber(server);
  const clients: Client[] = [];
  try {
    // The held publisher and the unrelated one share a node; one subscriber of the
    // unrelated subject is on the stopped subscriber's node, one on theirs.
    const flooder = await clientOn(server.uri, stuckNode, true);
    const publisher = await clientOn(server.uri, stuckNode, true);
    const farReader = await clientOn(server.uri, stuckNode);
    const nearReader = await clientOn(server.uri, stuckNode, true);
    clients.push(flooder, publisher, farReader, nearReader);
    const far = count(farReader, "free");
    const near = count(nearReader, "free");
    await Promise.all([far.ready, near.ready]);

    stuck.kill("SIGSTOP");
    let flooded = 0;
    let flooding = true;
    const big = new Uint8Array(16 * 1024);
    const flooding$ = (async () => {
      while (flooding) {
        await flooder.publish("stuck", big);
        flooded++;
      }
    })().catch(() => {});
    // Held once the stopped process's socket and queue are full.
    let last = -1;
    await waitUntil(
      async () => {
        const still = flooded === last;
        last = flooded;
        await delay(300);
        return still && flooded > 0;
      },
      20_000,
      "the flooder to be held",
    );

    const total = 3000;
    const payload = new Uint8Array(1024);
    let slowestFlushMs = 0;
    const started = performance.now();
    for (let i = 1; i <= total; i++) {
      await publisher.publish("free", payload);
      if (i % 100 === 0) {
        const before = performance.now();
        await publisher.flush();
        slowestFlushMs = Math.max(slowestFlushMs, performance.now() - before);
      }
    }
    const publishMs = performance.now() - started;
    await waitUntil(() => far.n >= total && near.n >= total, 10_000, "both readers to catch up");
    const heldAt = flooded;

    // Before: 0 events/s for the whole stop and a 9.7 s flush (the link to the
    // stopped subscriber's node waited for room in its queue).
    assert(slowestFlushMs < 1000, `a flush took ${slowestFlushMs.toFixed(0)} ms`);
    assert(publishMs < 8000, `3,000 events took ${publishMs.toFixed(0)} ms`);
    assertEquals([far.n, near.n], [total, total]);
    assertEquals(flooded, heldAt, "the flooder was released while the subscriber was stopped");

    stuck.kill("SIGCONT");
    flooding = false;
    await stuck[Symbol.asyncDispose]();
    await flooding$;
  } finally {
    stuck.kill("SIGCONT");
    await stuck[Symbol.asyncDispose]();
    for (const c of clients) await c.close();
  }
});
