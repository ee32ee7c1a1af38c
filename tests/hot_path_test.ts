/**
 * The optimised publish → deliver path keeps the semantics: subjects as
 * spelled and matched case-insensitively, many distinct subjects through the
 * subject caches, payloads intact whatever their size, binaries that stay
 * valid after later reads, and malformed PUB frames still refused.
 */

import { connect } from "../lib/client/client.ts";
import { ClientConnection } from "../lib/client/connection.ts";
import { toEventOrSkip } from "../lib/client/event.ts";
import { ErrorCode, FrameType } from "../lib/protocol/constants.ts";
import { assert, assertEquals } from "./_assert.ts";
import { startTestServer, waitUntil } from "./_helpers.ts";

for (const workers of [1, 2]) {
  Deno.test(`(workers ${workers}) subjects keep their spelling and match case-insensitively, also in multi-subject publishes`, async () => {
    await using server = await startTestServer({ workers });
    await using sub = await connect({ esURI: server.uri });
    await using pub = await connect({ esURI: server.uri });
    const exact = await sub.subscribe("stock.sun");
    const pattern = await sub.subscribeMatch("^NEWS\\.");
    await pub.publish("STOCK.Sun", 1);
    await pub.publish(["stock.SUN", "news.World"], 2);
    await pub.flush();
    const got: [string, unknown][] = [];
    for await (const ev of exact) {
      got.push([ev.subject, ev.msg]);
      if (got.length === 2) break;
    }
    assertEquals(got, [["STOCK.Sun", 1], ["stock.SUN", 2]]);
    for await (const ev of pattern) {
      assertEquals([ev.subject, ev.msg], ["news.World", 2]);
      break;
    }
  });

  Deno.test(`(workers ${workers}) binaries of every size arrive intact and stay intact after later reads`, async () => {
    await using server = await startTestServer({ workers });
    // Room for every event in the client: the test reads them only after the last is sent.
    await using sub = await connect({ esURI: server.uri, bufferSize: 5000, bufferBytes: 1 << 30 });
    await using pub = await connect({ esURI: server.uri });
    const stream = await sub.subscribe("bin");
    const sizes = [0, 1, 63, 64, 1000, 1025, 4096, 70_000, 200_000];
    const total = 3000;
    const sizeOf = (i: number) => sizes[i % sizes.length]!;
    for (let i = 0; i < total; i++) {
      await pub.publish("bin", new Uint8Array(sizeOf(i)).fill(i % 251));
    }
    await pub.flush();
    const kept: Uint8Array[] = [];
    for await (const ev of stream) {
      kept.push(ev.msg as Uint8Array);
      if (kept.length === total) break;
    }
    // Checked only after everything arrived: no message may alias a reused buffer.
    kept.forEach((msg, i) => {
      assertEquals(msg.length, sizeOf(i), `message ${i} size`);
      assert(msg.every((b) => b === i % 251), `message ${i} was overwritten`);
    });
  });

  Deno.test(`(workers ${workers}) 20,000 distinct subjects all route and keep their names`, async () => {
    await using server = await startTestServer({ workers });
    const conn = await ClientConnection.open(server.uri);
    const seen: string[] = [];
    conn.onEvent = (frame, cost) => {
      seen.push(`${frame.subject}=${toEventOrSkip(frame)!.msg}`);
      conn.consumed(cost);
    };
    await conn.subscribe(true, 1, "", ["^many\\."]);
    await using pub = await connect({ esURI: server.uri });
    const total = 20_000;
    for (let i = 0; i < total; i++) await pub.publish(`many.${i}.${"x".repeat(i % 7)}`, i);
    await pub.flush();
    await waitUntil(() => seen.length >= total, 20_000);
    for (let i = 0; i < total; i++) assertEquals(seen[i], `many.${i}.${"x".repeat(i % 7)}=${i}`);
    await conn.close();
  });
}

Deno.test("a PUB with an invalid UTF-8 subject is refused with an error and the connection stays up", async () => {
  await using server = await startTestServer();
  const conn = await ClientConnection.open(server.uri);
  const errors: Error[] = [];
  conn.onError = (e) => void errors.push(e);
  // PUB: u8 codec, u16 count = 1, u16 length = 2, subject 0xff 0xfe, payload.
  const body = [0, 0, 1, 0, 2, 0xff, 0xfe, 0xc0];
  const frame = new Uint8Array([0, 0, 0, body.length + 1, FrameType.PUB, ...body]);
  void conn.send(frame);
  await conn.flush();
  assertEquals(errors.length, 1);
  assertEquals((errors[0] as Error & { code?: number }).code, ErrorCode.PROTOCOL);
  assert(/UTF-8/.test(errors[0]!.message), errors[0]!.message);
  await conn.close();
});

Deno.test("simple messages (integers, nil, booleans, floats, binaries) decode as the full decoder does", async () => {
  const { encodeMessage, decodeMessage } = await import("../lib/protocol/codec.ts");
  const { CodecTag } = await import("../lib/protocol/constants.ts");
  const values: unknown[] = [
    0,
    1,
    127,
    128,
    -1,
    -32,
    -33,
    65535,
    -70000,
    2 ** 40,
    null,
    true,
    false,
    0.5,
    -1e300,
    Number.NaN,
    new Uint8Array(0),
    new Uint8Array([1, 2, 3]),
    new Uint8Array(255).fill(7),
    new Uint8Array(256).fill(8),
    new Uint8Array(70_000).fill(9),
    "text",
    [1, new Uint8Array([4])],
    { a: new Uint8Array([5]) },
  ];
  for (const value of values) {
    const decoded = decodeMessage(CodecTag.MSGPACK, encodeMessage(value));
    if (typeof value === "number" && Number.isNaN(value)) assert(Number.isNaN(decoded));
    else assertEquals(decoded, value, `round trip of ${String(value)}`);
  }
});
