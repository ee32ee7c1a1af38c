/**
 * Unit tests of the frame layouts (lib/protocol/frames/): every layout round-trips through
 * the parser; truncated or padded bodies fail with a FrameError naming the frame.
 */

import { assert, assertEquals, assertThrows } from "./_assert.ts";
import {
  ErrorCode,
  FrameType,
  LENGTH_PREFIX_BYTES,
  NONCE_BYTES,
  OverflowCode,
  PROTOCOL_VERSION,
  UNLIMITED,
} from "../lib/protocol/constants.ts";
import { FrameError } from "../lib/errors.ts";
import { type Connect, decodeConnect, encodeConnect } from "../lib/protocol/frames/connect.ts";
import { decodeHello, encodeHello, type Hello } from "../lib/protocol/frames/hello.ts";
import { decodeReady, encodeReady } from "../lib/protocol/frames/ready.ts";
import {
  decodePub,
  encodePub,
  newPubFrame,
  pubFrameBytes,
  writePub,
} from "../lib/protocol/frames/pub.ts";
import {
  decodeEvent,
  encodeEvent,
  encodeSids,
  eventBodySubject,
  EventBodyWriter,
  eventFrameBytes,
  newEventFrame,
  writeEventFrame,
} from "../lib/protocol/frames/event.ts";
import { decodeSubscribe, encodeSubscribe } from "../lib/protocol/frames/subscribe.ts";
import { decodeUnsubscribe, encodeUnsubscribe } from "../lib/protocol/frames/unsubscribe.ts";
import {
  decodeRequest,
  encodeOk,
  encodeRequest,
  requestIdOf,
} from "../lib/protocol/frames/request.ts";
import { decodeErr, encodeErr } from "../lib/protocol/frames/err.ts";
import { decodeBye, encodeBye } from "../lib/protocol/frames/bye.ts";
import {
  decodeCredit,
  decodeMissed,
  encodeCredit,
  encodeMissed,
  MISSED_FRAME_BYTES,
  PING_FRAME,
  PONG_FRAME,
  writeMissed,
} from "../lib/protocol/frames/control.ts";
import { utf8 } from "../lib/protocol/frames/_body.ts";
import { FrameParser } from "../lib/protocol/parser.ts";
import { SubjectCache } from "../lib/protocol/subject_cache.ts";

/** Runs a whole frame through the parser and returns its type and body (a copy). */
function parseOne(frame: Uint8Array): { type: number; body: Uint8Array } {
  const frames = [...new FrameParser().push(frame)].map((f) => ({
    type: f.type,
    body: f.body.slice(),
  }));
  assertEquals(frames.length, 1);
  const view = new DataView(frame.buffer, frame.byteOffset);
  assertEquals(view.getUint32(0), frame.length - LENGTH_PREFIX_BYTES, "length = type + body");
  return frames[0]!;
}

/** Asserts a FrameError of `code` whose message matches every regex. */
function assertFrameError(fn: () => unknown, code: number, ...messages: RegExp[]): void {
  assertThrows(fn, (e: unknown) => {
    assert(e instanceof FrameError, `expected a FrameError, got ${String(e)}`);
    assertEquals(e.code, code, e.message);
    for (const m of messages) assert(m.test(e.message), `${e.message} should match ${m}`);
    return true;
  });
}

/** Every strict prefix of `body` must make `decode` throw a PROTOCOL FrameError naming `name`. */
function assertTruncationsRefused(
  body: Uint8Array,
  decode: (b: Uint8Array) => unknown,
  name: string,
): void {
  for (let n = 0; n < body.length; n++) {
    assertFrameError(() => decode(body.subarray(0, n)), ErrorCode.PROTOCOL, new RegExp(name));
  }
}

/** A byte more at the end must make `decode` refuse trailing bytes. */
function assertTrailingRefused(body: Uint8Array, decode: (b: Uint8Array) => unknown): void {
  const padded = new Uint8Array(body.length + 1);
  padded.set(body);
  assertFrameError(() => decode(padded), ErrorCode.PROTOCOL, /trailing/);
}

const nonce = (seed: number) => new Uint8Array(NONCE_BYTES).map((_, i) => (i * 31 + seed) & 0xff);

function connectFrame(over: Partial<Connect> = {}): Connect {
  return {
    version: PROTOCOL_VERSION,
    clientNonce: nonce(2),
    proof: new Uint8Array(0),
    windowEvents: 1000,
    windowBytes: 8 << 20,
    queueSize: 500,
    overflow: OverflowCode.DROP_OLD,
    clientName: "es-client/x ✓",
    ...over,
  };
}

Deno.test("HELLO round-trips, with and without auth", () => {
  for (const authRequired of [true, false]) {
    const hello: Hello = {
      version: PROTOCOL_VERSION,
      authRequired,
      serverNonce: nonce(1),
      heartbeatMs: 30_000,
      maxFrameBytes: 1 << 20,
      serverName: "es/0.2.0 ✓",
    };
    const { type, body } = parseOne(encodeHello(hello));
    assertEquals(type, FrameType.HELLO);
    assertEquals(decodeHello(body), hello);
    // The server name is the rest of the body, so only the fixed fields can be cut short.
    assertTruncationsRefused(body.subarray(0, 2 + NONCE_BYTES + 8), decodeHello, "HELLO");
  }
});

Deno.test("CONNECT v2 round-trips window, queue size and overflow, with and without a proof", () => {
  for (const proof of [new Uint8Array(0), new Uint8Array(32).fill(9)]) {
    for (const overflow of Object.values(OverflowCode)) {
      const connect = connectFrame({ proof, overflow });
      const { type, body } = parseOne(encodeConnect(connect));
      assertEquals(type, FrameType.CONNECT);
      assertEquals(decodeConnect(body, PROTOCOL_VERSION), connect);
    }
    const unlimited = connectFrame({ proof, windowEvents: UNLIMITED, windowBytes: UNLIMITED });
    assertEquals(
      decodeConnect(parseOne(encodeConnect(unlimited)).body, PROTOCOL_VERSION),
      unlimited,
    );
  }
});

Deno.test("CONNECT cut short anywhere before the client name is refused, naming CONNECT", () => {
  for (const proof of [new Uint8Array(0), new Uint8Array(32).fill(9)]) {
    const { body } = parseOne(encodeConnect(connectFrame({ proof, clientName: "" })));
    assertEquals(body.length, 1 + NONCE_BYTES + 1 + proof.length + 13);
    assertTruncationsRefused(body, (b) => decodeConnect(b, PROTOCOL_VERSION), "CONNECT");
  }
});

Deno.test("decodeConnect reads only the version of another protocol version", () => {
  // An older client's CONNECT has another layout: only its version is read, so it can be told.
  for (const body of [new Uint8Array([1]), new Uint8Array([1, 0xff, 0xff]), new Uint8Array([3])]) {
    const connect = decodeConnect(body, PROTOCOL_VERSION);
    assertEquals(connect.version, body[0]);
    assertEquals([connect.clientNonce.length, connect.proof.length, connect.clientName], [
      0,
      0,
      "",
    ]);
  }
  assertFrameError(
    () => decodeConnect(new Uint8Array(0), PROTOCOL_VERSION),
    ErrorCode.PROTOCOL,
    /CONNECT/,
  );
});

Deno.test("READY round-trips the server's proof, as a copy", () => {
  const proof = new Uint8Array(32).fill(5);
  const { type, body } = parseOne(encodeReady(proof));
  assertEquals(type, FrameType.READY);
  const decoded = decodeReady(body);
  assertEquals(decoded, proof);
  body.fill(0);
  assertEquals(decoded, proof);
  assertEquals(decodeReady(parseOne(encodeReady(new Uint8Array(0))).body), new Uint8Array(0));
});

Deno.test("PUB: writePub() writes what encodePub() encodes, pubFrameBytes() long", () => {
  for (const subjects of [["STOCKQUOTE.SUN"], ["a", "Bé", "c.d.e", "ünï"]]) {
    const encoded = subjects.map(utf8);
    const payload = new Uint8Array([0, 1, 2, 255]);
    const frame = encodePub(1, encoded, payload);
    assertEquals(frame.length, pubFrameBytes(encoded, payload));
    const buffer = new Uint8Array(frame.length + 10);
    const end = writePub(buffer, new DataView(buffer.buffer), 7, 1, encoded, payload);
    assertEquals(end, 7 + frame.length);
    assertEquals(buffer.subarray(7, end), frame);
  }
});

Deno.test("PUB round-trips one subject (fast path) and several, through the subject cache", () => {
  const cache = new SubjectCache();
  const out = newPubFrame();
  for (const subjects of [["StockQuote.SUN"], ["a", "Bé", "c.d.e", "ünï"], ["x"]]) {
    const payload = new Uint8Array([0, 1, 2, 255]);
    const { type, body } = parseOne(encodePub(2, subjects.map(utf8), payload));
    assertEquals(type, FrameType.PUB);
    decodePub(body, cache, 1024, out);
    assertEquals(out.codec, 2);
    assertEquals(out.subjects.map((s) => s.subject), subjects);
    assertEquals(out.subjects.map((s) => s.key), subjects.map((s) => s.toLowerCase()));
    assertEquals(out.subjects.map((s) => s.bytes), subjects.map(utf8));
    assertEquals(out.payload, payload);
    assert(out.payload.buffer === body.buffer, "the payload is a view of the body");
  }
  // The same subject bytes come back as the same cached entry.
  const a = parseOne(encodePub(1, [utf8("same")], new Uint8Array(1))).body;
  decodePub(a, cache, 1024, out);
  const first = out.subjects[0];
  decodePub(a.slice(), cache, 1024, out);
  assert(out.subjects[0] === first);
});

Deno.test("PUB with an empty payload round-trips", () => {
  const out = newPubFrame();
  decodePub(
    parseOne(encodePub(0, [utf8("s")], new Uint8Array(0))).body,
    new SubjectCache(),
    16,
    out,
  );
  assertEquals([out.subjects.length, out.payload.length], [1, 0]);
});

Deno.test("PUB cut short in its subjects is refused, naming PUB", () => {
  for (const subjects of [["STOCKQUOTE.SUN"], ["a", "Bé", "c.d.e"]]) {
    const payload = new Uint8Array([9, 9]);
    const { body } = parseOne(encodePub(1, subjects.map(utf8), payload));
    const subjectsEnd = body.length - payload.length;
    assertTruncationsRefused(
      body.subarray(0, subjectsEnd),
      (b) => decodePub(b, new SubjectCache(), 1024, newPubFrame()),
      "PUB",
    );
  }
});

Deno.test("PUB with no subject is refused with PROTOCOL", () => {
  assertFrameError(
    () => decodePub(new Uint8Array([1, 0, 0, 42]), new SubjectCache(), 1024, newPubFrame()),
    ErrorCode.PROTOCOL,
    /no subject/,
  );
});

Deno.test("PUB with a subject of 0 bytes or over the limit is refused with BAD_SUBJECT", () => {
  const cache = new SubjectCache();
  const out = newPubFrame();
  const cases = [
    [utf8("")],
    [utf8("x".repeat(17))],
    [utf8("ok"), utf8("")],
    [utf8("ok"), utf8("y".repeat(17))],
  ];
  for (const subjects of cases) {
    const { body } = parseOne(encodePub(1, subjects, new Uint8Array([1])));
    assertFrameError(() => decodePub(body, cache, 16, out), ErrorCode.BAD_SUBJECT, /1 to 16/);
  }
  // Exactly the limit passes, on the fast path and the other.
  for (const subjects of [[utf8("x".repeat(16))], [utf8("a"), utf8("x".repeat(16))]]) {
    decodePub(parseOne(encodePub(1, subjects, new Uint8Array(0))).body, cache, 16, out);
    assertEquals(out.subjects.length, subjects.length);
  }
});

Deno.test("PUB with invalid UTF-8 in a subject is refused with PROTOCOL", () => {
  for (const subjects of [[new Uint8Array([0xff, 0xfe])], [utf8("a"), new Uint8Array([0xc3])]]) {
    const { body } = parseOne(encodePub(1, subjects, new Uint8Array(0)));
    assertFrameError(
      () => decodePub(body, new SubjectCache(), 1024, newPubFrame()),
      ErrorCode.PROTOCOL,
      /UTF-8/,
    );
  }
});

Deno.test("encodePub refuses more than 65535 subjects or a subject over 65535 bytes", () => {
  assertThrows(() => encodePub(1, new Array(65536).fill(utf8("a")), new Uint8Array(0)), RangeError);
  assertThrows(() => encodePub(1, [new Uint8Array(65536)], new Uint8Array(0)), RangeError);
});

Deno.test("EVENT round-trips sids, time, codec, subject and payload exactly", () => {
  const cache = new SubjectCache();
  const out = newEventFrame();
  const time = 1_764_000_000_123.5;
  const payload = new Uint8Array(1000).map((_, i) => i & 0xff);
  for (const sids of [[1], [0, 7, 0xffff_ffff], []]) {
    const { type, body } = parseOne(encodeEvent(sids, time, 2, "StockQuote.ÜBER", payload));
    assertEquals(type, FrameType.EVENT);
    decodeEvent(body, cache, out);
    assertEquals(out.sids, sids);
    assertEquals(out.time, time);
    assertEquals(out.codec, 2);
    assertEquals(out.subject, "StockQuote.ÜBER");
    assertEquals(out.payload, payload);
  }
});

Deno.test("EVENT: encodeSids + EventBodyWriter + writeEventFrame make what encodeEvent makes", () => {
  const sids = encodeSids([3, 4]);
  const body = new EventBodyWriter().write(42, 1, utf8("süb"), utf8("payload"));
  const frame = encodeEvent([3, 4], 42, 1, "süb", utf8("payload"));
  assertEquals(eventFrameBytes(sids, body), frame.length);
  const buffer = new Uint8Array(frame.length + 8);
  assertEquals(writeEventFrame(buffer, 3, sids, body), 3 + frame.length);
  assertEquals(buffer.subarray(3, 3 + frame.length), frame);
  assertEquals(encodeSids([]), new Uint8Array([0, 0]));
  assertEquals(encodeSids([0x01020304]), new Uint8Array([0, 1, 1, 2, 3, 4]));
});

Deno.test("eventBodySubject() reads the subject of an event body through the cache", () => {
  const cache = new SubjectCache();
  const body = new EventBodyWriter().write(1, 1, utf8("News.Today"), utf8("x"));
  const subject = eventBodySubject(body, cache);
  assertEquals([subject.subject, subject.key], ["News.Today", "news.today"]);
  assert(eventBodySubject(body.slice(), cache) === subject);
  for (let n = 0; n < 11 + 10; n++) {
    assertFrameError(
      () => eventBodySubject(body.subarray(0, n), cache),
      ErrorCode.PROTOCOL,
      /event/,
    );
  }
});

Deno.test("EventBodyWriter reuses its buffer, grows for a big event and shrinks after", () => {
  const writer = new EventBodyWriter();
  const first = writer.write(1, 1, utf8("a"), new Uint8Array([1]));
  const kept = first.slice();
  const second = writer.write(2, 1, utf8("b"), new Uint8Array([2]));
  assert(first.buffer === second.buffer, "one buffer, overwritten");
  assert(first[first.length - 1] === 2 && kept[kept.length - 1] === 1);
  const big = writer.write(3, 1, utf8("c"), new Uint8Array(200_000).fill(3));
  assertEquals(big.length, 11 + 1 + 200_000);
  assert(big.every((x, i) => i < 12 || x === 3));
  const small = writer.write(4, 1, utf8("d"), new Uint8Array([4]));
  assert(small.buffer.byteLength <= 4096, "an idle writer gives the big buffer back");
});

Deno.test("EVENT cut short before its payload is refused, naming EVENT", () => {
  const payload = new Uint8Array([1, 2, 3]);
  const { body } = parseOne(encodeEvent([1, 2], 5, 1, "subject", payload));
  assertTruncationsRefused(
    body.subarray(0, body.length - payload.length),
    (b) => decodeEvent(b, new SubjectCache(), newEventFrame()),
    "EVENT",
  );
});

Deno.test("EVENT with invalid UTF-8 in its subject is refused", () => {
  const body = new EventBodyWriter().write(1, 1, new Uint8Array([0xff, 0x80]), new Uint8Array(0));
  const frameBody = new Uint8Array([0, 0, ...body]);
  assertFrameError(
    () => decodeEvent(frameBody, new SubjectCache(), newEventFrame()),
    ErrorCode.PROTOCOL,
    /UTF-8/,
  );
});

Deno.test("encodeSids refuses more than 65535 ids", () => {
  assertThrows(() => encodeSids(new Array(65536).fill(1)), RangeError);
});

Deno.test("SUB and SUBMATCH round-trip request id, first sid, group and items", () => {
  for (const type of [FrameType.SUB, FrameType.SUBMATCH] as const) {
    for (const group of ["", "workers ✓"]) {
      const request = {
        requestId: 0xffff_fff0,
        firstSid: 0xffff_fffe,
        group,
        items: ["^STOCKQUOTE\\.S.*$", "news", "ünicode"],
      };
      const { type: got, body } = parseOne(encodeSubscribe(type, request));
      assertEquals(got, type);
      const what = type === FrameType.SUB ? "SUB" : "SUBMATCH";
      assertEquals(decodeSubscribe(body, what), request);
      assertTruncationsRefused(body, (b) => decodeSubscribe(b, what), what);
      assertTrailingRefused(body, (b) => decodeSubscribe(b, what));
    }
  }
});

Deno.test("SUB with no items round-trips (the server refuses it, not the decoder)", () => {
  const request = { requestId: 1, firstSid: 1, group: "", items: [] };
  assertEquals(
    decodeSubscribe(parseOne(encodeSubscribe(FrameType.SUB, request)).body, "SUB"),
    request,
  );
});

Deno.test("encodeSubscribe refuses a group or item over 65535 bytes and more than 65535 items", () => {
  const base = { requestId: 1, firstSid: 1, group: "", items: ["a"] };
  assertThrows(
    () => encodeSubscribe(FrameType.SUB, { ...base, group: "g".repeat(65536) }),
    RangeError,
  );
  assertThrows(
    () => encodeSubscribe(FrameType.SUB, { ...base, items: ["i".repeat(65536)] }),
    RangeError,
  );
  assertThrows(
    () => encodeSubscribe(FrameType.SUB, { ...base, items: new Array(65536).fill("a") }),
    RangeError,
  );
});

Deno.test("SUB with invalid UTF-8 in an item is a FrameError, not a garbled string", () => {
  // requestId 1, firstSid 1, no group, one item of one byte 0xff.
  const body = new Uint8Array([0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 1, 0xff]);
  assertFrameError(() => decodeSubscribe(body, "SUB"), ErrorCode.PROTOCOL, /UTF-8/, /SUB/);
});

Deno.test("UNSUB round-trips request id and sids", () => {
  for (const sids of [[], [1], [0, 2, 0xffff_ffff]]) {
    const { type, body } = parseOne(encodeUnsubscribe(77, sids));
    assertEquals(type, FrameType.UNSUB);
    assertEquals(decodeUnsubscribe(body), { requestId: 77, sids });
    assertTruncationsRefused(body, decodeUnsubscribe, "UNSUB");
    assertTrailingRefused(body, decodeUnsubscribe);
  }
  assertThrows(() => encodeUnsubscribe(1, new Array(65536).fill(1)), RangeError);
});

Deno.test("Requests and OK round-trip their id and body", () => {
  const payload = utf8('{"a":1}');
  for (const type of [FrameType.FLUSH, FrameType.STATS, FrameType.EXPLAIN, FrameType.NS_RESOLVE]) {
    const { type: got, body } = parseOne(encodeRequest(type, 0xffff_ffff, payload));
    assertEquals(got, type);
    assertEquals(decodeRequest(body, "REQ"), { requestId: 0xffff_ffff, body: payload });
    assertTruncationsRefused(body.subarray(0, 4), (b) => decodeRequest(b, "REQ"), "REQ");
  }
  const ok = parseOne(encodeOk(77, payload));
  assertEquals(ok.type, FrameType.OK);
  assertEquals(decodeRequest(ok.body, "OK"), { requestId: 77, body: payload });
  const flush = parseOne(encodeRequest(FrameType.FLUSH, 3)).body;
  assertEquals(decodeRequest(flush, "FLUSH"), { requestId: 3, body: new Uint8Array(0) });
  assertEquals(decodeRequest(parseOne(encodeOk(5)).body, "OK").body, new Uint8Array(0));
});

Deno.test("requestIdOf() reads the id of any request body, 0 when too short", () => {
  assertEquals(
    requestIdOf(parseOne(encodeRequest(FrameType.FLUSH, 0xffff_ffff)).body),
    0xffff_ffff,
  );
  assertEquals(requestIdOf(parseOne(encodeUnsubscribe(12345, [1])).body), 12345);
  const sub = encodeSubscribe(FrameType.SUB, {
    requestId: 99,
    firstSid: 1,
    group: "",
    items: ["a"],
  });
  assertEquals(requestIdOf(parseOne(sub).body), 99);
  assertEquals(requestIdOf(new Uint8Array([1, 2, 3])), 0);
  assertEquals(requestIdOf(new Uint8Array(0)), 0);
});

Deno.test("ERR round-trips, for a request and for the connection", () => {
  for (const requestId of [12, 0]) {
    const err = { requestId, code: ErrorCode.BAD_PATTERN, message: 'Cannot subscribe to "(" ✗' };
    const { type, body } = parseOne(encodeErr(err));
    assertEquals(type, FrameType.ERR);
    assertEquals(decodeErr(body), err);
    assertTruncationsRefused(body.subarray(0, 6), decodeErr, "ERR");
  }
});

Deno.test("BYE round-trips", () => {
  const { type, body } = parseOne(encodeBye(ErrorCode.SHUTDOWN, "bye ☺"));
  assertEquals(type, FrameType.BYE);
  assertEquals(decodeBye(body), { code: ErrorCode.SHUTDOWN, reason: "bye ☺" });
  assertEquals(decodeBye(parseOne(encodeBye(ErrorCode.TIMEOUT, "")).body).reason, "");
  assertTruncationsRefused(body.subarray(0, 2), decodeBye, "BYE");
});

Deno.test("PING and PONG are five-byte frames with no body", () => {
  assertEquals(parseOne(PING_FRAME), { type: FrameType.PING, body: new Uint8Array(0) });
  assertEquals(parseOne(PONG_FRAME), { type: FrameType.PONG, body: new Uint8Array(0) });
  assertEquals(PING_FRAME.length, 5);
});

Deno.test("CREDIT round-trips events and bytes; any other length is refused", () => {
  for (const [events, bytes] of [[0, 0], [10, 4096], [UNLIMITED, UNLIMITED]] as const) {
    const { type, body } = parseOne(encodeCredit(events, bytes));
    assertEquals(type, FrameType.CREDIT);
    assertEquals(decodeCredit(body), { events, bytes });
    assertTruncationsRefused(body, decodeCredit, "CREDIT");
    assertTrailingRefused(body, decodeCredit);
  }
});

Deno.test("MISSED round-trips its count; writeMissed() writes it in place", () => {
  for (const count of [1, 7, 0xffff_ffff]) {
    const frame = encodeMissed(count);
    assertEquals(frame.length, MISSED_FRAME_BYTES);
    const { type, body } = parseOne(frame);
    assertEquals(type, FrameType.MISSED);
    assertEquals(decodeMissed(body), count);
    assertTruncationsRefused(body, decodeMissed, "MISSED");
    assertTrailingRefused(body, decodeMissed);
    const buffer = new Uint8Array(MISSED_FRAME_BYTES + 6).fill(0xaa);
    const at = writeMissed(buffer.subarray(2), 1, count);
    assertEquals(at, 1 + MISSED_FRAME_BYTES);
    assertEquals(buffer.subarray(3, 3 + MISSED_FRAME_BYTES), frame);
    assertEquals([buffer[2], buffer[3 + MISSED_FRAME_BYTES]], [0xaa, 0xaa], "nothing else touched");
  }
});

Deno.test("Truncation errors name the frame and the offset", () => {
  assertFrameError(
    () => decodeEvent(new Uint8Array(5), new SubjectCache(), newEventFrame()),
    ErrorCode.PROTOCOL,
    /EVENT/,
    /offset/,
  );
  assertFrameError(
    () => decodeUnsubscribe(new Uint8Array(5)),
    ErrorCode.PROTOCOL,
    /UNSUB/,
    /offset 4/,
  );
});
