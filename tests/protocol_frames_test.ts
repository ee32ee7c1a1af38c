/** Unit tests of the frame encoders and decoders: every pair round-trips; truncated bodies fail clearly. */

import { assert, assertEquals, assertThrows } from "./_assert.ts";
import { ErrorCode, FrameType, NONCE_BYTES } from "../lib/protocol/constants.ts";
import { FrameError } from "../lib/protocol/errors.ts";
import {
  decodeBye,
  decodeConnect,
  decodeErr,
  decodeEvent,
  decodeHello,
  decodeListRequest,
  decodePub,
  decodeReady,
  decodeRequest,
  encodeBye,
  encodeConnect,
  encodeEmpty,
  encodeErr,
  encodeEvent,
  encodeHello,
  encodeListRequest,
  encodeOk,
  encodePub,
  encodeReady,
  encodeRequest,
  fromUtf8,
  PING_FRAME,
  PONG_FRAME,
  utf8,
} from "../lib/protocol/frames.ts";
import { FrameParser } from "../lib/protocol/parser.ts";

/** Runs a whole frame through the parser and returns its type and body (a copy). */
function parseOne(frame: Uint8Array): { type: number; body: Uint8Array } {
  const frames = [...new FrameParser().push(frame)].map((f) => ({
    type: f.type,
    body: f.body.slice(),
  }));
  assertEquals(frames.length, 1);
  const view = new DataView(frame.buffer, frame.byteOffset);
  assertEquals(view.getUint32(0), frame.length - 4, "length prefix = type byte + body");
  return frames[0]!;
}

/** Every strict prefix of `body` must make `decode` throw a `FrameError`. */
function assertTruncationsRefused(
  body: Uint8Array,
  decode: (b: Uint8Array) => unknown,
  name: string,
) {
  for (let n = 0; n < body.length; n++) {
    assertThrows(
      () => decode(body.subarray(0, n)),
      (e: unknown) => e instanceof FrameError && e.code === ErrorCode.PROTOCOL,
      `${name} truncated to ${n} of ${body.length} bytes`,
    );
  }
}

const nonce = (seed: number) => new Uint8Array(NONCE_BYTES).map((_, i) => (i * 31 + seed) & 0xff);

Deno.test("encodeHello/decodeHello round-trip", () => {
  const hello = {
    version: 1,
    authRequired: true,
    serverNonce: nonce(1),
    heartbeatMs: 30_000,
    maxFrameBytes: 1 << 20,
    serverName: "es/0.1.0 ✓",
  };
  const { type, body } = parseOne(encodeHello(hello));
  assertEquals(type, FrameType.HELLO);
  assertEquals(decodeHello(body), hello);
  // The server name is the rest of the body, so only the fixed fields can be cut short.
  assertTruncationsRefused(body.subarray(0, 2 + NONCE_BYTES + 8), decodeHello, "HELLO");
});

Deno.test("encodeConnect/decodeConnect round-trip, with and without a proof", () => {
  for (const proof of [new Uint8Array(0), new Uint8Array(32).fill(9)]) {
    const connect = { version: 1, clientNonce: nonce(2), proof, clientName: "es-client/x" };
    const { type, body } = parseOne(encodeConnect(connect));
    assertEquals(type, FrameType.CONNECT);
    assertEquals(decodeConnect(body), connect);
    assertTruncationsRefused(
      body.subarray(0, 2 + NONCE_BYTES + proof.length),
      decodeConnect,
      "CONNECT",
    );
  }
});

Deno.test("encodeReady/decodeReady round-trip", () => {
  const proof = new Uint8Array(32).fill(5);
  const { type, body } = parseOne(encodeReady(proof));
  assertEquals(type, FrameType.READY);
  assertEquals(decodeReady(body), proof);
});

Deno.test("encodePub/decodePub round-trip one and several subjects", () => {
  for (const subjects of [["STOCKQUOTE.SUN"], ["a", "Bé", "c.d.e", "ünï"]]) {
    const payload = new Uint8Array([0, 1, 2, 255]);
    const { type, body } = parseOne(encodePub(1, subjects.map(utf8), payload));
    assertEquals(type, FrameType.PUB);
    const pub = decodePub(body);
    assertEquals(pub.codec, 1);
    assertEquals(pub.subjects.map((s) => fromUtf8(s)), subjects);
    assertEquals(pub.payload, payload);
    // The payload is the rest of the body: cutting into the subjects must fail.
    const subjectsEnd = body.length - payload.length;
    assertTruncationsRefused(body.subarray(0, subjectsEnd), decodePub, "PUB");
  }
});

Deno.test("decodePub refuses a PUB with no subject", () => {
  const body = new Uint8Array([1, 0, 0, 42]);
  assertThrows(() => decodePub(body), (e: unknown) => e instanceof FrameError);
});

Deno.test("encodeEvent/decodeEvent round-trip, payload and time exact", () => {
  const time = 1_764_000_000_123;
  const payload = new Uint8Array(1000).map((_, i) => i & 0xff);
  const { type, body } = parseOne(encodeEvent(time, 2, utf8("StockQuote.ÜBER"), payload));
  assertEquals(type, FrameType.EVENT);
  const event = decodeEvent(body);
  assertEquals(event.time, time);
  assertEquals(event.codec, 2);
  assertEquals(event.subject, "StockQuote.ÜBER");
  assertEquals(event.payload, payload);
  assertTruncationsRefused(body.subarray(0, body.length - payload.length), decodeEvent, "EVENT");
});

Deno.test("encodeListRequest/decodeListRequest round-trip SUB, SUBMATCH and UNSUB", () => {
  for (const frameType of [FrameType.SUB, FrameType.SUBMATCH, FrameType.UNSUB]) {
    const items = ["^STOCKQUOTE\\.S.*$", "news", "ünicode"];
    const { type, body } = parseOne(encodeListRequest(frameType, 0xfffffff0, items));
    assertEquals(type, frameType);
    assertEquals(decodeListRequest(body, "SUB"), { requestId: 0xfffffff0, items });
    assertTruncationsRefused(body, (b) => decodeListRequest(b, "SUB"), "SUB");
  }
});

Deno.test("decodeListRequest refuses trailing bytes", () => {
  const frame = encodeListRequest(FrameType.SUB, 1, ["a"]);
  const body = new Uint8Array([...frame.subarray(5), 0]);
  assertThrows(
    () => decodeListRequest(body, "SUB"),
    (e: unknown) => e instanceof FrameError && /trailing/.test(e.message),
  );
});

Deno.test("encodeRequest/decodeRequest and encodeOk round-trip a body", () => {
  const payload = utf8('{"a":1}');
  for (const frame of [encodeRequest(FrameType.STATS, 77, payload), encodeOk(77, payload)]) {
    const { body } = parseOne(frame);
    const decoded = decodeRequest(body, "OK");
    assertEquals(decoded.requestId, 77);
    assertEquals(decoded.body, payload);
    assertTruncationsRefused(body.subarray(0, 4), (b) => decodeRequest(b, "OK"), "OK");
  }
  assertEquals(
    decodeRequest(parseOne(encodeRequest(FrameType.FLUSH, 3)).body, "FLUSH").body,
    new Uint8Array(0),
  );
});

Deno.test("encodeErr/decodeErr round-trip", () => {
  const err = {
    requestId: 12,
    code: ErrorCode.BAD_PATTERN,
    message: 'Cannot subscribe to pattern "("',
  };
  const { type, body } = parseOne(encodeErr(err));
  assertEquals(type, FrameType.ERR);
  assertEquals(decodeErr(body), err);
  assertTruncationsRefused(body.subarray(0, 6), decodeErr, "ERR");
});

Deno.test("encodeBye/decodeBye round-trip", () => {
  const { type, body } = parseOne(encodeBye(ErrorCode.SHUTDOWN, "bye ☺"));
  assertEquals(type, FrameType.BYE);
  assertEquals(decodeBye(body), { code: ErrorCode.SHUTDOWN, reason: "bye ☺" });
  assertTruncationsRefused(body.subarray(0, 2), decodeBye, "BYE");
});

Deno.test("PING and PONG are five-byte frames with no body", () => {
  assertEquals(parseOne(PING_FRAME), { type: FrameType.PING, body: new Uint8Array(0) });
  assertEquals(parseOne(PONG_FRAME), { type: FrameType.PONG, body: new Uint8Array(0) });
  assertEquals(encodeEmpty(FrameType.PING), PING_FRAME);
});

Deno.test("Truncation errors name the frame and the offset", () => {
  try {
    decodeEvent(new Uint8Array(5));
    assert(false, "expected a FrameError");
  } catch (e) {
    assert(e instanceof FrameError);
    assert(e.message.includes("EVENT"), e.message);
    assert(e.message.includes("offset 0"), e.message);
  }
});

Deno.test("Invalid UTF-8 in a subject is a FrameError, not a garbled string", () => {
  const body = new Uint8Array([0, 0, 0, 1, 0, 1, 0, 1, 0xff]);
  assertThrows(() => decodeListRequest(body, "SUB"), (e: unknown) => e instanceof FrameError);
});
