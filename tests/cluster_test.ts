/**
 * The cluster through real processes: three `es serve --cluster` nodes on a
 * real nats-server, both client APIs, a node killed under a client with two
 * servers in its list, nats-server restarted under running nodes, and no
 * event ever delivered twice.
 */

import { assert, assertEquals } from "./_assert.ts";
import { runEs, type ServeProcess, spawnServe, waitUntil } from "./_helpers.ts";
import { NatsServer, natsServerPath } from "./_nats.ts";
import {
  type Client,
  connect,
  type Event,
  Subscriber,
  type Subscription,
} from "../lib/client/mod.ts";
import type { ServerStats } from "../lib/node/stats.ts";
import { NatsBackplane, type NatsLink, type NatsSub } from "../lib/cluster/mod.ts";

const ignore = natsServerPath === undefined;

async function statsOf(node: ServeProcess): Promise<ServerStats> {
  const { stdout } = await runEs(["stats", "--json", "--es", node.uri]);
  return JSON.parse(stdout);
}

/** Starts `count` nodes on `nats` and waits until each sees the others. */
async function cluster(
  nats: NatsServer,
  count: number,
  args: string[] = [],
): Promise<ServeProcess[]> {
  const nodes = await Promise.all(
    Array.from(
      { length: count },
      () => spawnServe(["-N", "--no-http", "--cluster", nats.url, ...args]),
    ),
  );
  await waitUntil(
    async () => {
      for (const node of nodes) {
        const c = (await statsOf(node)).cluster;
        if (!c?.connected || (c.peers as string[]).length < count - 1) return false;
      }
      return true;
    },
    20_000,
    "every node to see the others",
  );
  return nodes;
}

/** Reads a subscription across calls; a read that times out keeps its place for the next. */
const readers = new WeakMap<
  Subscription,
  { it: AsyncIterator<Event>; pending?: Promise<IteratorResult<Event>> | undefined }
>();

async function take(sub: Subscription, count: number, timeoutMs = 10_000): Promise<Event[]> {
  let reader = readers.get(sub);
  if (!reader) readers.set(sub, reader = { it: sub[Symbol.asyncIterator]() });
  const got: Event[] = [];
  const deadline = Date.now() + timeoutMs;
  while (got.length < count) {
    reader.pending ??= reader.it.next();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const next = await Promise.race([
      reader.pending,
      new Promise<"late">((r) =>
        timer = setTimeout(() => r("late"), Math.max(1, deadline - Date.now()))
      ),
    ]);
    clearTimeout(timer);
    if (next === "late") break;
    reader.pending = undefined;
    if (next.done) break;
    got.push(next.value);
  }
  return got;
}

class Collector extends Subscriber {
  readonly events: Event[] = [];
  override event(event: Event): void {
    this.events.push(event);
  }
}

Deno.test({
  name:
    "cluster: every pair of three nodes publishes and receives, exact and pattern, both client APIs, each event once",
  ignore,
  async fn() {
    await using nats = await NatsServer.start();
    const nodes = await cluster(nats, 3);
    try {
      for (const [a, from] of nodes.entries()) {
        for (const [b, to] of nodes.entries()) {
          if (a === b) continue;
          await using client: Client = await connect({ esURI: to.uri });
          const exact = await client.subscribe(`pair.${a}.${b}`);
          const pattern = await client.subscribeMatch(`^PAIR\\.${a}\\.`);
          const collector = new Collector({ esURI: to.uri });
          await collector.subscribe(`pair.${a}.${b}`);
          await collector.subscribeMatch(`^pair\\.${a}\\.${b}$`);
          const listening = collector.listen();
          await using publisher = await connect({ esURI: from.uri });
          for (let i = 0; i < 5; i++) await publisher.publish(`Pair.${a}.${b}`, i);
          await publisher.flush();
          assertEquals((await take(exact, 5)).map((e) => e.msg), [0, 1, 2, 3, 4]);
          assertEquals(
            (await take(pattern, 5)).map((e) => e.subject),
            Array(5).fill(`Pair.${a}.${b}`),
          );
          await waitUntil(() => collector.events.length >= 5, 10_000, "the Subscriber's events");
          // Two matching subscriptions of one Subscriber: still each event once.
          await new Promise((r) => setTimeout(r, 200));
          assertEquals(collector.events.map((e) => e.msg), [0, 1, 2, 3, 4]);
          assertEquals(await take(exact, 1, 200), []);
          collector.abort();
          await listening;
        }
      }
    } finally {
      await Promise.all(nodes.map((n) => n[Symbol.asyncDispose]()));
    }
  },
});

Deno.test({
  name:
    "cluster: a client with two servers survives kill -9 of its node and resubscribes on the other",
  ignore,
  async fn() {
    await using nats = await NatsServer.start();
    const [first, second, third] = await cluster(nats, 3);
    try {
      const client = await connect({
        esURI: `${first!.uri},${second!.uri}`,
        reconnect: { backoff: () => 50, maxAttempts: 50 },
      });
      const sub = await client.subscribe("survive");
      first!.kill("SIGKILL");
      await first!.status();
      await using publisher = await connect({ esURI: third!.uri });
      // Until the client is back on the second node, the events are lost; then they arrive.
      let got: Event[] = [];
      await waitUntil(
        async () => {
          await publisher.publish("survive", "after");
          await publisher.flush();
          got = await take(sub, 1, 300);
          return got.length === 1;
        },
        20_000,
        "an event through the second node",
      );
      assertEquals(got[0]!.msg, "after");
      await client.close();
    } finally {
      await Promise.all([second!, third!].map((n) => n[Symbol.asyncDispose]()));
    }
  },
});

Deno.test({
  name:
    "cluster: nats-server restarted under running nodes, delivery across nodes resumes by itself",
  ignore,
  async fn() {
    await using nats = await NatsServer.start();
    const [a, b] = await cluster(nats, 2);
    try {
      await using subscriber = await connect({ esURI: b!.uri });
      const sub = await subscriber.subscribe("restart");
      await using publisher = await connect({ esURI: a!.uri });
      await publisher.publish("restart", "before");
      assertEquals((await take(sub, 1)).map((e) => e.msg), ["before"]);
      await nats.restart();
      let got: Event[] = [];
      await waitUntil(
        async () => {
          await publisher.publish("restart", "after");
          await publisher.flush();
          got = await take(sub, 1, 300);
          return got.length === 1;
        },
        20_000,
        "delivery after the restart",
      );
      assertEquals(got[0]!.msg, "after");
      const stats = await statsOf(a!);
      assert((stats.cluster?.reconnects as number) >= 1, JSON.stringify(stats.cluster));
    } finally {
      await Promise.all([a!, b!].map((n) => n[Symbol.asyncDispose]()));
    }
  },
});

Deno.test({
  name: "cluster: queue groups are per node: one member on each node gets each event",
  ignore,
  async fn() {
    await using nats = await NatsServer.start();
    const [a, b] = await cluster(nats, 2, ["--workers", "1"]);
    try {
      await using a1 = await connect({ esURI: a!.uri });
      await using a2 = await connect({ esURI: a!.uri });
      await using b1 = await connect({ esURI: b!.uri });
      const [onA1, onA2, onB1] = await Promise.all(
        [a1, a2, b1].map((c) => c.subscribe("jobs", { group: "workers" })),
      );
      await using publisher = await connect({ esURI: a!.uri });
      for (let i = 0; i < 20; i++) await publisher.publish("jobs", i);
      await publisher.flush();
      // Node a shares the stream between its two members; node b's member gets all of it.
      assertEquals((await take(onB1!, 20)).map((e) => e.msg), [...Array(20).keys()]);
      const [x, y] = [await take(onA1!, 10), await take(onA2!, 10)];
      assertEquals([...x, ...y].map((e) => e.msg as number).sort((p, q) => p - q), [
        ...Array(20).keys(),
      ]);
    } finally {
      await Promise.all([a, b].map((n) => n![Symbol.asyncDispose]()));
    }
  },
});

/** A NATS link whose flushes resolve only when the test says so. */
class HeldFlushLink implements NatsLink {
  readonly servers = ["nats://127.0.0.1:4222"];
  readonly connected = true;
  readonly slowConsumers = 0;
  readonly reconnects = 0;
  readonly flushes: (() => void)[] = [];
  subscribe(): NatsSub {
    return { unsubscribe() {} };
  }
  publish(): void {}
  flush(): Promise<void> {
    const { promise, resolve } = Promise.withResolvers<void>();
    this.flushes.push(resolve);
    return promise;
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

Deno.test("NatsBackplane.interestInForce() waits for a flush still under way", async () => {
  const link = new HeldFlushLink();
  const backplane = new NatsBackplane(link, "es://127.0.0.1:1");
  // The first subscriber of a key: NATS is asked for it, and its OK waits for the flush.
  backplane.interestChanged("exact", "news", true, "");
  let first = false, second = false;
  void backplane.interestInForce().then(() => first = true);
  // A second subscriber of the same key changes no interest, but NATS has not confirmed it yet:
  // an OK now would let an event published on another node miss this subscriber.
  void backplane.interestInForce().then(() => second = true);
  await new Promise((r) => setTimeout(r, 10));
  assertEquals([first, second], [false, false]);
  link.flushes[0]!();
  await new Promise((r) => setTimeout(r, 10));
  assertEquals([first, second], [true, true]);
  backplane.close();
});
