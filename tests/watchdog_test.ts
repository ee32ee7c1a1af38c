/** The shared watchdog: one sweep over many connections, and no timer left when none is watched. */

import { assertEquals } from "./_assert.ts";
import { SubscriberQueue } from "../lib/broker/subscriber_queue.ts";
import { PING_FRAME } from "../lib/protocol/frames.ts";
import { ErrorCode } from "../lib/protocol/constants.ts";
import { HANDSHAKE_TIMEOUT_MS, Watchdog, type Watched } from "../lib/server/watchdog.ts";
import { ReliabilityCounters } from "../lib/server/limits.ts";

class FakeConnection implements Watched {
  readonly written: Uint8Array[] = [];
  readonly queue = new SubscriberQueue(
    (bytes) => {
      this.written.push(bytes);
      return Promise.resolve();
    },
    { capacity: 4, block: true },
  );
  lastPing = 0;
  closedWith: number | undefined;
  timedOut = false;
  constructor(
    readonly remote: string,
    readonly connectedAt: number,
    public lastSeen: number,
    public ready: boolean,
  ) {}
  close(code?: number): void {
    this.closedWith = code;
    this.queue.close();
  }
  handshakeTimedOut(): void {
    this.timedOut = true;
  }
}

Deno.test("one watchdog sweep pings the quiet, drops the silent and the slow handshake", () => {
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
  assertEquals(busy.written.length + busy.lastPing, 0);
  assertEquals(quiet.lastPing, now);
  assertEquals(quiet.written, [PING_FRAME]);
  assertEquals(silent.closedWith, ErrorCode.TIMEOUT);
  assertEquals(counters.heartbeatTimeouts, 1);
  assertEquals([slowHello.timedOut, newHello.timedOut], [true, false]);
  // The dropped ones are no longer watched; a second sweep does not ping `quiet` again.
  assertEquals(watchdog.size, 3);
  watchdog.sweep(now + 100);
  assertEquals(quiet.written.length, 1);
  for (const c of all) watchdog.delete(c);
  assertEquals(watchdog.size, 0);
  for (const c of all) c.queue.close();
});

Deno.test("the watchdog drops a block-mode subscriber whose queue stayed full", () => {
  const watchdog = new Watchdog({ heartbeatMs: 60_000, slowConsumerMs: 100 });
  const now = Date.now();
  const slow = new FakeConnection("slow", now, now, true);
  slow.queue.fullSince = now - 150;
  watchdog.add(slow);
  watchdog.sweep(now);
  assertEquals(slow.closedWith, ErrorCode.SLOW_CONSUMER);
  assertEquals(watchdog.size, 0);
});
