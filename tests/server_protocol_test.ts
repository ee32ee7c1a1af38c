/**
 * End-to-end tests of the server against hand-made frames: requests answered
 * by id, bad input refused with ERR or BYE, and the server still serving
 * everyone else afterwards.
 */

import { assert, assertEquals } from "./_assert.ts";
import { startTestServer } from "./_helpers.ts";
import { RawSubscriber } from "./_raw_subscriber.ts";
import { CollectingSubscriber } from "./_collect.ts";
import { Publisher } from "../lib/client/publisher.ts";
import { connect } from "../lib/client/client.ts";
import { ErrorCode, FrameType } from "../lib/protocol/constants.ts";
import {
  decodeBye,
  decodeErr,
  decodeEvent,
  decodeRequest,
  encodePub,
  encodeRequest,
  encodeSubscribe,
  type EventFrame,
  newEventFrame,
  PING_FRAME,
  utf8,
} from "../lib/protocol/frames/mod.ts";
import { SubjectCache } from "../lib/protocol/subject_cache.ts";
import { rawConnect } from "./_raw_peer.ts";
import { encodeMessage } from "../lib/protocol/codec.ts";
import type { EventServer } from "../lib/server/event_server.ts";

/** Checks that the server still routes events between ordinary clients. */
async function assertStillServing(server: EventServer): Promise<void> {
  const sub = new CollectingSubscriber({ esURI: server.uri });
  await sub.subscribe("alive");
  sub.start();
  const pub = new Publisher({ esURI: server.uri });
  await pub.publish("alive", "yes");
  assertEquals((await sub.waitFor(1))[0]!.msg, "yes");
  await pub.close();
  await sub.stop();
}

/** A SUB or SUBMATCH whose ids start at 100 times its request id. */
function encodeListRequest(
  type: typeof FrameType.SUB | typeof FrameType.SUBMATCH,
  requestId: number,
  items: string[],
): Uint8Array {
  return encodeSubscribe(type, { requestId, firstSid: requestId * 100, group: "", items });
}

/** Decodes an EVENT body. */
function readEvent(body: Uint8Array): EventFrame {
  const event = newEventFrame();
  decodeEvent(body, new SubjectCache(), event);
  return event;
}

/** Reads frames until one of `type` arrives. */
async function expectFrame(raw: RawSubscriber, type: number) {
  const frame = await raw.nextFrame();
  assertEquals(
    frame.type,
    type,
    `expected frame 0x${type.toString(16)}, got 0x${frame.type.toString(16)}`,
  );
  return frame;
}

Deno.test("Server answers FLUSH, STATS and PING by request id", async () => {
  await using server = await startTestServer();
  await using raw = await RawSubscriber.connect(server.uri);
  await raw.send(encodeRequest(FrameType.FLUSH, 41));
  assertEquals(decodeRequest((await expectFrame(raw, FrameType.OK)).body, "OK").requestId, 41);
  await raw.send(encodeRequest(FrameType.STATS, 42));
  const stats = decodeRequest((await expectFrame(raw, FrameType.OK)).body, "OK");
  assertEquals(stats.requestId, 42);
  assertEquals(JSON.parse(new TextDecoder().decode(stats.body)).uri, server.uri);
  await raw.send(PING_FRAME);
  await expectFrame(raw, FrameType.PONG);
});

Deno.test("Server refuses a frame over the limit before buffering it, and says why", async () => {
  await using server = await startTestServer();
  await using raw = await RawSubscriber.connect(server.uri);
  // Only the length prefix: 16 MiB announced, nothing of it sent.
  await raw.send(new Uint8Array([0x01, 0x00, 0x00, 0x00]));
  const bye = decodeBye((await expectFrame(raw, FrameType.BYE)).body);
  assertEquals(bye.code, ErrorCode.FRAME_TOO_LARGE);
  assert(bye.reason.includes("16777216"), bye.reason);
  assert(await raw.closedByServer(), "the server closes the connection");
  await assertStillServing(server);
});

Deno.test("Server refuses a zero-length frame and closes the connection", async () => {
  await using server = await startTestServer();
  await using raw = await RawSubscriber.connect(server.uri);
  await raw.send(new Uint8Array([0, 0, 0, 0]));
  assertEquals(decodeBye((await expectFrame(raw, FrameType.BYE)).body).code, ErrorCode.PROTOCOL);
  assert(await raw.closedByServer());
  await assertStillServing(server);
});

Deno.test("Server refuses a first frame that is not CONNECT", async () => {
  await using server = await startTestServer();
  await using raw = await RawSubscriber.open(server.uri);
  await raw.send(encodePub(1, [utf8("x")], new Uint8Array(0)));
  assertEquals(decodeBye((await expectFrame(raw, FrameType.BYE)).body).code, ErrorCode.PROTOCOL);
  assert(await raw.closedByServer());
  await assertStillServing(server);
});

Deno.test("Server refuses an unsupported protocol version with ERR VERSION", async () => {
  await using server = await startTestServer();
  await using raw = await RawSubscriber.open(server.uri);
  await raw.send(rawConnect("future", { version: 99 }));
  const err = decodeErr((await expectFrame(raw, FrameType.ERR)).body);
  assertEquals(err.code, ErrorCode.VERSION);
  assert(err.message.includes("99"), err.message);
  assert(await raw.closedByServer());
});

Deno.test("Server answers an invalid pattern with ERR BAD_PATTERN for that request, registering nothing", async () => {
  await using server = await startTestServer();
  await using raw = await RawSubscriber.connect(server.uri);
  await raw.send(encodeListRequest(FrameType.SUBMATCH, 7, ["^ok", "(bad"]));
  const err = decodeErr((await expectFrame(raw, FrameType.ERR)).body);
  assertEquals([err.requestId, err.code], [7, ErrorCode.BAD_PATTERN]);
  assert(err.message.includes('"(bad"'), err.message);
  const stats = await server.stats();
  assertEquals(stats.patterns, 0);
  // The connection goes on.
  await raw.send(encodeRequest(FrameType.FLUSH, 8));
  assertEquals(decodeRequest((await expectFrame(raw, FrameType.OK)).body, "OK").requestId, 8);
});

Deno.test("Server refuses empty and over-long subjects with ERR BAD_SUBJECT and goes on", async () => {
  await using server = await startTestServer();
  await using raw = await RawSubscriber.connect(server.uri);
  await raw.send(encodeListRequest(FrameType.SUB, 3, [""]));
  let err = decodeErr((await expectFrame(raw, FrameType.ERR)).body);
  assertEquals([err.requestId, err.code], [3, ErrorCode.BAD_SUBJECT]);
  await raw.send(encodeListRequest(FrameType.SUB, 4, ["x".repeat(1025)]));
  err = decodeErr((await expectFrame(raw, FrameType.ERR)).body);
  assertEquals([err.requestId, err.code], [4, ErrorCode.BAD_SUBJECT]);
  await raw.send(encodePub(1, [new Uint8Array(0)], encodeMessage(1)));
  err = decodeErr((await expectFrame(raw, FrameType.ERR)).body);
  assertEquals(err.code, ErrorCode.BAD_SUBJECT);
  assertEquals((await server.stats()).totals.publishes, 0);
  await raw.send(encodeRequest(FrameType.FLUSH, 5));
  await expectFrame(raw, FrameType.OK);
});

Deno.test("Server answers malformed and unknown frames with ERR and keeps the connection", async () => {
  await using server = await startTestServer();
  await using raw = await RawSubscriber.connect(server.uri);
  // A PUB whose subject length runs past the frame.
  await raw.send(new Uint8Array([0, 0, 0, 6, FrameType.PUB, 1, 0, 1, 0, 9]));
  assertEquals(decodeErr((await expectFrame(raw, FrameType.ERR)).body).code, ErrorCode.PROTOCOL);
  // A PUB with no subject.
  await raw.send(new Uint8Array([0, 0, 0, 4, FrameType.PUB, 1, 0, 0]));
  assertEquals(decodeErr((await expectFrame(raw, FrameType.ERR)).body).code, ErrorCode.PROTOCOL);
  // An unknown frame type.
  await raw.send(new Uint8Array([0, 0, 0, 1, 0x7f]));
  assertEquals(decodeErr((await expectFrame(raw, FrameType.ERR)).body).code, ErrorCode.PROTOCOL);
  // A SUB with trailing bytes.
  const sub = encodeListRequest(FrameType.SUB, 9, ["a"]);
  const longer = new Uint8Array([...sub, 0]);
  new DataView(longer.buffer).setUint32(0, sub.length - 4 + 1);
  await raw.send(longer);
  const trailing = decodeErr((await expectFrame(raw, FrameType.ERR)).body);
  assertEquals([trailing.requestId, trailing.code], [9, ErrorCode.PROTOCOL]);
  // A STATS too short to hold its request id.
  await raw.send(new Uint8Array([0, 0, 0, 3, FrameType.STATS, 0, 0]));
  assertEquals(decodeErr((await expectFrame(raw, FrameType.ERR)).body).code, ErrorCode.PROTOCOL);
  // Still a working subscriber.
  await raw.send(encodeListRequest(FrameType.SUB, 10, ["works"]));
  await expectFrame(raw, FrameType.OK);
  const pub = new Publisher({ esURI: server.uri });
  await pub.publish("WORKS", 1);
  const event = readEvent((await expectFrame(raw, FrameType.EVENT)).body);
  assertEquals(event.subject, "WORKS");
  await pub.close();
});

Deno.test("Server survives a client that leaves in the middle of a frame", async () => {
  await using server = await startTestServer();
  const raw = await RawSubscriber.connect(server.uri);
  await raw.send(new Uint8Array([0, 0, 1, 0, FrameType.PUB, 1, 2]));
  raw.close();
  await assertStillServing(server);
});

Deno.test("Server forgets a subscriber's subscriptions when its connection ends", async () => {
  await using server = await startTestServer();
  const raw = await RawSubscriber.subscribe(server.uri, ["gone"]);
  assertEquals((await server.stats()).exactSubjects, 1);
  raw.close();
  const deadline = Date.now() + 5000;
  while ((await server.stats()).exactSubjects > 0 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 10));
  }
  assertEquals((await server.stats()).exactSubjects, 0);
  assertEquals((await server.stats()).connections, 0);
});

Deno.test("Server refuses a whole multi-subject publish when one subject is bad, routing none", async () => {
  await using server = await startTestServer();
  await using raw = await RawSubscriber.subscribe(server.uri, ["good"]);
  await raw.send(encodePub(1, [utf8("good"), new Uint8Array(0)], encodeMessage("x")));
  assertEquals(decodeErr((await expectFrame(raw, FrameType.ERR)).body).code, ErrorCode.BAD_SUBJECT);
  await raw.send(encodePub(1, [utf8("good"), utf8("x".repeat(1025))], encodeMessage("x")));
  assertEquals(decodeErr((await expectFrame(raw, FrameType.ERR)).body).code, ErrorCode.BAD_SUBJECT);
  await raw.send(encodePub(1, [utf8("good")], encodeMessage("only this")));
  const event = readEvent((await expectFrame(raw, FrameType.EVENT)).body);
  assertEquals(event.subject, "good");
  assertEquals((await server.stats()).totals.events, 1);
});

Deno.test("A payload that does not decode is skipped by clients, which keep working", async () => {
  await using server = await startTestServer();
  const sub = new CollectingSubscriber({ esURI: server.uri, threading: false });
  await sub.subscribe("mixed");
  sub.start();
  await using client = await connect({ esURI: server.uri });
  const stream = await client.subscribe("mixed");
  await using raw = await RawSubscriber.connect(server.uri);
  // 0xc1 is never used in MessagePack; codec 99 is unknown.
  await raw.send(encodePub(1, [utf8("mixed")], new Uint8Array([0xc1])));
  await raw.send(encodePub(99, [utf8("mixed")], new Uint8Array([1])));
  await raw.send(encodePub(1, [utf8("mixed")], encodeMessage("fine")));
  assertEquals((await sub.waitFor(1)).map((e) => e.msg), ["fine"]);
  const iterator = stream[Symbol.asyncIterator]();
  const first = await iterator.next();
  assertEquals(first.value?.msg, "fine");
  await iterator.return?.();
  await sub.stop();
});
