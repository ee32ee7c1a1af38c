/**
 * A message that `publish()` accepts is delivered to every kind of
 * subscriber, through the real `es serve`, at the default frame limit and at
 * another: the EVENT that carries it is longer than the PUB it came from
 * (subscription ids, time), and the clients allow for that. One byte more
 * than the largest accepted payload is refused by `publish()` itself.
 */

import { assert, assertEquals, assertRejects } from "./_assert.ts";
import { delay, EsProcess, spawnServe } from "./_helpers.ts";
import { CollectingSubscriber } from "./_collect.ts";
import { connect, Publisher, type Subscription } from "../lib/client/mod.ts";

/**
 * The largest `Uint8Array` publishable on the one-letter subject "x" under a
 * frame limit of `maxFrameBytes`: a PUB frame is type (1), codec (1), subject
 * count (2), subject length (2), the subject (1), then the MessagePack `bin`
 * (a header of 3 bytes up to 65535 bytes, else 5, then the bytes).
 */
function largestPayload(maxFrameBytes: number): number {
  const fixed = 1 + 1 + 2 + 2 + 1;
  const small = maxFrameBytes - fixed - 3;
  return small <= 0xffff ? small : maxFrameBytes - fixed - 5;
}

/** Bytes that are not all alike, so that a shifted or truncated payload shows. */
function payload(size: number): Uint8Array {
  const bytes = new Uint8Array(size);
  for (let i = 0; i < size; i++) bytes[i] = (i * 31 + 7) & 0xff;
  return bytes;
}

/** What a subscriber got: the size of the message, and whether its bytes are the ones sent. */
function summary(msg: unknown, expected: Uint8Array): string {
  const bytes = msg instanceof Uint8Array
    ? msg
    : Array.isArray(msg)
    ? Uint8Array.from(msg as number[])
    : undefined;
  if (bytes === undefined) return `not bytes: ${typeof msg}`;
  const same = bytes.length === expected.length && bytes.every((b, i) => b === expected[i]);
  return `${bytes.length} bytes${same ? "" : ", different"}`;
}

/** Summaries of the first `count` events of a subscription; gives up after a generous safety timeout. */
async function firstOf(sub: Subscription, count: number, expected: Uint8Array): Promise<string[]> {
  const got: string[] = [];
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<void>((resolve) => {
    timer = setTimeout(() => (got.push("nothing more within 20 s"), resolve()), 20_000);
  });
  const reading = (async () => {
    for await (const event of sub) {
      got.push(summary(event.msg, expected));
      if (got.length === count) return;
    }
    got.push("the stream ended");
  })().catch((error: Error) => void got.push(`failed: ${error.message}`));
  try {
    await Promise.race([reading, timeout]);
  } finally {
    clearTimeout(timer);
  }
  return got;
}

async function deliveredAtLimit(maxFrameBytes: number | undefined): Promise<void> {
  const limitArgs = maxFrameBytes === undefined ? [] : ["--max-frame-bytes", String(maxFrameBytes)];
  await using server = await spawnServe(["-N", "--http-port", "0", ...limitArgs]);
  const size = largestPayload(maxFrameBytes ?? 1024 * 1024);
  const message = payload(size);
  const wsURI = server.httpURL!.replace(/^http/, "ws").replace(/\/$/, "");

  // Two matching subscriptions: the EVENT carries two ids, longer still than with one.
  const subscriber = new CollectingSubscriber({ esURI: server.uri });
  await subscriber.subscribe("x");
  await subscriber.subscribeMatch("^x$");
  subscriber.start();
  await using tcpClient = await connect({ esURI: server.uri });
  const tcpSub = await tcpClient.subscribe("x");
  const tcpPatternSub = await tcpClient.subscribeMatch("X");
  await using wsClient = await connect({ esURI: wsURI });
  const wsSub = await wsClient.subscribe("x");
  await using cli = new EsProcess(["subscribe", "--es", server.uri, "--json", "--count", "2", "x"]);
  for (let i = 0; i < 1500 && !cli.stderr.includes("Subscribed"); i++) await delay(10);
  assert(cli.stderr.includes("Subscribed"), cli.stderr);

  // The largest message, once from a TCP publisher and once from the WebSocket client.
  await using pub = new Publisher({ esURI: server.uri });
  await assertRejects(() => pub.publish("x", payload(size + 1)), RangeError);
  await assertRejects(() => wsClient.publish("x", payload(size + 1)), RangeError);
  await pub.publish("x", message);
  await pub.flush();
  await wsClient.publish("x", message);
  await wsClient.flush();

  const fromSubscriber = await subscriber.waitFor(2, 20_000).then(
    (events) => events.map((e) => summary(e.msg, message)),
    (error: Error) => [`failed: ${error.message}; listen: ${subscriber.listenError}`],
  );
  const fromTcp = await firstOf(tcpSub, 2, message);
  const fromTcpPattern = await firstOf(tcpPatternSub, 2, message);
  const fromWs = await firstOf(wsSub, 2, message);
  await cli.status(20_000);
  const lines = cli.stdoutLines.filter((l) => l.startsWith("{"));
  const got = {
    Subscriber: fromSubscriber,
    "connect()": fromTcp,
    "connect() pattern": fromTcpPattern,
    "connect() over WebSocket": fromWs,
    "es subscribe": lines.length > 0
      ? lines.map((l) => summary(JSON.parse(l).msg, message))
      : [`nothing: ${cli.stderr}`],
  };
  const want = [`${size} bytes`, `${size} bytes`];
  assertEquals(got, {
    Subscriber: want,
    "connect()": want,
    "connect() pattern": want,
    "connect() over WebSocket": want,
    "es subscribe": want,
  });
  await subscriber.stop();
}

Deno.test("The largest message publish() accepts under the default 1 MiB limit reaches every kind of subscriber", async () => {
  assertEquals(largestPayload(1024 * 1024), 1_048_564);
  await deliveredAtLimit(undefined);
});

Deno.test("The largest message publish() accepts under --max-frame-bytes 65536 reaches every kind of subscriber", async () => {
  await deliveredAtLimit(65536);
});

Deno.test("The largest message publish() accepts under --max-frame-bytes 2097152 reaches every kind of subscriber", async () => {
  // Over the default: a client that assumed 1 MiB instead of the limit the server announces fails.
  await deliveredAtLimit(2 * 1024 * 1024);
});
