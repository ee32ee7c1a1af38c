/**
 * Unit tests of `SubscriberQueue`: events copied in as whole EVENT frames, the bound in
 * events and bytes, block / drop-new / drop-old with MISSED notices, control frames ahead
 * of events, flow-control credit, `drained()`, `close()` and write failures.
 */

import { assert, assertEquals } from "./_assert.ts";
import { SubscriberQueue } from "../lib/broker/subscriber_queue.ts";
import { FrameType, UNLIMITED } from "../lib/protocol/constants.ts";
import { decodeMissed, PONG_FRAME } from "../lib/protocol/frames/control.ts";
import {
  decodeEvent,
  encodeSids,
  EventBodyWriter,
  eventFrameBytes,
  newEventFrame,
} from "../lib/protocol/frames/event.ts";
import { utf8 } from "../lib/protocol/frames/_body.ts";
import { FrameParser } from "../lib/protocol/parser.ts";
import { SubjectCache } from "../lib/protocol/subject_cache.ts";

/** A write target that holds every write until opened, then records a copy of it. */
class GatedSink {
  /** Copies of what was written, taken when each write completes. */
  writes: Uint8Array[] = [];
  /** The buffers the queue handed to `write()`. */
  handed: ArrayBufferLike[] = [];
  #open = false;
  #waiters: (() => void)[] = [];

  constructor(open = false) {
    this.#open = open;
  }

  write = async (bytes: Uint8Array): Promise<void> => {
    this.handed.push(bytes.buffer);
    while (!this.#open) await new Promise<void>((r) => this.#waiters.push(r));
    // Copied only now: the queue lends its buffer until the write settles.
    this.writes.push(bytes.slice());
  };

  open(): void {
    this.#open = true;
    for (const w of this.#waiters.splice(0)) w();
  }

  shut(): void {
    this.#open = false;
  }

  /** Every frame written so far: `E<tag>` for an event (first payload byte), `M<n>`, or the type. */
  frames(): string[] {
    return this.events().map((f) => f.label);
  }

  /** Every frame written so far, decoded. */
  events(): { label: string; sids: number[]; payload: Uint8Array }[] {
    const parser = new FrameParser();
    const cache = new SubjectCache();
    const out: { label: string; sids: number[]; payload: Uint8Array }[] = [];
    for (const w of this.writes) {
      for (const f of parser.push(w)) {
        if (f.type === FrameType.EVENT) {
          const e = newEventFrame();
          decodeEvent(f.body, cache, e);
          out.push({ label: `E${e.payload[0]}`, sids: [...e.sids], payload: e.payload.slice() });
        } else if (f.type === FrameType.MISSED) {
          out.push({ label: `M${decodeMissed(f.body)}`, sids: [], payload: new Uint8Array(0) });
        } else {
          out.push({ label: `T${f.type}`, sids: [], payload: new Uint8Array(0) });
        }
      }
    }
    return out;
  }
}

const writer = new EventBodyWriter();
const SIDS = encodeSids([1]);

/**
 * An event body whose payload starts with `tag`, `size` bytes of payload. It is a view
 * of the shared writer's buffer, overwritten by the next one: as the router hands it.
 */
function body(tag: number, size = 1): Uint8Array {
  const payload = new Uint8Array(size).fill(tag);
  return writer.write(1_700_000_000_000, 1, utf8("s"), payload);
}

/** Bytes of the EVENT frame `deliver(SIDS, body(tag, size))` queues. */
function frameBytes(size = 1): number {
  return eventFrameBytes(SIDS, body(0, size));
}

const LOTS = 1 << 30;
const tick = () => new Promise((r) => setTimeout(r, 0));
/** Lets pending promise callbacks run (a few writes' worth), without a timer. */
async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await Promise.resolve();
}

Deno.test("SubscriberQueue writes each event as an EVENT frame with its sids and body", async () => {
  const sink = new GatedSink(true);
  const queue = new SubscriberQueue(sink.write, { capacity: 10, maxBytes: LOTS, policy: "block" });
  queue.deliver(encodeSids([3, 0xffff_ffff]), body(7, 3));
  assert(await queue.drained(5000));
  const [event] = sink.events();
  assertEquals(event!.sids, [3, 0xffff_ffff]);
  assertEquals(event!.payload, new Uint8Array([7, 7, 7]));
  assertEquals(queue.delivered, 1);
});

Deno.test("SubscriberQueue copies the body: changing it after deliver() changes nothing sent", async () => {
  const sink = new GatedSink();
  const queue = new SubscriberQueue(sink.write, { capacity: 10, maxBytes: LOTS, policy: "block" });
  for (let i = 0; i < 3; i++) {
    const b = body(i, 10);
    queue.deliver(SIDS, b);
    b.fill(0xee); // the caller reuses its buffer at once
  }
  sink.open();
  assert(await queue.drained(5000));
  assertEquals(sink.frames(), ["E0", "E1", "E2"]);
  for (const e of sink.events()) assert(e.payload.every((x) => x === e.payload[0]));
});

Deno.test("SubscriberQueue: small events do not pin the caller's memory", async () => {
  // A small event cut from a large buffer (as a view of a big read buffer would be).
  const big = new Uint8Array(1 << 20);
  const small = body(5, 20);
  big.set(small, 1000);
  const view = big.subarray(1000, 1000 + small.length);
  const sink = new GatedSink();
  const queue = new SubscriberQueue(sink.write, { capacity: 10, maxBytes: LOTS, policy: "block" });
  queue.deliver(SIDS, view);
  queue.deliver(SIDS, view);
  assertEquals(queue.bytes, eventFrameBytes(SIDS, view), "the queued event holds its own bytes");
  big.fill(0);
  sink.open();
  assert(await queue.drained(5000));
  assertEquals(sink.frames(), ["E5", "E5"]);
  assert(
    sink.handed.every((b) => b !== big.buffer),
    "the queue never writes from the caller's buffer",
  );
  assertEquals([queue.depth, queue.bytes], [0, 0]);
});

Deno.test("SubscriberQueue in block mode returns false once full and nothing is lost", async () => {
  const sink = new GatedSink();
  const queue = new SubscriberQueue(sink.write, { capacity: 3, maxBytes: LOTS, policy: "block" });
  // The first event is taken by the writer at once (it waits in the gated write).
  assertEquals(queue.deliver(SIDS, body(0)), true);
  assertEquals(queue.deliver(SIDS, body(1)), true);
  assertEquals(queue.deliver(SIDS, body(2)), true);
  assertEquals(queue.fullSince, 0);
  assertEquals(queue.deliver(SIDS, body(3)), false, "the third queued event fills the queue");
  assertEquals(queue.depth, 3);
  assert(queue.fullSince > 0, "fullSince is set while full");
  let room = false;
  const whenRoom = queue.whenRoom().then(() => room = true);
  await tick();
  assertEquals(room, false, "whenRoom() waits while the queue is full");
  sink.open();
  await whenRoom;
  assertEquals(queue.fullSince, 0);
  assert(await queue.drained(5000));
  assertEquals(sink.frames(), ["E0", "E1", "E2", "E3"]);
  assertEquals([queue.dropped, queue.delivered], [0, 4]);
});

Deno.test("SubscriberQueue.whenRoom() resolves at once when there is room", async () => {
  const sink = new GatedSink();
  const queue = new SubscriberQueue(sink.write, { capacity: 10, maxBytes: LOTS, policy: "block" });
  queue.deliver(SIDS, body(0));
  await queue.whenRoom();
  sink.open();
  assert(await queue.drained(5000));
});

Deno.test("SubscriberQueue in block mode still takes events offered past the bound", async () => {
  // A multi-subject publish can offer several events before it waits: none may be lost.
  const sink = new GatedSink();
  const queue = new SubscriberQueue(sink.write, { capacity: 2, maxBytes: LOTS, policy: "block" });
  for (let i = 0; i < 6; i++) queue.deliver(SIDS, body(i));
  sink.open();
  assert(await queue.drained(5000));
  assertEquals(sink.frames(), ["E0", "E1", "E2", "E3", "E4", "E5"]);
});

Deno.test("SubscriberQueue in drop-new mode drops the newest events and counts them", async () => {
  const sink = new GatedSink();
  const queue = new SubscriberQueue(sink.write, {
    capacity: 2,
    maxBytes: LOTS,
    policy: "drop-new",
  });
  const results = [];
  for (let i = 0; i < 10; i++) results.push(queue.deliver(SIDS, body(i)));
  assert(results.every((r) => r === true), "drop-new never asks the publisher to wait");
  // 0 is in the writer's hands, 1 and 2 fill the queue, 3..9 are dropped.
  assertEquals(queue.dropped, 7);
  assertEquals(queue.fullSince, 0, "fullSince is for block mode only");
  sink.open();
  assert(await queue.drained(5000));
  assertEquals(sink.frames(), ["E0", "E1", "E2"]);
});

Deno.test("SubscriberQueue in drop-new mode precedes the next event with MISSED(count)", async () => {
  const sink = new GatedSink();
  const queue = new SubscriberQueue(sink.write, {
    capacity: 2,
    maxBytes: LOTS,
    policy: "drop-new",
  });
  for (let i = 0; i < 10; i++) queue.deliver(SIDS, body(i));
  sink.open();
  assert(await queue.drained(5000));
  queue.deliver(SIDS, body(42));
  queue.deliver(SIDS, body(43));
  assert(await queue.drained(5000));
  assertEquals(sink.frames(), ["E0", "E1", "E2", "M7", "E42", "E43"]);
  assertEquals(queue.dropped, 7);
});

Deno.test("SubscriberQueue in drop-old mode drops the oldest; the next batch starts with MISSED(count)", async () => {
  const sink = new GatedSink();
  const queue = new SubscriberQueue(sink.write, {
    capacity: 2,
    maxBytes: LOTS,
    policy: "drop-old",
  });
  const results = [];
  for (let i = 0; i < 10; i++) results.push(queue.deliver(SIDS, body(i)));
  assert(results.every((r) => r === true), "drop-old never asks the publisher to wait");
  // 0 is in the writer's hands; 1..7 made room for 8 and 9.
  assertEquals([queue.dropped, queue.depth], [7, 2]);
  sink.open();
  assert(await queue.drained(5000));
  assertEquals(sink.frames(), ["E0", "M7", "E8", "E9"]);
  queue.deliver(SIDS, body(10));
  assert(await queue.drained(5000));
  assertEquals(sink.frames(), ["E0", "M7", "E8", "E9", "E10"], "reported once");
});

Deno.test("SubscriberQueue is bounded in bytes as well as in events", async () => {
  const size = frameBytes(100);
  const sink = new GatedSink();
  const limits = { capacity: 1000, maxBytes: 2 * size + size / 2 };
  const dropNew = new SubscriberQueue(sink.write, { ...limits, policy: "drop-new" });
  for (let i = 0; i < 6; i++) dropNew.deliver(SIDS, body(i, 100));
  // 0 in flight; 1 and 2 fill 2 of the 2.5 sizes allowed; 3, 4, 5 would not fit.
  assertEquals([dropNew.depth, dropNew.bytes, dropNew.dropped], [2, 2 * size, 3]);

  const blockSink = new GatedSink();
  const block = new SubscriberQueue(blockSink.write, { ...limits, policy: "block" });
  assertEquals(block.deliver(SIDS, body(0, 100)), true);
  assertEquals(block.deliver(SIDS, body(1, 100)), true);
  assertEquals(block.deliver(SIDS, body(2, 100)), true);
  assertEquals(block.deliver(SIDS, body(3, 100)), false, "three sizes are over 2.5");

  sink.open();
  blockSink.open();
  assert(await dropNew.drained(5000));
  assert(await block.drained(5000));
  assertEquals(sink.frames(), ["E0", "E1", "E2"]);
  assertEquals(blockSink.frames(), ["E0", "E1", "E2", "E3"]);
});

Deno.test("SubscriberQueue in drop-old mode drops as many old events as a big one needs", async () => {
  const small = frameBytes(10);
  const sink = new GatedSink();
  const queue = new SubscriberQueue(sink.write, {
    capacity: 1000,
    maxBytes: 10 * small,
    policy: "drop-old",
  });
  for (let i = 0; i < 11; i++) queue.deliver(SIDS, body(i, 10)); // 0 in flight, 1..10 queued
  queue.deliver(SIDS, body(99, 5 * small)); // needs about five small ones' room
  assert(queue.bytes <= 10 * small);
  sink.open();
  assert(await queue.drained(5000));
  const frames = sink.frames();
  assertEquals(frames[0], "E0");
  const missed = Number(frames[1]!.slice(1));
  assertEquals(frames.slice(2), [
    ...Array.from({ length: 10 - missed }, (_, i) => `E${1 + missed + i}`),
    "E99",
  ]);
  assertEquals(queue.dropped, missed);
});

Deno.test("SubscriberQueue in drop-old mode drops an event bigger than the whole bound", async () => {
  const sink = new GatedSink();
  const queue = new SubscriberQueue(sink.write, {
    capacity: 1000,
    maxBytes: 4 * frameBytes(10),
    policy: "drop-old",
  });
  queue.deliver(SIDS, body(0, 10));
  queue.deliver(SIDS, body(1, 10));
  queue.deliver(SIDS, body(2, 10 * frameBytes(10)));
  assertEquals([queue.dropped, queue.depth], [1, 1], "the queued event is kept");
  queue.deliver(SIDS, body(3, 10));
  sink.open();
  assert(await queue.drained(5000));
  assertEquals(sink.frames(), ["E0", "E1", "M1", "E3"]);
});

Deno.test({
  name: "SubscriberQueue in drop-old mode reports every dropped event in MISSED frames",
  async fn() {
    const sink = new GatedSink();
    const queue = new SubscriberQueue(sink.write, {
      capacity: 2,
      maxBytes: 4 * frameBytes(10),
      policy: "drop-old",
    });
    queue.deliver(SIDS, body(0, 10)); // in flight
    queue.deliver(SIDS, body(1, 10));
    queue.deliver(SIDS, body(2, 10 * frameBytes(10))); // too big: dropped, noted before 3
    queue.deliver(SIDS, body(3, 10)); // queued as MISSED(1), E3
    queue.deliver(SIDS, body(4, 10)); // drops 1
    queue.deliver(SIDS, body(5, 10)); // drops 3 and the MISSED(1) in front of it
    sink.open();
    assert(await queue.drained(5000));
    const missed = sink.frames().filter((f) => f.startsWith("M"));
    const reported = missed.reduce((sum, f) => sum + Number(f.slice(1)), 0);
    assertEquals(queue.dropped, 3);
    assertEquals(reported, queue.dropped, `frames ${sink.frames().join(" ")}`);
  },
});

Deno.test("SubscriberQueue sends control frames ahead of events, outside the bound", async () => {
  const sink = new GatedSink();
  const queue = new SubscriberQueue(sink.write, {
    capacity: 1,
    maxBytes: LOTS,
    policy: "drop-new",
  });
  queue.deliver(SIDS, body(0)); // in the writer's hands
  queue.deliver(SIDS, body(1)); // fills the queue
  queue.deliver(SIDS, body(2)); // dropped
  for (let i = 0; i < 5; i++) queue.control(PONG_FRAME);
  assertEquals(queue.dropped, 1, "control frames drop nothing");
  assertEquals(queue.controlBytes, 5 * PONG_FRAME.length);
  sink.open();
  assert(await queue.drained(5000));
  const pong = `T${FrameType.PONG}`;
  assertEquals(sink.frames(), ["E0", pong, pong, pong, pong, pong, "E1"]);
  assertEquals(queue.controlBytes, 0);
  queue.deliver(SIDS, body(3));
  assert(await queue.drained(5000));
  assertEquals(sink.frames().slice(7), ["M1", "E3"]);
});

Deno.test("SubscriberQueue with a window of 2 events writes 2 until credit arrives", async () => {
  const sink = new GatedSink(true);
  const queue = new SubscriberQueue(sink.write, { capacity: 100, maxBytes: LOTS, policy: "block" });
  queue.setWindow(2, UNLIMITED);
  for (let i = 0; i < 5; i++) queue.deliver(SIDS, body(i));
  assert(await queue.drained(5000), "drained as far as the credit allows");
  assertEquals(sink.frames(), ["E0", "E1"]);
  assertEquals(queue.depth, 3);
  queue.credit(1, 0);
  assert(await queue.drained(5000));
  assertEquals(sink.frames(), ["E0", "E1", "E2"]);
  queue.credit(10, 0);
  assert(await queue.drained(5000));
  assertEquals(sink.frames(), ["E0", "E1", "E2", "E3", "E4"]);
  assertEquals(queue.delivered, 5);
});

Deno.test("SubscriberQueue with a window in bytes writes what fits until credit arrives", async () => {
  const size = frameBytes(50);
  const sink = new GatedSink(true);
  const queue = new SubscriberQueue(sink.write, { capacity: 100, maxBytes: LOTS, policy: "block" });
  queue.setWindow(UNLIMITED, 2 * size);
  for (let i = 0; i < 5; i++) queue.deliver(SIDS, body(i, 50));
  assert(await queue.drained(5000));
  assertEquals(sink.frames(), ["E0", "E1"]);
  queue.credit(0, size);
  assert(await queue.drained(5000));
  assertEquals(sink.frames(), ["E0", "E1", "E2"]);
  queue.setWindow(UNLIMITED, UNLIMITED);
  queue.credit(0, 0);
  assert(await queue.drained(5000));
  assertEquals(sink.frames(), ["E0", "E1", "E2", "E3", "E4"]);
});

Deno.test("SubscriberQueue sends control frames without credit", async () => {
  const sink = new GatedSink(true);
  const queue = new SubscriberQueue(sink.write, { capacity: 100, maxBytes: LOTS, policy: "block" });
  queue.setWindow(1, UNLIMITED);
  queue.deliver(SIDS, body(0));
  queue.deliver(SIDS, body(1));
  queue.control(PONG_FRAME);
  assert(await queue.drained(5000));
  assertEquals(sink.frames(), ["E0", `T${FrameType.PONG}`]);
  assertEquals(queue.depth, 1);
  queue.close();
});

Deno.test("SubscriberQueue in block mode without credit holds the publisher until credit arrives", async () => {
  const sink = new GatedSink(true);
  const queue = new SubscriberQueue(sink.write, { capacity: 2, maxBytes: LOTS, policy: "block" });
  queue.setWindow(0, UNLIMITED);
  queue.deliver(SIDS, body(0));
  assertEquals(queue.deliver(SIDS, body(1)), false);
  let room = false;
  const whenRoom = queue.whenRoom().then(() => room = true);
  await tick();
  await tick();
  assertEquals(room, false);
  assertEquals(sink.writes.length, 0);
  queue.credit(1, 0);
  await whenRoom;
  assert(await queue.drained(5000));
  assertEquals(sink.frames(), ["E0"]);
  queue.close();
});

Deno.test("SubscriberQueue.drained() gives up after its timeout while a write hangs", async () => {
  const sink = new GatedSink();
  const queue = new SubscriberQueue(sink.write, { capacity: 10, maxBytes: LOTS, policy: "block" });
  assert(await queue.drained(10), "nothing queued: drained at once");
  queue.deliver(SIDS, body(0));
  assertEquals(await queue.drained(20), false);
  sink.open();
  assertEquals(await queue.drained(5000), true);
});

Deno.test("SubscriberQueue batches queued events into few writes", async () => {
  const sink = new GatedSink();
  const queue = new SubscriberQueue(sink.write, {
    capacity: 10_000,
    maxBytes: LOTS,
    policy: "block",
  });
  for (let i = 0; i < 1000; i++) queue.deliver(SIDS, body(i & 0xff));
  sink.open();
  assert(await queue.drained(5000));
  assertEquals(sink.frames().length, 1000);
  assert(sink.writes.length <= 3, `expected few writes, got ${sink.writes.length}`);
});

Deno.test("SubscriberQueue writes a large backlog in bounded batches, in order", async () => {
  const sink = new GatedSink();
  const queue = new SubscriberQueue(sink.write, {
    capacity: 1000,
    maxBytes: LOTS,
    policy: "block",
  });
  for (let i = 0; i < 100; i++) queue.deliver(SIDS, body(i, 10_000));
  sink.open();
  assert(await queue.drained(5000));
  assertEquals(sink.frames(), Array.from({ length: 100 }, (_, i) => `E${i}`));
  assert(sink.writes.length > 1);
  for (const w of sink.writes) assert(w.length <= 256 * 1024, `a write of ${w.length} bytes`);
});

Deno.test("SubscriberQueue.configure() changes the policy and sizes", async () => {
  const sink = new GatedSink();
  const queue = new SubscriberQueue(sink.write, { capacity: 1, maxBytes: LOTS, policy: "block" });
  queue.configure({ capacity: 2, maxBytes: LOTS, policy: "drop-new" });
  assertEquals(queue.limits, { capacity: 2, maxBytes: LOTS, policy: "drop-new" });
  for (let i = 0; i < 5; i++) assertEquals(queue.deliver(SIDS, body(i)), true);
  assertEquals(queue.dropped, 2);
  sink.open();
  assert(await queue.drained(5000));
});

Deno.test("SubscriberQueue.close() releases publishers waiting for room", async () => {
  const sink = new GatedSink();
  const queue = new SubscriberQueue(sink.write, { capacity: 1, maxBytes: LOTS, policy: "block" });
  queue.deliver(SIDS, body(0));
  assertEquals(queue.deliver(SIDS, body(1)), false);
  const waiting = [queue.whenRoom(), queue.whenRoom()];
  queue.close();
  await Promise.all(waiting);
  assert(queue.closed);
  assertEquals(queue.deliver(SIDS, body(2)), true, "a closed queue never holds publishers");
  queue.control(PONG_FRAME);
  assertEquals([queue.depth, queue.bytes, queue.controlBytes, queue.fullSince], [0, 0, 0, 0]);
  await queue.whenRoom();
  assert(await queue.drained(5000));
  sink.open();
  await tick();
  assertEquals(sink.frames(), ["E0"], "only what was in flight before close()");
});

Deno.test("SubscriberQueue reports a failed write once and closes", async () => {
  const errors: unknown[] = [];
  let writes = 0;
  const queue = new SubscriberQueue(
    () => {
      writes++;
      return Promise.reject(new Error("broken pipe"));
    },
    { capacity: 10, maxBytes: LOTS, policy: "block" },
    (e) => errors.push(e),
  );
  queue.deliver(SIDS, body(0));
  queue.deliver(SIDS, body(1));
  queue.control(PONG_FRAME);
  assert(await queue.drained(5000));
  assertEquals(errors.length, 1);
  assertEquals((errors[0] as Error).message, "broken pipe");
  assert(queue.closed);
  assertEquals([queue.depth, writes], [0, 1]);
  queue.deliver(SIDS, body(2));
  queue.control(PONG_FRAME);
  await tick();
  assertEquals([errors.length, writes], [1, 1]);
});

Deno.test("SubscriberQueue loses nothing unannounced under random load (seeded, every policy)", async () => {
  for (const policy of ["block", "drop-new", "drop-old"] as const) {
    let seed = 0xc0ffee;
    const rand = () => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed / 2 ** 32;
    };
    const sink = new GatedSink();
    const queue = new SubscriberQueue(sink.write, {
      capacity: 8,
      maxBytes: 40_000,
      policy,
    });
    let sent = 0;
    for (let step = 0; step < 600; step++) {
      const r = rand();
      if (r < 0.7) {
        // Sizes from a few bytes to past the 4 KiB first buffer, below maxBytes.
        const size = rand() < 0.1 ? 4000 + Math.floor(rand() * 8000) : 1 + Math.floor(rand() * 300);
        queue.deliver(SIDS, body(sent++ & 0xff, size));
      } else if (r < 0.85) {
        sink.open();
        await settle();
        sink.shut();
      } else {
        await settle();
      }
    }
    sink.open();
    assert(await queue.drained(5000));
    // Every event arrives in order, and every gap is announced right before it.
    let next = 0;
    let announced = 0;
    let missedTotal = 0;
    for (const f of sink.events()) {
      if (f.label.startsWith("M")) {
        announced += Number(f.label.slice(1));
        missedTotal += Number(f.label.slice(1));
        continue;
      }
      const tag = f.payload[0]!;
      const gap = (tag - (next & 0xff) + 256) & 0xff;
      assertEquals(gap, announced, `${policy}: gap before event ${next + gap}`);
      assert(f.payload.every((x) => x === tag), `${policy}: event ${next + gap} intact`);
      next += gap + 1;
      announced = 0;
    }
    assertEquals(missedTotal, queue.dropped, policy);
    assertEquals(queue.delivered + queue.dropped, sent, policy);
    if (policy === "block") assertEquals(queue.dropped, 0);
    else assert(queue.dropped > 0, `${policy} should have dropped some`);
  }
});

Deno.test("SubscriberQueue wrapping while a write is in flight swaps between two buffers", async () => {
  // One write in flight at a time, completed by hand: new events always land behind it.
  const handed: ArrayBufferLike[] = [];
  const pending: (() => void)[] = [];
  let written = 0;
  const write = (bytes: Uint8Array) => {
    handed.push(bytes.buffer);
    written += bytes.length;
    return new Promise<void>((resolve) => pending.push(resolve));
  };
  const queue = new SubscriberQueue(write, { capacity: 1000, maxBytes: LOTS, policy: "block" });
  const size = frameBytes(100);
  for (let round = 0; round < 200; round++) {
    for (let i = 0; i < 7; i++) queue.deliver(SIDS, body(round, 100));
    pending.shift()?.();
    await settle();
  }
  while (pending.length > 0) {
    pending.shift()!();
    await settle();
  }
  assertEquals(written, 200 * 7 * size);
  // After growing to the size it needs, the queue reuses two buffers, however often it wraps.
  const late = new Set(handed.slice(handed.length / 2));
  assert(late.size <= 2, `${late.size} buffers in the last 100 writes`);
});

Deno.test("SubscriberQueue.trim() lets the buffers of an idle queue go, never a busy one's", async () => {
  const sink = new GatedSink(true);
  const queue = new SubscriberQueue(sink.write, { capacity: 10, maxBytes: LOTS, policy: "block" });
  const sendOne = async (tag: number) => {
    queue.deliver(SIDS, body(tag));
    assert(await queue.drained(5000));
    return sink.handed.at(-1)!;
  };
  const first = await sendOne(1);
  queue.trim(); // an event arrived since the last trim: kept
  assertEquals(await sendOne(2), first);
  queue.trim();
  queue.trim(); // nothing since the previous trim: released
  const third = await sendOne(3);
  assert(third !== first, "the idle queue kept its buffer");
  assertEquals(sink.frames(), ["E1", "E2", "E3"]);
});
