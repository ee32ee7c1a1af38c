/**
 * Block-mode cycles are broken in bounded time (issue 12, item 9): a client
 * that publishes to itself, or two that publish to each other, before they
 * read. The slow-consumer timeout (default 30 s; small here for speed) cuts
 * the side whose queue stays full; it learns it from a BYE SLOW_CONSUMER.
 */

import { assert, assertEquals, assertMatch } from "./_assert.ts";
import { spawnServe, waitUntil } from "./_helpers.ts";
import { type Client, connect, ConnectionClosedError } from "../lib/client/mod.ts";
import { ErrorCode, FrameType } from "../lib/protocol/constants.ts";
import { decodeBye } from "../lib/protocol/frames/bye.ts";
import { encodeCredit } from "../lib/protocol/frames/control.ts";
import { RawSubscriber } from "./_raw_subscriber.ts";
import { fetchStats } from "../cli/stats.ts";
import { resolveOptions } from "../lib/server/options.ts";

const payload = new Uint8Array(16 * 1024);

/** Publishes `count` events on `subject`, then flushes; resolves with the error that ended it, if any. */
async function publishAll(client: Client, subject: string, count: number): Promise<unknown> {
  try {
    for (let i = 0; i < count; i++) await client.publish(subject, payload);
    await client.flush();
    return undefined;
  } catch (error) {
    return error;
  }
}

/** Resolves with `promise`'s value, or rejects after `ms` (a cycle left unbroken). */
function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    promise,
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} still stuck after ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

function assertSlowConsumer(error: unknown): void {
  assert(error instanceof ConnectionClosedError, `ended by ${error}`);
  assertEquals(error.code, ErrorCode.SLOW_CONSUMER);
  assertMatch(error.message, /Slow consumer/);
}

Deno.test("a subscriber that republishes to its own subject before it reads is cut as a slow consumer", async () => {
  await using server = await spawnServe(["-N", "--no-http", "--slow-consumer-ms", "500"]);
  await using client = await connect({ esURI: server.uri, reconnect: false });
  await client.subscribe("loop");
  // 3,000 × 16 KiB: past its own queue's 16 MiB bound, so its publish waits for itself.
  const error = await within(publishAll(client, "loop", 3000), 20_000, "the cycle");
  assertSlowConsumer(error);
  const stats = await fetchStats({ esURI: server.uri });
  assertEquals(stats.reliability?.slowConsumers, 1);
  await waitUntil(() => /Dropping slow consumer/.test(server.stderr), 5000, "the log line");
});

Deno.test("two clients that publish to each other before they read are cut, and nothing hangs", async () => {
  await using server = await spawnServe(["-N", "--no-http", "--slow-consumer-ms", "500"]);
  await using a = await connect({ esURI: server.uri, reconnect: false });
  await using b = await connect({ esURI: server.uri, reconnect: false });
  await a.subscribe("to.a");
  await b.subscribe("to.b");
  const ends = await within(
    Promise.all([publishAll(a, "to.b", 12_000), publishAll(b, "to.a", 12_000)]),
    30_000,
    "the cycle",
  );
  // Each side's queue stays full (neither reads): the first cut releases the other
  // publisher, whose own queue is still full, so it is cut too.
  const cut = ends.filter((e) => e !== undefined);
  assert(cut.length >= 1, "nobody was cut");
  cut.forEach(assertSlowConsumer);
  const stats = await fetchStats({ esURI: server.uri });
  assertEquals(stats.reliability?.slowConsumers, cut.length);
});

Deno.test("slowConsumerMs defaults to 30 s (0 keeps the original's wait for ever)", () => {
  assertEquals(resolveOptions({}).slowConsumerMs, 30_000);
  assertEquals(resolveOptions({ slowConsumerMs: 0 }).slowConsumerMs, 0);
});

Deno.test("a subscriber that takes one event at a time from a full queue counts as full (slow consumer)", async () => {
  await using server = await spawnServe([
    "-N",
    "--no-http",
    "--workers",
    "1",
    "--queue-size",
    "10",
    "--slow-consumer-ms",
    "500",
  ]);
  await using slow = await RawSubscriber.subscribe(server.uri, ["drip"], { windowEvents: 1 });
  await using publisher = await connect({ esURI: server.uri, reconnect: false });
  const publishing = publishAll(publisher, "drip", 200);
  // One event every 100 ms: the queue never drains below half.
  let byeCode = 0;
  for (let i = 0; i < 50 && byeCode === 0; i++) {
    await slow.send(encodeCredit(1, 0)).catch(() => {}); // (the server may be gone)
    const frame = await slow.nextFrame(2000).catch(() => undefined);
    if (frame === undefined) break;
    if (frame.type === FrameType.BYE) byeCode = decodeBye(frame.body).code;
    else if (frame.type === FrameType.EVENT) await new Promise((r) => setTimeout(r, 100));
  }
  assertEquals(byeCode, ErrorCode.SLOW_CONSUMER);
  assertEquals(await within(publishing, 10_000, "the publisher"), undefined);
});
