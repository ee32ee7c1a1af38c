/**
 * The options and flags of issue 12's limits, and the server-wide queue
 * budget on its own: values, defaults, refusals that quote the value.
 */

import { assert, assertEquals, assertThrows } from "./_assert.ts";
import { serveOptions } from "../cli/serve.ts";
import { resolveOptions } from "../lib/server/options.ts";
import { QueueBudget } from "../lib/broker/queue_budget.ts";
import { SubscriberQueue } from "../lib/broker/subscriber_queue.ts";

Deno.test("es serve takes the byte limits with binary suffixes, and the header timeout", () => {
  const options = serveOptions([
    "--max-queued-bytes",
    "512M",
    "--max-queue-bytes",
    "32MiB",
    "--max-reply-bytes",
    "2097152",
    "--max-queue-size",
    "500",
    "--http-header-timeout-ms",
    "2000",
  ])!;
  assertEquals(options.maxQueuedBytes, 512 * 1024 * 1024);
  assertEquals(options.maxQueueBytes, 32 * 1024 * 1024);
  assertEquals(options.maxReplyBytes, 2 * 1024 * 1024);
  assertEquals(options.maxQueueSize, 500);
  assertEquals(options.httpHeaderTimeoutMs, 2000);
  assertThrows(() => serveOptions(["--max-queued-bytes", "lots"]), Error, '"lots"');
  assertThrows(() => serveOptions(["--max-queue-bytes", "0"]), Error, "--max-queue-bytes");
});

Deno.test("maxQueuedBytes defaults to 256 MiB and refuses less than one large frame's room", () => {
  const resolved = resolveOptions({});
  assertEquals(resolved.maxQueuedBytes, 256 * 1024 * 1024);
  assertEquals(resolved.httpHeaderTimeoutMs, 10_000);
  assertThrows(() => resolveOptions({ maxQueuedBytes: 1024 }), RangeError, "maxQueuedBytes 1024");
});

const SIDS = Uint8Array.of(0, 1, 0, 0, 0, 1);
const LOTS = 1 << 30;
const never = () => new Promise<void>(() => {});

Deno.test("QueueBudget: past the total, queues over 64 KiB are full, smaller ones still take events", () => {
  const budget = new QueueBudget(200 * 1024);
  const limits = { capacity: 10_000, maxBytes: LOTS, policy: "drop-new" as const };
  // Writes that never finish: what is queued stays queued.
  const frozen = new SubscriberQueue(never, limits, undefined, budget);
  const body = new Uint8Array(10 * 1024);
  for (let i = 0; i < 30; i++) frozen.deliver(SIDS, body);
  assert(budget.used <= 200 * 1024 + 11 * 1024, `${budget.used} bytes counted`);
  assert(frozen.dropped > 0 && budget.dropped === frozen.dropped, "drops for the total counted");
  const healthy = new SubscriberQueue(never, limits, undefined, budget);
  for (let i = 0; i < 3; i++) assert(healthy.deliver(SIDS, body), "under the floor");
  assertEquals([healthy.dropped, healthy.depth], [0, 2], "one in the stuck write, two queued");
  frozen.close();
  healthy.close();
  assertEquals(budget.used, 0, "closing gives the bytes back");
});
