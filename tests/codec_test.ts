/** Unit tests of the message codec: what MessagePack carries exactly, and what it refuses. */

import { assert, assertEquals, assertThrows } from "./_assert.ts";
import { decodeMessage, encodeJson, encodeMessage } from "../lib/protocol/codec.ts";
import { CodecTag } from "../lib/protocol/constants.ts";

const roundTrip = (value: unknown) => decodeMessage(CodecTag.MSGPACK, encodeMessage(value));

Deno.test("encodeMessage round-trips nested objects and arrays", () => {
  const value = { a: 1, b: [true, false, null, { c: "d", e: [1.5, -2.25, [[]]] }], f: {} };
  assertEquals(roundTrip(value), value);
});

Deno.test("encodeMessage round-trips unicode strings", () => {
  for (const s of ["", "stockquote", "Grüße", "株価", "🚀🎉", "a\u0000b", "\u{10ffff}"]) {
    assertEquals(roundTrip(s), s);
  }
});

Deno.test("encodeMessage round-trips Uint8Array as Uint8Array", () => {
  const bytes = new Uint8Array([0, 1, 127, 128, 255]);
  const back = roundTrip(bytes);
  assert(back instanceof Uint8Array);
  assertEquals(back, bytes);
  assertEquals(roundTrip({ nested: bytes }), { nested: bytes });
});

Deno.test("encodeMessage round-trips Date as Date, to the millisecond", () => {
  const date = new Date("2026-11-26T06:30:00.123Z");
  const back = roundTrip(date);
  assert(back instanceof Date);
  assertEquals(back.getTime(), date.getTime());
  assertEquals((roundTrip({ when: date }) as { when: Date }).when.getTime(), date.getTime());
});

Deno.test("encodeMessage round-trips 2^53-1, negative integers and floats exactly", () => {
  for (
    const n of [
      Number.MAX_SAFE_INTEGER,
      Number.MIN_SAFE_INTEGER,
      -1,
      -128,
      -129,
      -32769,
      -(2 ** 31) - 1,
      2 ** 32,
      0,
      22.44,
      -0.1,
    ]
  ) {
    const back = roundTrip(n);
    assertEquals(back, n, `value ${n}`);
    assertEquals(typeof back, "number");
  }
});

Deno.test("encodeMessage refuses functions, also nested, with a TypeError", () => {
  for (const value of [() => 1, { a: { b: function named() {} } }, [1, () => 2]]) {
    assertThrows(() => encodeMessage(value), TypeError);
  }
});

Deno.test("encodeMessage refuses symbols with a TypeError", () => {
  assertThrows(() => encodeMessage(Symbol("s")), TypeError);
  assertThrows(() => encodeMessage({ s: Symbol("s") }), TypeError);
});

Deno.test("encodeMessage refuses cycles with a TypeError that says so", () => {
  const a: Record<string, unknown> = { name: "a" };
  a.self = a;
  assertThrows(
    () => encodeMessage(a),
    (e: unknown) => e instanceof TypeError && /cycle/.test(e.message),
  );
  const list: unknown[] = [];
  list.push([list]);
  assertThrows(() => encodeMessage(list), TypeError);
});

Deno.test("encodeMessage accepts the same object twice when it is not a cycle", () => {
  const shared = { x: 1 };
  assertEquals(roundTrip([shared, shared, { shared }]), [shared, shared, { shared }]);
});

Deno.test("decodeMessage decodes RAW and JSON codecs and refuses unknown tags", () => {
  assertEquals(decodeMessage(CodecTag.RAW, new Uint8Array([1, 2])), new Uint8Array([1, 2]));
  assertEquals(decodeMessage(CodecTag.JSON, encodeJson({ a: [1, "b"] })), { a: [1, "b"] });
  assertThrows(() => decodeMessage(99, new Uint8Array(0)), TypeError);
});

Deno.test("decodeMessage gives binaries as views of the payload, not copies", () => {
  // Cheaper than a copy per event; safe because the client never reuses a read buffer
  // (tests/hot_path_test.ts checks that binaries stay intact after later reads).
  const payload = encodeMessage({ bytes: new Uint8Array([1, 2, 3]) });
  const decoded = decodeMessage(CodecTag.MSGPACK, payload) as { bytes: Uint8Array };
  assertEquals(decoded.bytes, new Uint8Array([1, 2, 3]));
  assertEquals(decoded.bytes.buffer, payload.buffer);
  const bin = encodeMessage(new Uint8Array([7, 8]));
  assertEquals((decodeMessage(CodecTag.MSGPACK, bin) as Uint8Array).buffer, bin.buffer);
  const raw = new Uint8Array([4, 5]);
  assertEquals(decodeMessage(CodecTag.RAW, raw), raw);
});
