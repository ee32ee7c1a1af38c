/**
 * End-to-end tests of the per-subscriber queue with a frozen subscriber and
 * more data than the kernel's socket buffers can hide (100,000 events of
 * 1 KiB, about 100 MB): drop mode loses events for that subscriber alone,
 * block mode loses nothing and holds the publisher's flush() until it drains.
 */

import { assert, assertEquals } from "./_assert.ts";
import { delay, startTestServer, waitUntil } from "./_helpers.ts";
import { RawSubscriber } from "./_raw_subscriber.ts";
import { CollectingSubscriber } from "./_collect.ts";
import { Publisher } from "../lib/client/publisher.ts";
import { Subscriber } from "../lib/client/subscriber.ts";
import type { Event } from "../lib/client/event.ts";
import { decodeMessage } from "../lib/protocol/codec.ts";
import type { EventServer } from "../lib/server/event_server.ts";

const EVENTS = 100_000;
const EVENT_BYTES = 1024;
/** Sequence number of the one event the "held" publisher adds in the block-mode test. */
const HELD_MARK = 0xffff_ffff;

/** A 1 KiB message that carries its sequence number in its first four bytes. */
function message(i: number): Uint8Array {
  const bytes = new Uint8Array(EVENT_BYTES);
  new DataView(bytes.buffer).setUint32(0, i);
  return bytes;
}

function sequenceOf(msg: unknown): number {
  const bytes = msg as Uint8Array;
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(0);
}

/** Counts events and checks they come in order, without keeping them. */
class OrderedCounter extends Subscriber {
  count = 0;
  outOfOrder = 0;
  #done = Promise.withResolvers<void>();
  constructor(uri: string, readonly expected: number) {
    super({ esURI: uri, threading: false });
  }
  override event(event: Event): void {
    if (sequenceOf(event.msg) !== this.count) this.outOfOrder++;
    if (++this.count === this.expected) this.#done.resolve();
    if (this.#waiter && this.count >= this.#waiter.count) {
      this.#waiter.resolve();
      this.#waiter = undefined;
    }
  }
  #waiter: { count: number; resolve: () => void } | undefined;
  /** Resolves once `count` events arrived; rejects after `timeoutMs`. */
  async reached(count: number, timeoutMs: number): Promise<void> {
    if (this.count >= count) return;
    const { promise, resolve } = Promise.withResolvers<void>();
    this.#waiter = { count, resolve };
    await within(promise, timeoutMs, `${count} events at the live subscriber`);
  }
  /** Resolves once every expected event arrived; rejects after `timeoutMs`. */
  async all(timeoutMs: number): Promise<void> {
    const timer = setTimeout(
      () => this.#done.reject(new Error(`${this.count} of ${this.expected} events arrived`)),
      timeoutMs,
    );
    try {
      await this.#done.promise;
    } finally {
      clearTimeout(timer);
    }
  }
}

/** Publishes every event, then flushes; records when the flush completed. */
function publishAll(pub: Publisher): { done: Promise<void>; flushed: () => boolean } {
  let flushed = false;
  const done = (async () => {
    for (let i = 0; i < EVENTS; i++) await pub.publish("load", message(i));
    await pub.flush();
    flushed = true;
  })();
  return { done, flushed: () => flushed };
}

async function frozenStats(server: EventServer) {
  const stats = await server.stats();
  const frozen = stats.subscribers.find((s) => s.client === "raw-test-subscriber");
  assert(frozen, "the frozen subscriber is listed");
  return { stats, frozen };
}

/** Races `promise` against a timeout with a clear message. */
async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Timed out after ${ms} ms: ${what}`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

Deno.test("Drop mode: a frozen subscriber misses events, the other gets all and the publisher is not held", async () => {
  await using server = await startTestServer({ blockQueue: false, queueSize: 1000 });
  await using frozenConn = await RawSubscriber.subscribe(server.uri, ["load"]);
  const live = new OrderedCounter(server.uri, EVENTS);
  await live.subscribe("load");
  const listening = live.listen();
  const pub = new Publisher({ esURI: server.uri });
  try {
    // Drop mode drops for any subscriber that falls a whole queue behind. Server, publisher
    // and subscribers share this one thread here, so the publisher keeps at most half a
    // queue ahead of the live subscriber; the frozen one never reads again.
    const window = 500;
    const publishing = (async () => {
      for (let i = 0; i < EVENTS; i++) {
        if (i - live.count > window) await live.reached(i - window / 2, 30_000);
        await pub.publish("load", message(i));
      }
      await pub.flush();
    })();
    await within(publishing, 60_000, "publishing and flushing 100,000 events in drop mode");
    await live.all(60_000);
    assertEquals(live.count, EVENTS);
    assertEquals(live.outOfOrder, 0);
    const { stats, frozen } = await frozenStats(server);
    assert(frozen.dropped > 0, "the frozen subscriber's queue dropped events");
    assertEquals(frozen.delivered + frozen.queueDepth + frozen.dropped, EVENTS);
    assert(frozen.delivered < EVENTS, "the frozen subscriber cannot have been handed them all");
    assert(stats.totals.dropped >= frozen.dropped, "the server's totals count the drops");
    assertEquals(stats.totals.publishes, EVENTS);
    const liveStats = stats.subscribers.find((s) => s.client !== "raw-test-subscriber");
    assertEquals(liveStats?.dropped, 0);
    // The drops stay counted after the frozen subscriber has gone.
    frozenConn.close();
    await waitUntil(async () => (await server.stats()).subscribers.length === 1, 10_000, "leave");
    assertEquals((await server.stats()).totals.dropped, stats.totals.dropped);
  } finally {
    await pub.close();
    live.abort();
    await listening;
  }
});

Deno.test("Block mode: nothing is lost, flush() waits for a frozen subscriber and completes after it drains", async () => {
  await using server = await startTestServer({ blockQueue: true, queueSize: 1000 });
  await using frozen = await RawSubscriber.subscribe(server.uri, ["load"]);
  const pub = new Publisher({ esURI: server.uri });
  try {
    const run = publishAll(pub);
    run.done.catch(() => {});
    // Wait until the frozen subscriber's server queue is full: socket buffers are exhausted.
    await waitUntil(
      async () => (await frozenStats(server)).frozen.queueDepth >= 1000,
      60_000,
      "the frozen subscriber's queue to fill",
    );
    await delay(300);
    assertEquals(run.flushed(), false, "flush() must not complete while the subscriber is frozen");
    const { stats, frozen: f } = await frozenStats(server);
    assert(stats.totals.publishes < EVENTS, "the publisher is held back");
    assertEquals(f.dropped, 0);
    // Only publishers whose events target the full queue are held: others go on.
    const other = new CollectingSubscriber({ esURI: server.uri });
    await other.subscribe("other");
    other.start();
    const bystander = new Publisher({ esURI: server.uri });
    await bystander.publish("other", "not held");
    await within(bystander.flush(), 10_000, "a publisher on another subject to flush");
    assertEquals((await other.waitFor(1))[0]!.msg, "not held");
    await bystander.close();
    await other.stop();
    // A held publisher can still be closed: close() gives up waiting after a bound.
    const held = new Publisher({ esURI: server.uri });
    await held.publish("load", message(HELD_MARK));
    held.flush().catch(() => {});
    await within(held.close(), 10_000, "close() of a held publisher");
    // Thaw: read everything, checking order.
    let next = 0;
    let outOfOrder = 0;
    let heldSeen = 0;
    const read = frozen.readEvents(EVENTS + 1, (e) => {
      const seq = sequenceOf(decodeMessage(e.codec, e.payload));
      if (seq === HELD_MARK) return void heldSeen++;
      if (seq !== next) outOfOrder++;
      next++;
    }, 90_000);
    await within(run.done, 90_000, "flush() to complete after the subscriber drains");
    assertEquals(await read, EVENTS + 1);
    assertEquals(heldSeen, 1);
    assertEquals(next, EVENTS);
    assertEquals(outOfOrder, 0);
    const after = await server.stats();
    assertEquals(after.totals.dropped, 0);
    assertEquals(after.totals.publishes, EVENTS + 2); // with the bystander and the held one
  } finally {
    await pub.close();
  }
});

/** A subscriber whose handler stays stuck until released. */
class StuckSubscriber extends Subscriber {
  count = 0;
  outOfOrder = 0;
  #gate = Promise.withResolvers<void>();
  #done = Promise.withResolvers<void>();
  constructor(uri: string) {
    super({ esURI: uri, threading: false, bufferSize: 16 });
  }
  release(): void {
    this.#gate.resolve();
  }
  override async event(event: Event): Promise<void> {
    await this.#gate.promise;
    if (sequenceOf(event.msg) !== this.count) this.outOfOrder++;
    if (++this.count === EVENTS) this.#done.resolve();
  }
  get done(): Promise<void> {
    return this.#done.promise;
  }
}

Deno.test("Block mode: a Subscriber whose event() is stuck holds the publisher through its bounded buffer", async () => {
  await using server = await startTestServer({ blockQueue: true, queueSize: 1000 });
  const sub = new StuckSubscriber(server.uri);
  await sub.subscribe("load");
  const listening = sub.listen();
  const pub = new Publisher({ esURI: server.uri });
  try {
    const run = publishAll(pub);
    run.done.catch(() => {});
    // The client buffer is small, so the socket read stops and the server's queue fills.
    await waitUntil(
      async () => {
        const stats = await server.stats();
        return (stats.subscribers[0]?.queueDepth ?? 0) >= 1000;
      },
      60_000,
      "the stuck subscriber's server queue to fill",
    );
    await delay(300);
    assertEquals(run.flushed(), false, "flush() must not complete while event() is stuck");
    sub.release();
    await within(run.done, 90_000, "flush() to complete after the handler resumes");
    await within(sub.done, 90_000, "every event to reach event()");
    assertEquals(sub.count, EVENTS);
    assertEquals(sub.outOfOrder, 0);
    assertEquals((await server.stats()).totals.dropped, 0);
  } finally {
    await pub.close();
    sub.abort();
    await listening;
  }
});

Deno.test("Block mode: the server closes in bounded time while a publisher is held by a frozen subscriber", async () => {
  const server = await startTestServer({ blockQueue: true, queueSize: 100 });
  await using _frozen = await RawSubscriber.subscribe(server.uri, ["load"]);
  const pub = new Publisher({ esURI: server.uri });
  const run = publishAll(pub);
  const outcome = run.done.then(() => "flushed", (error: unknown) => error);
  try {
    await waitUntil(
      async () => (await frozenStats(server)).frozen.queueDepth >= 100,
      60_000,
      "the frozen subscriber's queue to fill",
    );
    await within(server.close(), 15_000, "server.close() with a held publisher");
    // The held publisher learns that the connection is gone.
    const result = await within(outcome, 15_000, "the held publisher to fail");
    assert(result instanceof Error, `publishing ended with ${String(result)}`);
  } finally {
    await server.close();
    await pub.close();
  }
});

Deno.test("Block mode with queueSize 1 delivers every event in order", async () => {
  await using server = await startTestServer({ blockQueue: true, queueSize: 1 });
  const sub = new OrderedCounter(server.uri, 2000);
  await sub.subscribe("load");
  const listening = sub.listen();
  const pub = new Publisher({ esURI: server.uri });
  try {
    for (let i = 0; i < 2000; i++) await pub.publish("load", message(i));
    await within(pub.flush(), 30_000, "flush with a queue of one");
    await sub.all(30_000);
    assertEquals(sub.outOfOrder, 0);
    assertEquals((await server.stats()).totals.dropped, 0);
  } finally {
    await pub.close();
    sub.abort();
    await listening;
  }
});
