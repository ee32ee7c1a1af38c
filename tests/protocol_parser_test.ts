/** Unit tests of the I/O-free `FrameParser`: byte by byte, split at every offset, limits. */

import { assert, assertEquals, assertThrows } from "./_assert.ts";
import { ErrorCode, FrameType } from "../lib/protocol/constants.ts";
import { FrameError } from "../lib/protocol/errors.ts";
import { encodeEmpty, encodeErr, encodeEvent, encodePub, utf8 } from "../lib/protocol/frames.ts";
import { FrameParser } from "../lib/protocol/parser.ts";

/** A few frames of different sizes, concatenated: what one TCP read might hold. */
function sampleStream(): { bytes: Uint8Array; frames: { type: number; body: number[] }[] } {
  const encoded = [
    encodePub(1, [utf8("STOCKQUOTE.SUN"), utf8("x")], new Uint8Array([1, 2, 3])),
    encodeEmpty(FrameType.PING),
    encodeEvent(1234.5, 1, utf8("süb"), new Uint8Array(300).fill(7)),
    encodeErr({ requestId: 9, code: ErrorCode.BAD_PATTERN, message: "bad" }),
    encodeEmpty(FrameType.PONG),
  ];
  let total = 0;
  for (const f of encoded) total += f.length;
  const bytes = new Uint8Array(total);
  let at = 0;
  for (const f of encoded) {
    bytes.set(f, at);
    at += f.length;
  }
  const frames = encoded.map((f) => ({ type: f[4]!, body: [...f.subarray(5)] }));
  return { bytes, frames };
}

/** Feeds `chunks` and copies out every frame (bodies are views valid until the next push). */
function collect(parser: FrameParser, chunks: Uint8Array[]): { type: number; body: number[] }[] {
  const out: { type: number; body: number[] }[] = [];
  for (const chunk of chunks) {
    for (const f of parser.push(chunk)) out.push({ type: f.type, body: [...f.body] });
  }
  return out;
}

Deno.test("FrameParser yields several frames from one chunk", () => {
  const { bytes, frames } = sampleStream();
  const parser = new FrameParser();
  assertEquals(collect(parser, [bytes]), frames);
  assertEquals(parser.state, "length");
});

Deno.test("FrameParser yields the same frames when fed byte by byte", () => {
  const { bytes, frames } = sampleStream();
  const parser = new FrameParser();
  const chunks = [...bytes].map((b) => new Uint8Array([b]));
  assertEquals(collect(parser, chunks), frames);
  assertEquals(parser.state, "length");
});

Deno.test("FrameParser yields the same frames for a stream split at every offset", () => {
  const { bytes, frames } = sampleStream();
  for (let split = 0; split <= bytes.length; split++) {
    const parser = new FrameParser();
    const got = collect(parser, [bytes.subarray(0, split), bytes.subarray(split)]);
    assertEquals(got, frames, `split at ${split}`);
  }
});

Deno.test("FrameParser yields the same frames for a stream split at every pair of offsets", () => {
  const { bytes, frames } = sampleStream();
  // Every pair would be ~200k parses; a stride keeps it quick while covering every region.
  for (let a = 0; a <= bytes.length; a += 3) {
    for (let b = a; b <= bytes.length; b += 7) {
      const parser = new FrameParser();
      const got = collect(parser, [bytes.subarray(0, a), bytes.subarray(a, b), bytes.subarray(b)]);
      assertEquals(got, frames, `split at ${a} and ${b}`);
    }
  }
});

Deno.test("FrameParser does not copy a frame that lies whole inside one chunk", () => {
  const frame = encodeEmpty(FrameType.PING);
  const chunk = new Uint8Array([...frame, ...encodeEvent(1, 1, utf8("a"), utf8("b"))]);
  const [first, second] = [...new FrameParser().push(chunk)];
  assertEquals(first!.type, FrameType.PING);
  assertEquals(second!.body.buffer, chunk.buffer);
});

Deno.test("FrameParser reports its state: length between frames, body inside one", () => {
  const frame = encodeEvent(1, 1, utf8("subject"), utf8("payload"));
  const parser = new FrameParser();
  assertEquals([...parser.push(frame.subarray(0, 2))].length, 0);
  assertEquals(parser.state, "length");
  assertEquals([...parser.push(frame.subarray(2, 8))].length, 0);
  assertEquals(parser.state, "body");
  assertEquals([...parser.push(frame.subarray(8))].length, 1);
  assertEquals(parser.state, "length");
});

Deno.test("FrameParser refuses a zero length, naming the parser state", () => {
  try {
    [...new FrameParser().push(new Uint8Array([0, 0, 0, 0, 1]))];
    assert(false, "expected a FrameError");
  } catch (e) {
    assert(e instanceof FrameError);
    assertEquals(e.code, ErrorCode.PROTOCOL);
    assert(e.message.includes("zero length"), e.message);
    assert(e.message.includes("state: length"), e.message);
  }
});

Deno.test("FrameParser refuses an over-limit length before buffering the body", () => {
  const parser = new FrameParser(1000);
  const header = new Uint8Array([0, 0, 0x03, 0xe9]); // 1001
  try {
    // Only the four length bytes arrive: the refusal must not wait for the body.
    [...parser.push(header)];
    assert(false, "expected a FrameError");
  } catch (e) {
    assert(e instanceof FrameError);
    assertEquals(e.code, ErrorCode.FRAME_TOO_LARGE);
    assert(e.message.includes("1001"), e.message);
    assert(e.message.includes("1000"), e.message);
    assert(e.message.includes("state: length"), e.message);
  }
});

Deno.test("FrameParser refuses a huge length (4 GiB - 1) split byte by byte", () => {
  const parser = new FrameParser();
  const bytes = [0xff, 0xff, 0xff, 0xff];
  for (let i = 0; i < 3; i++) assertEquals([...parser.push(new Uint8Array([bytes[i]!]))].length, 0);
  assertThrows(
    () => [...parser.push(new Uint8Array([bytes[3]!]))],
    (e: unknown) => e instanceof FrameError && e.code === ErrorCode.FRAME_TOO_LARGE,
  );
});

Deno.test("FrameParser accepts a frame of exactly the limit", () => {
  const parser = new FrameParser(10);
  const frame = new Uint8Array([0, 0, 0, 10, FrameType.EVENT, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  const got = collect(parser, [frame]);
  assertEquals(got, [{ type: FrameType.EVENT, body: [1, 2, 3, 4, 5, 6, 7, 8, 9] }]);
});

Deno.test("FrameParser yields a frame whose body is empty (type byte only)", () => {
  const got = collect(new FrameParser(), [encodeEmpty(FrameType.PING)]);
  assertEquals(got, [{ type: FrameType.PING, body: [] }]);
});
