/**
 * Dispatch on Workers: the guarantees that must hold across worker threads as
 * within one (order, back-pressure, drop counting, subscriptions in force
 * before the reply, clean shutdown).
 */

import { ClientConnection } from "../lib/client/connection.ts";
import { encodeMessage } from "../lib/protocol/codec.ts";
import { CodecTag } from "../lib/protocol/constants.ts";

/** Publishes `message` (MessagePack) on a bare connection. */
function publishValue(
  conn: ClientConnection,
  subjects: string | string[],
  message: unknown,
): Promise<void> | undefined {
  return conn.publish(subjects, CodecTag.MSGPACK, encodeMessage(message));
}
import { toEventOrSkip } from "../lib/client/event.ts";
import { FrameType } from "../lib/protocol/constants.ts";
import type { EventServer } from "../lib/server/event_server.ts";
import type { ServerStats } from "../lib/node/stats.ts";
import { assert, assertEquals } from "./_assert.ts";
import { delay, spawnServe, startTestServer, waitUntil } from "./_helpers.ts";

/** A client connection that records every event it receives. */
class Probe {
  readonly events: { subject: string; msg: unknown }[] = [];
  #frozen = false;
  #owed: number[] = [];
  #nextSid = 1;
  #sids = new Map<string, number[]>();
  private constructor(readonly name: string, readonly conn: ClientConnection) {
    conn.onEvent = (frame, cost) => {
      this.events.push(toEventOrSkip(frame)!);
      if (this.#frozen) this.#owed.push(cost);
      else conn.consumed(cost);
    };
  }
  static async open(server: EventServer, name: string): Promise<Probe> {
    const conn = await ClientConnection.open(server.uri, { clientName: name, windowEvents: 64 });
    return new Probe(name, conn);
  }
  async subscribe(...subjects: string[]): Promise<void> {
    const first = this.#nextSid;
    this.#nextSid += subjects.length;
    subjects.forEach((s, i) => this.#sids.set(s, [...this.#sids.get(s) ?? [], first + i]));
    await this.conn.subscribe(false, first, "", subjects);
  }
  async unsubscribe(...subjects: string[]): Promise<void> {
    const sids = subjects.flatMap((s) => this.#sids.get(s) ?? []);
    for (const s of subjects) this.#sids.delete(s);
    await this.conn.unsubscribe(sids);
  }
  /** Takes no more events (gives the server no credit) until `thaw()`. */
  freeze(): void {
    this.#frozen = true;
  }
  thaw(): void {
    this.#frozen = false;
    for (const cost of this.#owed.splice(0)) this.conn.consumed(cost);
  }
  close(): Promise<void> {
    this.thaw();
    return this.conn.close();
  }
}

/** Opens `count` probes named `prefix-i`, each subscribed to its own marker subject. */
async function probes(server: EventServer, prefix: string, count: number): Promise<Probe[]> {
  const all = await Promise.all(
    Array.from({ length: count }, (_, i) => Probe.open(server, `${prefix}-${i}`)),
  );
  await Promise.all(all.map((p) => p.subscribe(`marker.${p.name}`)));
  return all;
}

/** The worker serving each named probe (from the merged statistics). */
function workerOf(stats: ServerStats): Map<string, number> {
  return new Map(stats.subscribers.map((s) => [s.client, s.worker ?? 0]));
}

/** A publisher and a subscriber served by different workers. */
function crossPair(stats: ServerStats, pubs: Probe[], subs: Probe[]): [Probe, Probe] {
  const where = workerOf(stats);
  for (const p of pubs) {
    for (const s of subs) if (where.get(p.name) !== where.get(s.name)) return [p, s];
  }
  throw new Error("All connections landed on one worker");
}

async function closeAll(...lists: Probe[][]): Promise<void> {
  await Promise.all(lists.flat().map((p) => p.close()));
}

Deno.test("connections spread over the workers and stats() sums every worker", async () => {
  await using server = await startTestServer({ workers: 3 });
  const all = await probes(server, "c", 24);
  const stats = await server.stats();
  assertEquals(stats.workers, 3);
  assertEquals(stats.connections, 24);
  assertEquals(stats.workerConnections?.length, 3);
  assert(stats.workerConnections!.filter((n) => n > 0).length >= 2, "one worker took everything");
  assertEquals(stats.subscribers.length, 24);
  await closeAll(all);
});

Deno.test("maxConnections bounds the whole server, not each worker", async () => {
  await using server = await startTestServer({ workers: 3, maxConnections: 6 });
  const opened = await Promise.allSettled(
    Array.from({ length: 12 }, (_, i) => Probe.open(server, `m-${i}`)),
  );
  const kept = opened.flatMap((r) => r.status === "fulfilled" ? [r.value] : []);
  assertEquals(kept.length, 6);
  const stats = await server.stats();
  assertEquals(stats.connections, 6);
  assertEquals(stats.reliability?.refusedConnections, 6);
  assert(stats.workerConnections!.filter((n) => n > 0).length >= 2, "one worker took everything");
  await closeAll(kept);
});

Deno.test("events from one publisher reach every subscriber on every worker in order", async () => {
  await using server = await startTestServer({ workers: 3 });
  const subs = await probes(server, "s", 9);
  await Promise.all(subs.map((s) => s.subscribe("order.test", "ORDER.other")));
  const pubs = await probes(server, "p", 4);
  crossPair(await server.stats(), pubs, subs);
  const perPublisher = 2000;
  await Promise.all(pubs.map(async (p, pi) => {
    for (let i = 0; i < perPublisher; i++) {
      const wait = publishValue(p.conn, i % 2 ? "order.test" : ["Order.Other"], [pi, i]);
      if (wait) await wait;
    }
    await p.conn.flush();
  }));
  const total = perPublisher * pubs.length;
  await waitUntil(() => subs.every((s) => s.events.length >= total), 20_000);
  for (const s of subs) {
    assertEquals(s.events.length, total);
    const next = new Array(pubs.length).fill(0);
    for (const ev of s.events) {
      const [pi, i] = ev.msg as [number, number];
      assertEquals(i, next[pi], `${s.name}: publisher ${pi} out of order`);
      next[pi]++;
    }
  }
  const stats = await server.stats();
  assertEquals(stats.totals.events, total);
  assertEquals(stats.totals.routed, total * subs.length);
  await closeAll(subs, pubs);
});

Deno.test("a subscription is in force on every worker when its reply arrives, and so is an unsubscription", async () => {
  await using server = await startTestServer({ workers: 2 });
  const subs = await probes(server, "s", 8);
  const pubs = await probes(server, "p", 4);
  crossPair(await server.stats(), pubs, subs);
  for (let round = 0; round < 5; round++) {
    const subject = `fresh.${round}`;
    for (const s of subs) {
      await s.subscribe(subject);
      // Straight after the reply, from every publisher (some on the other worker).
      for (const p of pubs) void publishValue(p.conn, subject, [s.name, p.name]);
    }
    await Promise.all(pubs.map((p) => p.conn.flush()));
    for (const s of subs) {
      const got = s.events.filter((e) =>
        e.subject === subject && (e.msg as string[])[0] === s.name
      );
      assertEquals(got.length, pubs.length, `${s.name} missed events after its SUB reply`);
    }
    for (const s of subs) await s.unsubscribe(subject);
    for (const p of pubs) void publishValue(p.conn, subject, "after unsubscribe");
    for (const s of subs) void s.conn.flush();
    await Promise.all(pubs.map((p) => p.conn.flush()));
    await Promise.all(subs.map((s) => s.conn.flush()));
    for (const s of subs) {
      assert(
        !s.events.some((e) => e.msg === "after unsubscribe"),
        `${s.name} got an event after UNSUB`,
      );
    }
  }
  await closeAll(subs, pubs);
});

Deno.test("block mode across workers: a frozen subscriber holds the publisher and nothing is lost", async () => {
  await using server = await startTestServer({ workers: 2, queueSize: 10, blockQueue: true });
  const subs = await probes(server, "s", 4);
  const pubs = await probes(server, "p", 4);
  const [pub, frozen] = crossPair(await server.stats(), pubs, subs);
  await frozen.subscribe("block.test");
  frozen.freeze();
  const payload = new Uint8Array(1024);
  const total = 40_000; // 40 MiB: far more than socket buffers, the client buffer and the credit window
  let handed = 0;
  let flushed = false;
  const publishing = (async () => {
    for (let i = 0; i < total; i++) {
      const wait = publishValue(pub.conn, "block.test", [i, payload]);
      if (wait) await wait;
      handed++;
    }
    await pub.conn.flush();
    flushed = true;
  })();
  await delay(1500);
  assert(!flushed, "flush() completed while the subscriber was frozen");
  assert(handed < total, `the publisher was never held (${handed} of ${total} handed over)`);
  frozen.thaw();
  await publishing;
  await waitUntil(() => frozen.events.length >= total, 60_000);
  assertEquals(frozen.events.length, total);
  frozen.events.forEach((e, i) => assertEquals((e.msg as [number])[0], i));
  const stats = await server.stats();
  assertEquals(stats.totals.dropped, 0);
  await closeAll(subs, pubs);
});

Deno.test("drop mode across workers: a frozen subscriber loses counted events, the others lose nothing", async () => {
  await using server = await startTestServer({ workers: 2, queueSize: 10, blockQueue: false });
  const subs = await probes(server, "s", 4);
  const pubs = await probes(server, "p", 4);
  const [pub, frozen] = crossPair(await server.stats(), pubs, subs);
  const healthy = subs.filter((s) => s !== frozen);
  for (const s of subs) await s.subscribe("drop.test");
  frozen.freeze();
  const payload = new Uint8Array(4096);
  const total = 4000; // 16 MiB: more than the frozen subscriber's socket buffers
  for (let i = 0; i < total; i++) {
    const wait = publishValue(pub.conn, "drop.test", [i, payload]);
    if (wait) await wait;
    // Paced below the queue size so that only the frozen subscriber overflows.
    if (i % 8 === 7) {
      await pub.conn.flush();
      const deadline = Date.now() + 10_000;
      while (!healthy.every((s) => s.events.length > i) && Date.now() < deadline) await delay(0);
    }
  }
  await pub.conn.flush();
  await waitUntil(() => healthy.every((s) => s.events.length >= total), 30_000);
  for (const s of healthy) assertEquals(s.events.length, total);
  const stats = await server.stats();
  const entry = stats.subscribers.find((s) => s.client === frozen.name)!;
  assert(entry.dropped > 0, "nothing was dropped for the frozen subscriber");
  for (const h of healthy) {
    assertEquals(stats.subscribers.find((s) => s.client === h.name)!.dropped, 0);
  }
  assertEquals(stats.totals.dropped, entry.dropped);
  frozen.thaw();
  await waitUntil(() => frozen.events.length >= total - entry.dropped, 30_000);
  await delay(100);
  assertEquals(frozen.events.length, total - entry.dropped);
  const seqs = frozen.events.map((e) => (e.msg as [number])[0]);
  assert(seqs.every((v, i) => i === 0 || v > seqs[i - 1]!), "drops reordered the rest");
  await closeAll(subs, pubs);
});

Deno.test("close() stops every worker and leaves no op or resource behind", async () => {
  const server = await startTestServer({ workers: 3 });
  const all = await probes(server, "c", 12);
  await Promise.all(all.map((p) => p.subscribe("x")));
  void publishValue(all[0]!.conn, "x", 1);
  const closedBy = all.map((p) => p.conn.closed);
  await server.close();
  const reasons = await Promise.all(closedBy);
  assert(reasons.every((r) => r !== undefined), "a client did not see the server go");
  // The port is free again: no worker still listens on it.
  const again = Deno.listen({ hostname: "127.0.0.1", port: server.port });
  again.close();
  await closeAll(all);
});

Deno.test("es serve --workers 3 (task permissions) carries events between its workers and stops on SIGTERM", async () => {
  await using server = await spawnServe(["-N", "--no-http", "--workers", "3"]);
  assert(server.stdoutLines.some((l) => l.includes("workers=3")), server.stdoutLines.join("\n"));
  const conns = await Promise.all(
    Array.from(
      { length: 12 },
      (_, i) => ClientConnection.open(server.uri, { clientName: `c${i}` }),
    ),
  );
  const received = conns.map(() => 0);
  conns.forEach((c, i) =>
    c.onEvent = (_, cost) => {
      received[i]!++;
      c.consumed(cost);
    }
  );
  await Promise.all(conns.map((c) => c.subscribe(false, 1, "", ["cli.workers"])));
  const stats = JSON.parse(
    new TextDecoder().decode(await conns[0]!.bodyRequest(FrameType.STATS)),
  ) as ServerStats;
  assertEquals(stats.workerConnections?.length, 3);
  assert(stats.workerConnections!.filter((n) => n > 0).length >= 2);
  for (let i = 0; i < 100; i++) void publishValue(conns[i % 12]!, "cli.workers", i);
  await Promise.all(conns.map((c) => c.flush()));
  await waitUntil(() => received.every((n) => n === 100));
  await Promise.all(conns.map((c) => c.close()));
  server.kill("SIGTERM");
  assertEquals((await server.status()).code, 0, server.stderr);
});

Deno.test("log records of every worker reach the process's log (es serve --workers 3 -i)", async () => {
  await using server = await spawnServe(["-N", "--no-http", "--workers", "3", "-i", "pw"]);
  const attempts = 9;
  await Promise.allSettled(
    Array.from({ length: attempts }, () => ClientConnection.open(server.uri, { ident: "wrong" })),
  );
  await waitUntil(
    () => (server.stderr.match(/Refused .*wrong passphrase/g) ?? []).length === attempts,
    10_000,
    `${attempts} refusals in the log`,
  );
});
