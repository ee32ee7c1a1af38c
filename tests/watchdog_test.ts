/**
 * The shared watchdog: one sweep over many connections pings the quiet, drops the silent,
 * the slow handshakes and the slow consumers, spares (and pings) a connection the server itself
 * holds, and keeps no timer when nothing is watched.
 */

import { assert, assertEquals, assertMatch } from "./_assert.ts";
import { type OverflowPolicy, SubscriberQueue } from "../lib/broker/subscriber_queue.ts";
import { ErrorCode } from "../lib/protocol/constants.ts";
import { PING_FRAME } from "../lib/protocol/frames/control.ts";
import { ReliabilityCounters } from "../lib/session/counters.ts";
import { HANDSHAKE_TIMEOUT_MS, Watchdog, type Watched } from "../lib/session/watchdog.ts";

class FakeConnection implements Watched {
  readonly written: Uint8Array[] = [];
  readonly queue: SubscriberQueue;
  lastPing = 0;
  held = false;
  closedWith: number | undefined;
  reason: string | undefined;
  timedOut = false;

  constructor(
    readonly remote: string,
    readonly connectedAt: number,
    public lastSeen: number,
    public ready: boolean,
    policy: OverflowPolicy = "block",
  ) {
    this.queue = new SubscriberQueue(
      (bytes) => {
        this.written.push(bytes.slice());
        return Promise.resolve();
      },
      { capacity: 4, maxBytes: 1 << 20, policy },
    );
  }

  close(code?: number, reason?: string): void {
    this.closedWith = code;
    this.reason = reason;
    this.queue.close();
  }

  handshakeTimedOut(): void {
    this.timedOut = true;
  }
}

Deno.test("one watchdog sweep pings the quiet, drops the silent and the slow handshake", async () => {
  const counters = new ReliabilityCounters();
  const watchdog = new Watchdog({ heartbeatMs: 1000, slowConsumerMs: 0, counters });
  const now = 1_000_000;
  const busy = new FakeConnection("busy", now - 5000, now - 10, true);
  const quiet = new FakeConnection("quiet", now - 5000, now - 1500, true);
  const silent = new FakeConnection("silent", now - 5000, now - 2500, true);
  const slowHello = new FakeConnection("hello", now - HANDSHAKE_TIMEOUT_MS, now, false);
  const newHello = new FakeConnection("new", now - 10, now, false);
  const all = [busy, quiet, silent, slowHello, newHello];
  for (const c of all) watchdog.add(c);
  watchdog.sweep(now);
  assert(await quiet.queue.drained(5000));
  assertEquals(busy.written.length + busy.lastPing, 0);
  assertEquals(quiet.lastPing, now);
  assertEquals(quiet.written, [PING_FRAME]);
  assertEquals(quiet.closedWith, undefined);
  assertEquals(silent.closedWith, ErrorCode.TIMEOUT);
  assertMatch(silent.reason!, /2500 ms/);
  assertEquals(counters.heartbeatTimeouts, 1);
  assertEquals([slowHello.timedOut, newHello.timedOut], [true, false]);
  // The dropped ones are no longer watched; a second sweep does not ping `quiet` again.
  assertEquals(watchdog.size, 3);
  watchdog.sweep(now + 100);
  assert(await quiet.queue.drained(5000));
  assertEquals(quiet.written.length, 1);
  for (const c of all) watchdog.delete(c);
  assertEquals(watchdog.size, 0);
  for (const c of all) c.queue.close();
});

Deno.test("the watchdog pings a quiet peer again only after another heartbeat interval", async () => {
  const watchdog = new Watchdog({ heartbeatMs: 1000, slowConsumerMs: 0 });
  const now = 1_000_000;
  const quiet = new FakeConnection("quiet", now - 5000, now - 1000, true);
  watchdog.add(quiet);
  const sweep = async (at: number) => {
    watchdog.sweep(at);
    assert(await quiet.queue.drained(5000));
  };
  await sweep(now);
  await sweep(now + 999);
  assertEquals(quiet.written.length, 1, "pinged once per interval");
  quiet.lastSeen = now + 500; // it answered
  await sweep(now + 1400);
  assertEquals(quiet.written.length, 1, "heard from 900 ms ago: not quiet");
  await sweep(now + 1600);
  assertEquals(quiet.written, [PING_FRAME, PING_FRAME]);
  assertEquals(quiet.closedWith, undefined);
  watchdog.delete(quiet);
  quiet.queue.close();
});

Deno.test("the watchdog does not drop a held connection for silence, and pings it each interval", async () => {
  const counters = new ReliabilityCounters();
  const watchdog = new Watchdog({ heartbeatMs: 1000, slowConsumerMs: 0, counters });
  const now = 1_000_000;
  // Its publish waits for room in a full queue: the server is not reading it, so it is silent.
  const held = new FakeConnection("held", now - 60_000, now - 30_000, true);
  held.held = true;
  watchdog.add(held);
  watchdog.sweep(now);
  assert(await held.queue.drained(5000));
  assertEquals(held.closedWith, undefined);
  // Pinged all the same: its answer is not read, but its client must not take the server for dead.
  assertEquals(held.written, [PING_FRAME]);
  watchdog.sweep(now + 999);
  assert(await held.queue.drained(5000));
  assertEquals(held.written.length, 1, "pinged once per interval");
  watchdog.sweep(now + 1000);
  assert(await held.queue.drained(5000));
  assertEquals(held.written, [PING_FRAME, PING_FRAME]);
  assertEquals([watchdog.size, counters.heartbeatTimeouts], [1, 0]);
  // Once the server reads it again, silence counts as usual.
  held.held = false;
  watchdog.sweep(now + 1001);
  assertEquals(held.closedWith, ErrorCode.TIMEOUT);
  assertEquals([watchdog.size, counters.heartbeatTimeouts], [0, 1]);
});

Deno.test("the watchdog drops a block-mode subscriber whose queue stayed full", () => {
  const counters = new ReliabilityCounters();
  const watchdog = new Watchdog({ heartbeatMs: 60_000, slowConsumerMs: 100, counters });
  const now = Date.now();
  const slow = new FakeConnection("slow", now, now, true);
  const fresh = new FakeConnection("fresh", now, now, true);
  slow.queue.fullSince = now - 150;
  fresh.queue.fullSince = now - 50;
  watchdog.add(slow);
  watchdog.add(fresh);
  watchdog.sweep(now);
  assertEquals(slow.closedWith, ErrorCode.SLOW_CONSUMER);
  assertMatch(slow.reason!, /queue of 4 events/);
  assertMatch(slow.reason!, /100 ms/);
  assertEquals(fresh.closedWith, undefined, "full for less than slowConsumerMs");
  assertEquals([watchdog.size, counters.slowConsumers], [1, 1]);
  watchdog.delete(fresh);
  fresh.queue.close();
});

Deno.test("the watchdog never drops a drop-mode subscriber as a slow consumer", () => {
  const watchdog = new Watchdog({ heartbeatMs: 60_000, slowConsumerMs: 100 });
  const now = Date.now();
  const dropNew = new FakeConnection("drop-new", now, now, true, "drop-new");
  const dropOld = new FakeConnection("drop-old", now, now, true, "drop-old");
  for (const c of [dropNew, dropOld]) {
    c.queue.fullSince = now - 10_000;
    watchdog.add(c);
  }
  watchdog.sweep(now);
  assertEquals([dropNew.closedWith, dropOld.closedWith], [undefined, undefined]);
  for (const c of [dropNew, dropOld]) {
    watchdog.delete(c);
    c.queue.close();
  }
});

Deno.test("the watchdog with slowConsumerMs 0 never drops a full subscriber", () => {
  const watchdog = new Watchdog({ heartbeatMs: 60_000, slowConsumerMs: 0 });
  const now = Date.now();
  const full = new FakeConnection("full", now, now, true);
  full.queue.fullSince = now - 3_600_000;
  watchdog.add(full);
  watchdog.sweep(now);
  assertEquals(full.closedWith, undefined);
  watchdog.delete(full);
  full.queue.close();
});

Deno.test("the watchdog gives a handshake HANDSHAKE_TIMEOUT_MS, however quiet", () => {
  const watchdog = new Watchdog({ heartbeatMs: 100, slowConsumerMs: 0 });
  const now = 1_000_000;
  const hello = new FakeConnection("hello", now, now - 60_000, false);
  watchdog.add(hello);
  watchdog.sweep(now + HANDSHAKE_TIMEOUT_MS - 1);
  assertEquals([hello.timedOut, hello.closedWith, hello.written.length], [false, undefined, 0]);
  watchdog.sweep(now + HANDSHAKE_TIMEOUT_MS);
  assertEquals([hello.timedOut, watchdog.size], [true, 0]);
  hello.queue.close();
});

Deno.test("the watchdog's own timer sweeps, and stops when the last connection leaves", async () => {
  const counters = new ReliabilityCounters();
  const watchdog = new Watchdog({ heartbeatMs: 20, slowConsumerMs: 0, counters });
  const silent = new FakeConnection("silent", Date.now(), Date.now() - 10_000, true);
  watchdog.add(silent);
  // No sweep() call here: the timer must find it. Bounded wait; the sanitizer checks the timer.
  for (let i = 0; i < 500 && silent.closedWith === undefined; i++) {
    await new Promise((r) => setTimeout(r, 10));
  }
  assertEquals(silent.closedWith, ErrorCode.TIMEOUT);
  assertEquals([watchdog.size, counters.heartbeatTimeouts], [0, 1]);
});

Deno.test("the watchdog runs one timer while anything is watched, and none after", () => {
  // The timer is unref'd, which the sanitizer does not see: count the real calls instead.
  const realSet = globalThis.setInterval;
  const realClear = globalThis.clearInterval;
  type TimerId = ReturnType<typeof setInterval>;
  const live = new Set<TimerId>();
  let started = 0;
  globalThis.setInterval = ((fn: () => void, ms?: number): TimerId => {
    const id = realSet(fn, ms);
    live.add(id);
    started++;
    return id;
  }) as typeof setInterval;
  globalThis.clearInterval = ((id?: TimerId) => {
    if (id !== undefined) live.delete(id);
    realClear(id);
  }) as typeof clearInterval;
  const now = Date.now();
  const a = new FakeConnection("a", now, now, true);
  const b = new FakeConnection("b", now, now, true);
  try {
    const watchdog = new Watchdog({ heartbeatMs: 1000, slowConsumerMs: 0 });
    assertEquals(live.size, 0, "no timer before anything is watched");
    watchdog.add(a);
    watchdog.add(b);
    assertEquals([started, live.size], [1, 1], "one timer for all");
    watchdog.delete(a);
    assertEquals(live.size, 1);
    watchdog.delete(b);
    watchdog.delete(b); // twice is harmless
    assertEquals([watchdog.size, live.size], [0, 0], "stopped with the last one");
    watchdog.add(a);
    assertEquals([started, live.size], [2, 1], "started again");
    watchdog.sweep(now + 10 * 60_000); // drops `a` for silence, which stops the timer
    assertEquals([a.closedWith, live.size], [ErrorCode.TIMEOUT, 0]);
  } finally {
    for (const id of live) realClear(id);
    globalThis.setInterval = realSet;
    globalThis.clearInterval = realClear;
    a.queue.close();
    b.queue.close();
  }
});
