/**
 * Unit tests of the `latest` policy (conflation) of `SubscriberQueue`: one
 * waiting event per subject, the newest, moved to the tail; the oldest makes
 * room when the queue is full of distinct subjects; MISSED notices that add
 * up to the drops; the bounds in events and bytes and the node's budget.
 */

import { assert, assertEquals } from "./_assert.ts";
import { SubscriberQueue } from "../lib/broker/subscriber_queue.ts";
import { QueueBudget } from "../lib/broker/queue_budget.ts";
import { LatestStore } from "../lib/broker/latest_store.ts";
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
import { subjectKey } from "../lib/protocol/subjects.ts";

/** Holds writes until opened; labels what was written: `a1` (subject a, value 1), `M2`, `T<type>`. */
class Sink {
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

  labels(): string[] {
    const parser = new FrameParser();
    const cache = new SubjectCache();
    const out: string[] = [];
    for (const w of this.writes) {
      for (const f of parser.push(w)) {
        if (f.type === FrameType.EVENT) {
          const e = newEventFrame();
          decodeEvent(f.body, cache, e);
          out.push(`${e.subject}${e.payload[0]}`);
        } else if (f.type === FrameType.MISSED) out.push(`M${decodeMissed(f.body)}`);
        else out.push(`T${f.type}`);
      }
    }
    return out;
  }
}

const writer = new EventBodyWriter();
const SIDS = encodeSids([1]);

/** The body of an event on `subject` whose payload is `size` bytes of `value`. */
function body(subject: string, value: number, size = 1): Uint8Array {
  return writer.write(1_700_000_000_000, 1, utf8(subject), new Uint8Array(size).fill(value));
}

/** Delivers `a1 b1 a2 …` (subject letter, value) in order, the key given as the router gives it. */
function deliverAll(queue: SubscriberQueue, events: string): void {
  for (const e of events.split(" ")) {
    const subject = e.replace(/\d+$/, "");
    queue.deliver(SIDS, body(subject, Number(e.slice(subject.length))), subjectKey(subject));
  }
}

const LOTS = 1 << 30;

Deno.test("latest keeps the newest event per subject, moved to the tail, with MISSED before it", async () => {
  const sink = new Sink();
  const queue = new SubscriberQueue(sink.write, { capacity: 3, maxBytes: LOTS, policy: "latest" });
  queue.deliver(SIDS, body("a", 0), "a"); // handed to the (held) writer at once
  deliverAll(queue, "a1 b1 a2 c1 b2 a3");
  // a2 replaced a1, b2 replaced b1, a3 replaced a2 (and takes over its notice).
  assertEquals([queue.depth, queue.dropped], [3, 3]);
  sink.open();
  assert(await queue.drained(5000));
  assertEquals(sink.labels(), ["a0", "c1", "M1", "b2", "M2", "a3"]);
  assertEquals(queue.delivered, 4);
});

Deno.test("latest drops the oldest subject when full of distinct subjects; its notice leads the next batch", async () => {
  const sink = new Sink();
  const queue = new SubscriberQueue(sink.write, { capacity: 3, maxBytes: LOTS, policy: "latest" });
  queue.deliver(SIDS, body("a", 0), "a");
  deliverAll(queue, "a1 b1 a2 c1 b2 a3 d1");
  // d1 found c1 (oldest), b2 (M1), a3 (M2): c1 made room.
  assertEquals([queue.depth, queue.dropped], [3, 4]);
  sink.open();
  assert(await queue.drained(5000));
  // The head's notice and b2's own are told as one.
  assertEquals(sink.labels(), ["a0", "M2", "b2", "M2", "a3", "d1"]);
  queue.deliver(SIDS, body("e", 1), "e");
  assert(await queue.drained(5000));
  assertEquals(sink.labels().slice(6), ["e1"], "told once");
});

Deno.test("latest counts every drop in MISSED frames, over a long run with credit", async () => {
  const sink = new Sink();
  const queue = new SubscriberQueue(sink.write, { capacity: 4, maxBytes: LOTS, policy: "latest" });
  queue.setWindow(3, UNLIMITED);
  sink.open();
  let published = 0;
  for (let round = 0; round < 50; round++) {
    for (let i = 0; i < 7; i++) {
      const subject = "abcdef"[(round * 7 + i * 5) % 6]!;
      queue.deliver(SIDS, body(subject, round % 200), subject);
      published++;
    }
    await new Promise((r) => setTimeout(r, 0));
    if (round % 3 === 0) queue.credit(3, LOTS);
  }
  queue.credit(LOTS, LOTS);
  assert(await queue.drained(5000));
  const labels = sink.labels();
  const events = labels.filter((l) => !l.startsWith("M")).length;
  const missed = labels.filter((l) => l.startsWith("M")).reduce(
    (n, l) => n + Number(l.slice(1)),
    0,
  );
  assertEquals(events, queue.delivered);
  assertEquals(missed, queue.dropped);
  assertEquals(events + missed, published);
  assert(queue.dropped > 0, "some were conflated");
});

Deno.test("latest is bounded in bytes: the oldest makes room, and an event over the bound is dropped", async () => {
  const size = eventFrameBytes(SIDS, body("a", 0, 100));
  const sink = new Sink();
  const queue = new SubscriberQueue(sink.write, {
    capacity: 100,
    maxBytes: 2 * size + size / 2,
    policy: "latest",
  });
  queue.deliver(SIDS, body("z", 0), "z"); // with the writer
  for (const s of "abc") queue.deliver(SIDS, body(s, 1, 100), s);
  assertEquals([queue.depth, queue.bytes, queue.dropped], [2, 2 * size, 1]);
  queue.deliver(SIDS, body("d", 1, 10_000), "d");
  assertEquals([queue.depth, queue.dropped], [2, 2], "too large for the queue: dropped");
  sink.open();
  assert(await queue.drained(5000));
  assertEquals(sink.labels(), ["z0", "M2", "b1", "c1"]);
});

Deno.test("latest counts its bytes in the node's budget, gives them back, and makes room for it", async () => {
  const budget = new QueueBudget(200_000);
  const sink = new Sink();
  const queue = new SubscriberQueue(
    sink.write,
    { capacity: 1000, maxBytes: LOTS, policy: "latest" },
    undefined,
    budget,
  );
  queue.deliver(SIDS, body("z", 0), "z");
  for (let i = 0; i < 10; i++) queue.deliver(SIDS, body(`s${i}`, 1, 30_000), `s${i}`);
  assert(budget.used <= 200_000, `within the budget: ${budget.used}`);
  assertEquals(budget.used, queue.bytes);
  assert(queue.dropped > 0);
  sink.open();
  assert(await queue.drained(5000));
  assertEquals(budget.used, 0);
  queue.deliver(SIDS, body("y", 1, 10), "y");
  queue.close();
  assertEquals([budget.used, queue.depth], [0, 0]);
});

Deno.test("latest sends control frames ahead, reads the key from the body when not given, never holds", async () => {
  const sink = new Sink();
  const queue = new SubscriberQueue(sink.write, { capacity: 2, maxBytes: LOTS, policy: "latest" });
  queue.control(PONG_FRAME);
  assertEquals(queue.deliver(SIDS, body("Quote", 1)), true);
  assertEquals(queue.deliver(SIDS, body("QUOTE", 2)), true, "the same subject, another spelling");
  assertEquals(queue.deliver(SIDS, body("other", 1)), true);
  assertEquals(queue.deliver(SIDS, body("third", 1)), true);
  assertEquals(queue.hasRoom(), false);
  await queue.whenRoom(); // never waits: latest does not hold publishers
  sink.open();
  assert(await queue.drained(5000));
  assertEquals(sink.labels(), [`T${FrameType.PONG}`, "M2", "other1", "third1"]);
  assertEquals(queue.hasRoom(), true);
});

Deno.test("LatestStore.take() stops at the event and byte limits, always taking one", () => {
  const store = new LatestStore();
  const limits = { capacity: 10, maxBytes: LOTS };
  for (const s of "abcd") store.put(s, SIDS, body(s, 1, 50), limits);
  const size = eventFrameBytes(SIDS, body("a", 1, 50));
  assertEquals(store.take(2, LOTS)?.count, 2);
  assertEquals(store.take(LOTS, 1)?.count, 1, "one, even over the byte limit");
  const last = store.take(LOTS, LOTS);
  assertEquals([last?.count, last?.eventBytes, store.depth, store.bytes], [1, size, 0, 0]);
  assertEquals(store.take(LOTS, LOTS), undefined);
});
