/**
 * Delivery control through the real `es serve`: a frozen subscriber under
 * each overflow policy keeps exactly the events its policy says and is told
 * exactly how many it missed; a queue group of three shares a stream exactly
 * once between its members, on one node and across two worker nodes; a
 * member with a full queue is skipped.
 */

import { assert, assertEquals } from "./_assert.ts";
import { type ServeProcess, spawnServe, waitUntil } from "./_helpers.ts";
import { type Client, connect, type Event, Subscriber } from "../lib/client/mod.ts";
import type { Overflow } from "../lib/client/options.ts";
import type { ServerStats, SubscriberStats } from "../lib/node/stats.ts";

/** A subscriber that reads nothing until `thaw()`, then logs events and notices in order. */
class Frozen extends Subscriber {
  readonly log: string[] = [];
  #listening: Promise<void> | undefined;

  constructor(uri: string, overflow: Overflow) {
    // One event in the client's buffer at most: the rest waits in the server's queue.
    super({ esURI: uri, overflow, queueSize: 3, bufferSize: 1, threading: false });
  }

  override event(event: Event): void {
    this.log.push(`${event.subject.slice(2)}${event.msg}`);
  }

  override missed(count: number): void {
    this.log.push(`missed ${count}`);
  }

  thaw(): void {
    this.#listening ??= this.listen();
  }

  async stop(): Promise<void> {
    this.abort();
    await this.#listening;
    await this.close();
  }
}

async function stats(server: ServeProcess): Promise<ServerStats> {
  await using client = await connect({ esURI: server.uri });
  return await client.stats() as unknown as ServerStats;
}

async function subscriberWith(server: ServeProcess, subject: string): Promise<SubscriberStats> {
  const found = (await stats(server)).subscribers.find((s) => s.subjects.includes(subject));
  assert(found, `a subscriber of ${subject}`);
  return found;
}

/** What a frozen subscriber (queue of 3) sees of a0, then a1 b1 a2 c1 b2 a3 d1, then e1. */
const POLICIES: { overflow: Overflow; log: string[]; dropped: number }[] = [
  {
    overflow: "block",
    log: ["a0", "a1", "b1", "a2", "c1", "b2", "a3", "d1", "e1"],
    dropped: 0,
  },
  { overflow: "drop-new", log: ["a0", "a1", "b1", "a2", "missed 4", "e1"], dropped: 4 },
  { overflow: "drop-old", log: ["a0", "missed 4", "b2", "a3", "d1", "e1"], dropped: 4 },
  {
    overflow: "latest",
    log: ["a0", "missed 2", "b2", "missed 2", "a3", "d1", "e1"],
    dropped: 4,
  },
];

for (const { overflow, log, dropped } of POLICIES) {
  Deno.test(`a frozen subscriber under ${overflow} keeps exactly its events and is told what it missed`, async () => {
    await using server = await spawnServe(["-N", "--no-http", "--workers", "1"]);
    await using publisher = await connect({ esURI: server.uri });
    const frozen = new Frozen(server.uri, overflow);
    try {
      await frozen.subscribe(["q.a", "q.b", "q.c", "q.d", "q.e"]);
      await publisher.publish("q.a", 0);
      await publisher.flush();
      // a0 is in the client's buffer; the queue on the server is empty.
      await waitUntil(async () => (await subscriberWith(server, "q.a")).delivered === 1);
      let flushed = false;
      const publishing = (async () => {
        for (const e of ["a1", "b1", "a2", "c1", "b2", "a3", "d1"]) {
          await publisher.publish(`q.${e[0]}`, Number(e.slice(1)));
        }
        await publisher.flush();
        flushed = true;
      })();
      const held = await (async () => {
        if (overflow !== "block") return await publishing.then(() => subscriberWith(server, "q.a"));
        await waitUntil(async () => (await subscriberWith(server, "q.a")).queueDepth === 3);
        return await subscriberWith(server, "q.a");
      })();
      assertEquals(held.overflow, overflow);
      assertEquals(held.dropped, dropped, "the server counts the drops");
      assertEquals(flushed, overflow !== "block", "block holds the publisher's flush");
      frozen.thaw();
      await publishing;
      // Everything before e1 but a notice that only e1 can carry (drop-new tells before the next queued).
      const before = log.slice(0, log.indexOf("e1"));
      while (before.at(-1)?.startsWith("missed")) before.pop();
      await waitUntil(() => frozen.log.length >= before.length, 10_000, "the kept events");
      await publisher.publish("q.e", 1);
      await waitUntil(() => frozen.log.length >= log.length, 10_000, "the last event");
      assertEquals(frozen.log, log);
      assertEquals((await subscriberWith(server, "q.a")).dropped, dropped);
    } finally {
      await frozen.stop();
    }
  });
}

/** Connections opened until `count` of them are spread over both nodes (when there are two). */
async function spreadMembers(server: ServeProcess, count: number, workers: number) {
  const opened: { client: Client; marker: string }[] = [];
  try {
    for (let i = 0; i < 40; i++) {
      const client = await connect({ esURI: server.uri });
      const marker = `marker.${i}`;
      await client.subscribe(marker);
      opened.push({ client, marker });
      if (opened.length < count) continue;
      if (workers === 1) return opened;
      const where = new Map(
        (await stats(server)).subscribers.map((s) => [s.subjects[0], s.worker]),
      );
      const nodes = new Set(opened.map((o) => where.get(o.marker) ?? 0));
      if (nodes.size < workers) continue;
      // Keep `count` of them with every node among them: the last one opened and others.
      const last = opened.at(-1)!;
      const others = opened.slice(0, -1);
      const elsewhere = others.find((o) => where.get(o.marker) !== where.get(last.marker))!;
      const kept = [last, elsewhere, ...others.filter((o) => o !== elsewhere)].slice(0, count);
      for (const o of opened) if (!kept.includes(o)) await o.client.close();
      return kept;
    }
    throw new Error(`no ${count} connections spread over ${workers} nodes`);
  } catch (error) {
    for (const o of opened) await o.client.close();
    throw error;
  }
}

for (const workers of [1, 2]) {
  Deno.test(`a queue group of three shares a stream exactly once between them (workers ${workers})`, async () => {
    await using server = await spawnServe(["-N", "--no-http", "--workers", String(workers)]);
    const members = await spreadMembers(server, 3, workers);
    await using outsider = await connect({ esURI: server.uri });
    await using publisherA = await connect({ esURI: server.uri });
    await using publisherB = await connect({ esURI: server.uri });
    try {
      const got = members.map(() => [] as number[]);
      const subs = await Promise.all(
        members.map((m) => m.client.subscribe("jobs", { group: "workers" })),
      );
      const reading = subs.map(async (sub, i) => {
        for await (const event of sub) got[i]!.push(event.msg as number);
      });
      const everything = await outsider.subscribe("jobs");
      const total = 600;
      await Promise.all([publisherA, publisherB].map(async (publisher, p) => {
        for (let i = p; i < total; i += 2) await publisher.publish("jobs", i);
        await publisher.flush();
      }));
      let seen = 0;
      for await (const _ of everything) if (++seen === total) break;
      await waitUntil(() => got.flat().length >= total, 10_000, "the group's events");
      // Nothing more is on its way: the server handed each member exactly what it got.
      const delivered = (await stats(server)).subscribers
        .filter((s) => members.some((m) => s.subjects.includes(m.marker)))
        .reduce((sum, s) => sum + s.delivered + s.queueDepth, 0);
      assertEquals(delivered, total);
      assertEquals(got.flat().length, total);
      assertEquals(new Set(got.flat()).size, total, "each event once");
      assert(
        got.every((events) => events.length > 0),
        `each member gets some: ${got.map((g) => g.length)}`,
      );
      await Promise.all(subs.map((s) => s.unsubscribe()));
      await Promise.all(reading);
    } finally {
      for (const m of members) await m.client.close();
    }
  });
}

Deno.test("a queue group skips a member whose queue is full, and drops nothing for it", async () => {
  await using server = await spawnServe(["-N", "--no-http", "--workers", "1"]);
  const frozen = new Frozen(server.uri, "drop-new");
  await using b = await connect({ esURI: server.uri });
  await using c = await connect({ esURI: server.uri });
  await using publisher = await connect({ esURI: server.uri });
  try {
    await frozen.subscribe("marker.frozen");
    await frozen.subscribe("jobs", { group: "workers" });
    const live = await Promise.all([b, c].map((x) => x.subscribe("jobs", { group: "workers" })));
    const counts = [0, 0];
    const reading = live.map(async (sub, i) => {
      for await (const _ of sub) counts[i]!++;
    });
    const total = 300;
    for (let i = 0; i < total; i++) await publisher.publish("jobs", i);
    await publisher.flush();
    const full = await subscriberWith(server, "marker.frozen");
    // One event in its client's buffer, three in its queue: then it was full, and skipped.
    assertEquals([full.delivered, full.queueDepth, full.dropped], [1, 3, 0]);
    await waitUntil(() => counts[0]! + counts[1]! === total - 4, 10_000, "the live members");
    frozen.thaw();
    await waitUntil(() => frozen.log.length === 4, 10_000, "the frozen member's four");
    assert(!frozen.log.some((l) => l.startsWith("missed")), frozen.log.join());
    await Promise.all(live.map((s) => s.unsubscribe()));
    await Promise.all(reading);
  } finally {
    await frozen.stop();
  }
});
