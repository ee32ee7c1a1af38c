/** Unit tests of `SubscriberQueue` and `Broker.route()`: the bound, block and drop modes, batching. */

import { assert, assertEquals } from "./_assert.ts";
import { Broker } from "../lib/broker/broker.ts";
import { SubscriberQueue } from "../lib/broker/subscriber_queue.ts";
import { FrameType } from "../lib/protocol/constants.ts";
import { decodeEvent, encodeEmpty, utf8 } from "../lib/protocol/frames.ts";
import { FrameParser } from "../lib/protocol/parser.ts";

/** A write target that holds every write until released, recording what was written. */
class GatedSink {
  writes: Uint8Array[] = [];
  #open = false;
  #waiters: (() => void)[] = [];
  write = async (bytes: Uint8Array): Promise<void> => {
    while (!this.#open) await new Promise<void>((r) => this.#waiters.push(r));
    this.writes.push(bytes.slice());
  };
  open(): void {
    this.#open = true;
    for (const w of this.#waiters.splice(0)) w();
  }
  close(): void {
    this.#open = false;
  }
  /** Every frame written so far, as [type, first body byte]. */
  frames(): { type: number; tag: number }[] {
    const parser = new FrameParser();
    const out: { type: number; tag: number }[] = [];
    for (const w of this.writes) {
      for (const f of parser.push(w)) out.push({ type: f.type, tag: f.body[0] ?? -1 });
    }
    return out;
  }
}

/** A small event-like frame whose first body byte is `tag`. */
function frame(tag: number): Uint8Array {
  return new Uint8Array([0, 0, 0, 2, FrameType.EVENT, tag]);
}

const tick = () => new Promise((r) => setTimeout(r, 0));

Deno.test("SubscriberQueue in block mode returns false once full and nothing is lost", async () => {
  const sink = new GatedSink();
  const queue = new SubscriberQueue(sink.write, { capacity: 3, block: true });
  // The first frame is taken by the writer at once (it waits in the gated write).
  assertEquals(queue.deliver(frame(0)), true);
  assertEquals(queue.deliver(frame(1)), true);
  assertEquals(queue.deliver(frame(2)), true);
  assertEquals(queue.deliver(frame(3)), false, "the third queued event fills the queue");
  assertEquals(queue.depth, 3);
  let room = false;
  const whenRoom = queue.whenRoom().then(() => room = true);
  await tick();
  assertEquals(room, false, "whenRoom() waits while the queue is full");
  sink.open();
  await whenRoom;
  assert(room);
  assert(await queue.drained(1000));
  assertEquals(sink.frames().map((f) => f.tag), [0, 1, 2, 3]);
  assertEquals(queue.dropped, 0);
  assertEquals(queue.delivered, 4);
});

Deno.test("SubscriberQueue.whenRoom() resolves at once when there is room", async () => {
  const sink = new GatedSink();
  const queue = new SubscriberQueue(sink.write, { capacity: 10, block: true });
  queue.deliver(frame(0));
  await queue.whenRoom();
  sink.open();
});

Deno.test("SubscriberQueue in block mode still accepts frames offered past the bound", async () => {
  // A multi-subject publish can offer more than one frame before waiting: none may be lost.
  const sink = new GatedSink();
  const queue = new SubscriberQueue(sink.write, { capacity: 2, block: true });
  for (let i = 0; i < 6; i++) queue.deliver(frame(i));
  sink.open();
  assert(await queue.drained(1000));
  assertEquals(sink.frames().map((f) => f.tag), [0, 1, 2, 3, 4, 5]);
});

Deno.test("SubscriberQueue in drop mode drops new events when full and counts them", async () => {
  const sink = new GatedSink();
  const queue = new SubscriberQueue(sink.write, { capacity: 2, block: false });
  const results = [];
  for (let i = 0; i < 10; i++) results.push(queue.deliver(frame(i)));
  assert(results.every((r) => r === true), "drop mode never asks the publisher to wait");
  // 0 is in the writer's hands, 1 and 2 fill the queue, 3..9 are dropped.
  assertEquals(queue.dropped, 7);
  sink.open();
  assert(await queue.drained(1000));
  assertEquals(sink.frames().map((f) => f.tag), [0, 1, 2]);
  // With room again, new events are accepted.
  queue.deliver(frame(42));
  assert(await queue.drained(1000));
  assertEquals(sink.frames().map((f) => f.tag), [0, 1, 2, 42]);
});

Deno.test("SubscriberQueue control frames bypass the bound and go ahead of events", async () => {
  const sink = new GatedSink();
  const queue = new SubscriberQueue(sink.write, { capacity: 1, block: false });
  queue.deliver(frame(0)); // in the writer's hands
  queue.deliver(frame(1)); // fills the queue
  queue.deliver(frame(2)); // dropped
  for (let i = 0; i < 5; i++) queue.control(encodeEmpty(FrameType.PONG));
  assertEquals(queue.dropped, 1);
  sink.open();
  assert(await queue.drained(1000));
  const frames = sink.frames();
  assertEquals(frames.length, 7);
  assertEquals(frames[0], { type: FrameType.EVENT, tag: 0 });
  assertEquals(frames.slice(1, 6).map((f) => f.type), Array(5).fill(FrameType.PONG));
  assertEquals(frames[6], { type: FrameType.EVENT, tag: 1 });
});

Deno.test("SubscriberQueue batches queued frames into few writes", async () => {
  const sink = new GatedSink();
  const queue = new SubscriberQueue(sink.write, { capacity: 10_000, block: true });
  for (let i = 0; i < 1000; i++) queue.deliver(frame(i & 0xff));
  sink.open();
  assert(await queue.drained(1000));
  assertEquals(sink.frames().length, 1000);
  assert(sink.writes.length <= 3, `expected few writes, got ${sink.writes.length}`);
});

Deno.test("SubscriberQueue keeps each write under maxBatchBytes when frames allow", async () => {
  const sink = new GatedSink();
  const queue = new SubscriberQueue(sink.write, { capacity: 1000, block: true, maxBatchBytes: 60 });
  for (let i = 0; i < 100; i++) queue.deliver(frame(i));
  sink.open();
  assert(await queue.drained(1000));
  assertEquals(sink.frames().map((f) => f.tag), [...Array(100).keys()]);
  for (const w of sink.writes) assert(w.length <= 60, `write of ${w.length} bytes`);
});

Deno.test("SubscriberQueue.close() releases publishers waiting for room", async () => {
  const sink = new GatedSink();
  const queue = new SubscriberQueue(sink.write, { capacity: 1, block: true });
  queue.deliver(frame(0));
  assertEquals(queue.deliver(frame(1)), false);
  const waiting = queue.whenRoom();
  queue.close();
  await waiting;
  assertEquals(queue.deliver(frame(2)), true, "a closed queue never holds publishers");
  sink.open();
});

Deno.test("SubscriberQueue reports a failed write once and closes", async () => {
  const errors: unknown[] = [];
  const queue = new SubscriberQueue(
    () => Promise.reject(new Error("broken pipe")),
    { capacity: 10, block: true },
    (e) => errors.push(e),
  );
  queue.deliver(frame(0));
  queue.deliver(frame(1));
  await tick();
  await tick();
  assertEquals(errors.length, 1);
  assertEquals(queue.depth, 0);
});

Deno.test("Broker.route() drops for a full queue in drop mode, others still get every event", async () => {
  const broker = new Broker<SubscriberQueue>();
  const frozen = new GatedSink();
  const live = new GatedSink();
  live.open();
  const frozenQueue = new SubscriberQueue(frozen.write, { capacity: 5, block: false });
  const liveQueue = new SubscriberQueue(live.write, { capacity: 1000, block: false });
  broker.index.subscribe(frozenQueue, ["s"]);
  broker.index.subscribeMatch(liveQueue, ["s"]);
  const blocked: SubscriberQueue[] = [];
  for (let i = 0; i < 100; i++) {
    broker.route("S", utf8("S"), 1000, 1, new Uint8Array([i]), blocked);
    if (i % 10 === 0) await tick();
  }
  assertEquals(blocked.length, 0);
  assert(await liveQueue.drained(1000));
  assertEquals(live.frames().length, 100);
  assert(frozenQueue.dropped > 0);
  assertEquals(frozenQueue.dropped + frozenQueue.depth + frozenQueue.delivered, 100);
  assertEquals(broker.totals.events, 100);
  assertEquals(broker.totals.routed, 200);
  frozenQueue.close();
});

Deno.test("Broker.route() reports a full queue in block mode as blocked", () => {
  const broker = new Broker<SubscriberQueue>();
  const sink = new GatedSink();
  const queue = new SubscriberQueue(sink.write, { capacity: 2, block: true });
  broker.index.subscribe(queue, ["s"]);
  const blocked: SubscriberQueue[] = [];
  broker.route("s", utf8("s"), 1, 1, new Uint8Array(0), blocked);
  broker.route("s", utf8("s"), 1, 1, new Uint8Array(0), blocked);
  assertEquals(blocked.length, 0);
  broker.route("s", utf8("s"), 1, 1, new Uint8Array(0), blocked);
  assertEquals(blocked, [queue]);
  queue.close();
});

Deno.test("Broker.route() sends one shared frame with the publisher's spelling and time", async () => {
  const broker = new Broker<SubscriberQueue>();
  const sinks = [new GatedSink(), new GatedSink()];
  const queues = sinks.map((s) => new SubscriberQueue(s.write, { capacity: 10, block: true }));
  broker.index.subscribe(queues[0]!, ["stockquote.sun"]);
  broker.index.subscribeMatch(queues[1]!, ["^STOCKQUOTE\\.S"]);
  broker.route("StockQuote.Sun", utf8("StockQuote.Sun"), 4242, 1, new Uint8Array([9]), []);
  broker.route("nobody", utf8("nobody"), 4242, 1, new Uint8Array([9]), []);
  assertEquals(broker.totals.unrouted, 1);
  for (const s of sinks) s.open();
  for (const q of queues) assert(await q.drained(1000));
  for (const s of sinks) {
    const [f] = [...new FrameParser().push(s.writes[0]!)];
    const event = decodeEvent(f!.body);
    assertEquals(event.subject, "StockQuote.Sun");
    assertEquals(event.time, 4242);
  }
});
