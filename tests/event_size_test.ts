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
import { connect, type Event, Publisher, type Subscription } from "../lib/client/mod.ts";

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

/** The first event of a subscription, or a failure after a generous safety timeout. */
async function firstOf(sub: Subscription): Promise<Event | string> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<string>((resolve) => {
    timer = setTimeout(() => resolve("nothing within 20 s"), 20_000);
  });
  const first = sub[Symbol.asyncIterator]().next().then((r) =>
    r.done ? "the stream ended" : r.value
  )
    .catch((error: Error) => `failed: ${error.message}`);
  try {
    return await Promise.race([first, timeout]);
  } finally {
    clearTimeout(timer);
  }
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
  await using cli = new EsProcess(["subscribe", "--es", server.uri, "--json", "--count", "1", "x"]);
  for (let i = 0; i < 1500 && !cli.stderr.includes("Subscribed"); i++) await delay(10);
  assert(cli.stderr.includes("Subscribed"), cli.stderr);

  await using pub = new Publisher({ esURI: server.uri });
  await assertRejects(() => pub.publish("x", payload(size + 1)), RangeError);
  await pub.publish("x", message);
  await pub.flush();

  const fromSubscriber = await subscriber.waitFor(1, 20_000).then(
    (events) => events[0]!.msg,
    (error: Error) => `failed: ${error.message}; listen: ${subscriber.listenError}`,
  );
  const fromTcp = await firstOf(tcpSub);
  const fromTcpPattern = await firstOf(tcpPatternSub);
  const fromWs = await firstOf(wsSub);
  await cli.status(20_000);
  const line = cli.stdoutLines.find((l) => l.startsWith("{"));
  const got = {
    Subscriber: summary(fromSubscriber, message),
    "connect()": typeof fromTcp === "string" ? fromTcp : summary(fromTcp.msg, message),
    "connect() pattern": typeof fromTcpPattern === "string"
      ? fromTcpPattern
      : summary(fromTcpPattern.msg, message),
    "connect() over WebSocket": typeof fromWs === "string" ? fromWs : summary(fromWs.msg, message),
    "es subscribe": line ? summary(JSON.parse(line).msg, message) : `nothing: ${cli.stderr}`,
  };
  const want = `${size} bytes`;
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
