/** Unit tests of the I/O-free `FrameParser`: byte by byte, split at every offset, limits. */

import { assert, assertEquals, assertThrows } from "./_assert.ts";
import {
  DEFAULT_MAX_FRAME_BYTES,
  ErrorCode,
  FrameType,
  HANDSHAKE_MAX_FRAME_BYTES,
  PROTOCOL_VERSION,
  UNLIMITED,
} from "../lib/protocol/constants.ts";
import { FrameError } from "../lib/errors.ts";
import { encodeConnect } from "../lib/protocol/frames/connect.ts";
import { encodeCredit, PING_FRAME, PONG_FRAME } from "../lib/protocol/frames/control.ts";
import { encodeErr } from "../lib/protocol/frames/err.ts";
import { encodeEvent } from "../lib/protocol/frames/event.ts";
import { encodePub } from "../lib/protocol/frames/pub.ts";
import { encodeRequest } from "../lib/protocol/frames/request.ts";
import { encodeSubscribe } from "../lib/protocol/frames/subscribe.ts";
import { utf8 } from "../lib/protocol/frames/_body.ts";
import { FrameParser } from "../lib/protocol/parser.ts";

type Parsed = { type: number; body: number[] };

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** A few frames of different sizes, concatenated: what one TCP read might hold. */
function sampleStream(): { bytes: Uint8Array; frames: Parsed[] } {
  const encoded = [
    encodePub(1, [utf8("STOCKQUOTE.SUN"), utf8("x")], new Uint8Array([1, 2, 3])),
    PING_FRAME,
    encodeEvent([1, 2], 1234.5, 1, "süb", new Uint8Array(300).fill(7)),
    encodeSubscribe(FrameType.SUBMATCH, {
      requestId: 4,
      firstSid: 10,
      group: "g",
      items: ["^a", "b"],
    }),
    encodeErr({ requestId: 9, code: ErrorCode.BAD_PATTERN, message: "bad" }),
    encodeCredit(5, 5000),
    PONG_FRAME,
  ];
  const frames = encoded.map((f) => ({ type: f[4]!, body: [...f.subarray(5)] }));
  return { bytes: concat(encoded), frames };
}

/** Feeds `chunks` and copies out every frame (bodies are views valid until the next push). */
function collect(parser: FrameParser, chunks: Uint8Array[]): Parsed[] {
  const out: Parsed[] = [];
  for (const chunk of chunks) {
    for (const f of parser.push(chunk)) out.push({ type: f.type, body: [...f.body] });
  }
  return out;
}

/** Asserts that `fn` throws a FrameError with `code` whose message matches every regex. */
function assertFrameError(fn: () => unknown, code: number, ...messages: RegExp[]): void {
  assertThrows(fn, (e: unknown) => {
    assert(e instanceof FrameError, `expected a FrameError, got ${String(e)}`);
    assertEquals(e.code, code);
    for (const m of messages) assert(m.test(e.message), `${e.message} should match ${m}`);
    return true;
  });
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

Deno.test("FrameParser yields the same frames for a stream split at many pairs of offsets", () => {
  const { bytes, frames } = sampleStream();
  // Every pair would be ~250k parses; strides keep it quick while covering every region.
  for (let a = 0; a <= bytes.length; a += 3) {
    for (let b = a; b <= bytes.length; b += 7) {
      const parser = new FrameParser();
      const got = collect(parser, [bytes.subarray(0, a), bytes.subarray(a, b), bytes.subarray(b)]);
      assertEquals(got, frames, `split at ${a} and ${b}`);
    }
  }
});

Deno.test("FrameParser yields only whole frames from a truncated stream, the rest when it completes", () => {
  const { bytes, frames } = sampleStream();
  const ends: number[] = [];
  for (let at = 0, i = 0; i < frames.length; i++) ends.push(at += 5 + frames[i]!.body.length);
  for (let cut = 0; cut <= bytes.length; cut++) {
    const parser = new FrameParser();
    const first = collect(parser, [bytes.subarray(0, cut)]);
    assertEquals(first.length, ends.filter((e) => e <= cut).length, `cut at ${cut}`);
    const rest = collect(parser, [bytes.subarray(cut)]);
    assertEquals([...first, ...rest], frames, `cut at ${cut}`);
  }
});

Deno.test("FrameParser does not copy a frame that lies whole inside one chunk", () => {
  const chunk = concat([PING_FRAME, encodeEvent([1], 1, 1, "a", utf8("b"))]);
  const [first, second] = [...new FrameParser().push(chunk)];
  assertEquals(first!.type, FrameType.PING);
  assertEquals(first!.body.length, 0);
  assert(second!.body.buffer === chunk.buffer, "a view of the chunk");
});

Deno.test("FrameParser copies a frame that straddles chunks, so it outlives them", () => {
  const frame = encodeEvent([1], 1, 1, "subject", utf8("payload"));
  const head = frame.slice(0, 9);
  const tail = frame.slice(9);
  const parser = new FrameParser();
  assertEquals([...parser.push(head)].length, 0);
  const [f] = [...parser.push(tail)];
  head.fill(0);
  tail.fill(0);
  assertEquals(f!.body, frame.subarray(5));
});

Deno.test("FrameParser reports its state: length between frames, body inside one", () => {
  const frame = encodeEvent([1], 1, 1, "subject", utf8("payload"));
  const parser = new FrameParser();
  assertEquals([...parser.push(frame.subarray(0, 2))].length, 0);
  assertEquals(parser.state, "length");
  assertEquals([...parser.push(frame.subarray(2, 8))].length, 0);
  assertEquals(parser.state, "body");
  assertEquals([...parser.push(frame.subarray(8))].length, 1);
  assertEquals(parser.state, "length");
});

Deno.test("FrameParser refuses a zero length, naming the parser state", () => {
  assertFrameError(
    () => [...new FrameParser().push(new Uint8Array([0, 0, 0, 0, 1]))],
    ErrorCode.PROTOCOL,
    /zero length/,
    /state: length/,
  );
});

Deno.test("FrameParser refuses an over-limit length before buffering the body", () => {
  const parser = new FrameParser(1000);
  // Only the four length bytes arrive: the refusal must not wait for the body.
  assertFrameError(
    () => [...parser.push(new Uint8Array([0, 0, 0x03, 0xe9]))], // 1001
    ErrorCode.FRAME_TOO_LARGE,
    /1001/,
    /1000/,
    /state: length/,
  );
});

Deno.test("FrameParser refuses a huge length (4 GiB - 1) split byte by byte", () => {
  const parser = new FrameParser();
  const bytes = [0xff, 0xff, 0xff, 0xff];
  for (let i = 0; i < 3; i++) assertEquals([...parser.push(new Uint8Array([bytes[i]!]))].length, 0);
  assertFrameError(
    () => [...parser.push(new Uint8Array([bytes[3]!]))],
    ErrorCode.FRAME_TOO_LARGE,
    /4294967295/,
  );
});

Deno.test("FrameParser's limit is DEFAULT_MAX_FRAME_BYTES unless given", () => {
  assertEquals(new FrameParser().maxFrameBytes, DEFAULT_MAX_FRAME_BYTES);
  assertEquals(new FrameParser(HANDSHAKE_MAX_FRAME_BYTES).maxFrameBytes, HANDSHAKE_MAX_FRAME_BYTES);
  const header = new Uint8Array(4);
  new DataView(header.buffer).setUint32(0, DEFAULT_MAX_FRAME_BYTES + 1);
  assertFrameError(() => [...new FrameParser().push(header)], ErrorCode.FRAME_TOO_LARGE);
});

Deno.test("FrameParser accepts a frame of exactly the limit", () => {
  const parser = new FrameParser(10);
  const frame = new Uint8Array([0, 0, 0, 10, FrameType.EVENT, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assertEquals(collect(parser, [frame]), [{
    type: FrameType.EVENT,
    body: [1, 2, 3, 4, 5, 6, 7, 8, 9],
  }]);
});

Deno.test("FrameParser yields a frame whose body is empty (type byte only)", () => {
  assertEquals(collect(new FrameParser(), [PING_FRAME]), [{ type: FrameType.PING, body: [] }]);
});

Deno.test("FrameParser.maxFrameBytes raised after the handshake lets bigger frames through", () => {
  const connect = encodeConnect({
    version: PROTOCOL_VERSION,
    clientNonce: new Uint8Array(16),
    proof: new Uint8Array(0),
    windowEvents: UNLIMITED,
    windowBytes: UNLIMITED,
    queueSize: 0,
    overflow: 0,
    clientName: "c",
  });
  const big = encodeRequest(FrameType.FLUSH, 1, new Uint8Array(2 * HANDSHAKE_MAX_FRAME_BYTES));
  // Before the handshake the big frame is refused...
  assertFrameError(
    () => [...new FrameParser(HANDSHAKE_MAX_FRAME_BYTES).push(big)],
    ErrorCode.FRAME_TOO_LARGE,
  );
  // ...and raising the limit between two frames of one chunk (as the session does on
  // READY) applies to the very next frame: the generator reads its length lazily.
  const parser = new FrameParser(HANDSHAKE_MAX_FRAME_BYTES);
  const types: number[] = [];
  for (const frame of parser.push(concat([connect, big, PING_FRAME]))) {
    types.push(frame.type);
    if (frame.type === FrameType.CONNECT) parser.maxFrameBytes = DEFAULT_MAX_FRAME_BYTES;
  }
  assertEquals(types, [FrameType.CONNECT, FrameType.FLUSH, FrameType.PING]);
});

Deno.test("FrameParser.maxFrameBytes lowered applies to the next length read", () => {
  const parser = new FrameParser();
  const frame = encodePub(1, [utf8("s")], new Uint8Array(100));
  assertEquals(collect(parser, [frame]).length, 1);
  parser.maxFrameBytes = 50;
  assertFrameError(() => [...parser.push(frame)], ErrorCode.FRAME_TOO_LARGE, /limit of 50/);
});
