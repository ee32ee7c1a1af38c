/**
 * Fuzzing the wire: random and mutated bytes through the parser and the decoders the
 * server (and the client) really run, split-offset streams, huge length claims, and a
 * live server fed garbage after a valid handshake. Seeded, so a failure can be replayed.
 */

import { assert, assertEquals } from "./_assert.ts";
import { RawPeer } from "./_raw_peer.ts";
import { FrameError } from "../lib/errors.ts";
import {
  DEFAULT_MAX_SUBJECT_BYTES,
  ErrorCode,
  FrameType,
  PROTOCOL_VERSION,
  UNLIMITED,
} from "../lib/protocol/constants.ts";
import { decodeBye, encodeBye } from "../lib/protocol/frames/bye.ts";
import { decodeConnect, encodeConnect } from "../lib/protocol/frames/connect.ts";
import {
  decodeCredit,
  decodeMissed,
  encodeCredit,
  encodeMissed,
  PING_FRAME,
  PONG_FRAME,
} from "../lib/protocol/frames/control.ts";
import { decodeErr, encodeErr } from "../lib/protocol/frames/err.ts";
import {
  decodeEvent,
  encodeEvent,
  eventBodySubject,
  newEventFrame,
} from "../lib/protocol/frames/event.ts";
import { decodeHello, encodeHello } from "../lib/protocol/frames/hello.ts";
import { decodePub, encodePub, newPubFrame } from "../lib/protocol/frames/pub.ts";
import { decodeReady, encodeReady } from "../lib/protocol/frames/ready.ts";
import {
  decodeRequest,
  encodeOk,
  encodeRequest,
  requestIdOf,
} from "../lib/protocol/frames/request.ts";
import { decodeSubscribe, encodeSubscribe } from "../lib/protocol/frames/subscribe.ts";
import { decodeUnsubscribe, encodeUnsubscribe } from "../lib/protocol/frames/unsubscribe.ts";
import { utf8 } from "../lib/protocol/frames/_body.ts";
import { FrameParser } from "../lib/protocol/parser.ts";
import { SubjectCache } from "../lib/protocol/subject_cache.ts";
import { type EventServer, type EventServerOptions, startEventServer } from "../lib/server/mod.ts";

/** A small seeded PRNG (mulberry32), so that a failure can be replayed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SEED = 0x5eed;
/** The cache the dispatch peers read forwarded event bodies through. */
const SUBJECTS = new SubjectCache();

function randomBytes(rand: () => number, length: number): Uint8Array {
  const bytes = new Uint8Array(length);
  for (let i = 0; i < length; i++) bytes[i] = Math.floor(rand() * 256);
  return bytes;
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Valid frames of every kind a peer may send or receive. */
function validFrames(): Uint8Array[] {
  return [
    encodePub(1, [utf8("stock.sun")], utf8("one subject")),
    encodePub(1, [utf8("stock.sun"), utf8("News"), utf8("ünï")], utf8("payload")),
    encodeSubscribe(FrameType.SUB, { requestId: 7, firstSid: 1, group: "", items: ["a", "b.c"] }),
    encodeSubscribe(FrameType.SUBMATCH, {
      requestId: 8,
      firstSid: 3,
      group: "workers",
      items: ["^stock\\.", "x+"],
    }),
    encodeUnsubscribe(9, [1, 3, 4]),
    encodeRequest(FrameType.FLUSH, 10),
    encodeRequest(FrameType.STATS, 11),
    encodeCredit(10, 4096),
    PING_FRAME,
    PONG_FRAME,
    encodeConnect({
      version: PROTOCOL_VERSION,
      clientNonce: new Uint8Array(16),
      proof: new Uint8Array(32),
      windowEvents: 100,
      windowBytes: UNLIMITED,
      queueSize: 10,
      overflow: 2,
      clientName: "c",
    }),
    encodeHello({
      version: PROTOCOL_VERSION,
      authRequired: true,
      serverNonce: new Uint8Array(16),
      heartbeatMs: 1000,
      maxFrameBytes: 1 << 20,
      serverName: "es",
    }),
    encodeReady(new Uint8Array(32)),
    encodeEvent([1, 2], 1_700_000_000_000, 1, "stock.sun", utf8("p")),
    encodeOk(10, utf8("{}")),
    encodeErr({ requestId: 7, code: ErrorCode.BAD_SUBJECT, message: "no" }),
    encodeMissed(3),
    encodeBye(ErrorCode.SHUTDOWN, "bye"),
  ];
}

/**
 * The decoders as the server runs them (lib/session/session.ts, lib/node/event_connection.ts):
 * one subject cache and one reused PUB frame per connection. Each returns a plain value to
 * compare.
 */
function serverDecoders(): Map<number, (body: Uint8Array) => unknown> {
  const cache = new SubjectCache();
  const pub = newPubFrame();
  return new Map<number, (body: Uint8Array) => unknown>([
    [FrameType.CONNECT, (b) => decodeConnect(b, PROTOCOL_VERSION)],
    [FrameType.PUB, (b) => {
      decodePub(b, cache, DEFAULT_MAX_SUBJECT_BYTES, pub);
      return {
        codec: pub.codec,
        subjects: pub.subjects.map((s) => s.subject),
        payload: [...pub.payload],
      };
    }],
    [FrameType.SUB, (b) => decodeSubscribe(b, "SUB")],
    [FrameType.SUBMATCH, (b) => decodeSubscribe(b, "SUBMATCH")],
    [FrameType.UNSUB, (b) => decodeUnsubscribe(b)],
    [FrameType.FLUSH, (b) => decodeRequest(b, "FLUSH")],
    [FrameType.STATS, (b) => decodeRequest(b, "STATS")],
    [FrameType.CREDIT, (b) => decodeCredit(b)],
  ]);
}

/** The decoders as the client runs them (lib/client/connection.ts, handshake.ts). */
function clientDecoders(): Map<number, (body: Uint8Array) => unknown> {
  const cache = new SubjectCache();
  const event = newEventFrame();
  return new Map<number, (body: Uint8Array) => unknown>([
    [FrameType.HELLO, (b) => decodeHello(b)],
    [FrameType.READY, (b) => decodeReady(b)],
    [FrameType.EVENT, (b) => {
      decodeEvent(b, cache, event);
      return { ...event, sids: [...event.sids], payload: [...event.payload] };
    }],
    [FrameType.OK, (b) => decodeRequest(b, "OK")],
    [FrameType.ERR, (b) => decodeErr(b)],
    [FrameType.BYE, (b) => decodeBye(b)],
    [FrameType.MISSED, (b) => decodeMissed(b)],
  ]);
}

/** Runs `decode` on `body`: its value, or "refused" for a FrameError; anything else is a bug. */
function attempt(decode: (body: Uint8Array) => unknown, body: Uint8Array, what: string): unknown {
  try {
    return decode(body);
  } catch (error) {
    if (error instanceof FrameError) return "refused";
    throw new Error(`${what} threw ${String(error)} on [${body}]`, { cause: error });
  }
}

type Decoders = [number, (body: Uint8Array) => unknown][];

/** Both sides' decoders, each with its own cache and reused frame object, as on a connection. */
function allDecoders(): Decoders {
  return [...serverDecoders(), ...clientDecoders()];
}

/**
 * Feeds bytes to a parser and every decoder of both sides (whatever the frame's type, so
 * each decoder sees every shape); only FrameErrors may come out.
 */
function feed(parser: FrameParser, bytes: Uint8Array, decoders: Decoders): "ok" | "refused" {
  try {
    for (const frame of parser.push(bytes)) {
      assert(frame.body.length < parser.maxFrameBytes);
      assert(requestIdOf(frame.body) >= 0);
      for (const [type, decode] of decoders) {
        attempt(decode, frame.body, `decoder 0x${type.toString(16)}`);
      }
      attempt((b) => eventBodySubject(b, SUBJECTS), frame.body, "eventBodySubject");
    }
    return "ok";
  } catch (error) {
    if (error instanceof FrameError) return "refused";
    throw error;
  }
}

/** The frames of `chunks`, each decoded by its own type's decoder (server's, else client's). */
function decodeStream(chunks: readonly Uint8Array[]): [number, unknown][] {
  const server = serverDecoders();
  const client = clientDecoders();
  const parser = new FrameParser();
  const out: [number, unknown][] = [];
  for (const chunk of chunks) {
    for (const frame of parser.push(chunk)) {
      const decode = server.get(frame.type) ?? client.get(frame.type);
      out.push([frame.type, decode ? attempt(decode, frame.body, "decoder") : [...frame.body]]);
    }
  }
  return out;
}

Deno.test("fuzz: random bytes only ever give frames or a FrameError (seeded, 2000 runs)", () => {
  const rand = prng(SEED);
  const decoders = allDecoders();
  let refused = 0;
  for (let run = 0; run < 2000; run++) {
    const parser = new FrameParser(64 * 1024);
    const bytes = randomBytes(rand, 1 + Math.floor(rand() * 512));
    if (feed(parser, bytes, decoders) === "refused") refused++;
  }
  assert(refused > 0, "random lengths should mostly be refused as too large");
});

Deno.test("fuzz: random small frames of every type reach the decoders (seeded, 5000 runs)", () => {
  const rand = prng(SEED + 3);
  const decoders = allDecoders();
  const types = Object.values(FrameType);
  for (let run = 0; run < 5000; run++) {
    const body = randomBytes(rand, Math.floor(rand() * 48));
    const frame = new Uint8Array(5 + body.length);
    new DataView(frame.buffer).setUint32(0, 1 + body.length);
    frame[4] = types[run % types.length]!;
    frame.set(body, 5);
    assertEquals(feed(new FrameParser(), frame, decoders), "ok");
  }
});

Deno.test("fuzz: mutated valid frames are decoded or refused with a FrameError (seeded, 5000 runs)", () => {
  const rand = prng(SEED + 1);
  const decoders = allDecoders();
  const frames = validFrames();
  for (let run = 0; run < 5000; run++) {
    const frame = frames[run % frames.length]!.slice();
    const flips = 1 + Math.floor(rand() * 4);
    for (let i = 0; i < flips; i++) {
      // Mostly mutate the body, sometimes the length prefix and type.
      const at = rand() < 0.8
        ? 5 + Math.floor(rand() * Math.max(frame.length - 5, 1))
        : Math.floor(rand() * 5);
      if (at < frame.length) frame[at] = Math.floor(rand() * 256);
    }
    feed(new FrameParser(64 * 1024), frame, decoders);
  }
});

Deno.test("fuzz: valid frames cut short anywhere never crash their decoder", () => {
  const server = serverDecoders();
  const client = clientDecoders();
  for (const frame of validFrames()) {
    const type = frame[4]!;
    const decode = server.get(type) ?? client.get(type);
    if (decode === undefined) continue; // PING, PONG: no body
    const body = frame.subarray(5);
    for (let n = 0; n < body.length; n++) {
      // A truncated body is refused, or (for a layout ending in free text or payload)
      // decoded as a prefix; never a crash.
      attempt(decode, body.subarray(0, n), `0x${type.toString(16)} cut to ${n}`);
    }
  }
});

Deno.test("fuzz: the one-subject fast path of decodePub agrees with a reference decoder", () => {
  /** The PUB layout read field by field, as the spec says. */
  function reference(body: Uint8Array, max: number): unknown {
    const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
    if (body.length < 3) return ErrorCode.PROTOCOL;
    const codec = body[0]!;
    const count = view.getUint16(1);
    if (count === 0) return ErrorCode.PROTOCOL;
    let at = 3;
    const subjects: string[] = [];
    for (let i = 0; i < count; i++) {
      if (at + 2 > body.length) return ErrorCode.PROTOCOL;
      const length = view.getUint16(at);
      if (at + 2 + length > body.length) return ErrorCode.PROTOCOL;
      if (length === 0 || length > max) return ErrorCode.BAD_SUBJECT;
      try {
        subjects.push(
          new TextDecoder("utf-8", { fatal: true }).decode(body.subarray(at + 2, at + 2 + length)),
        );
      } catch {
        return ErrorCode.PROTOCOL;
      }
      at += 2 + length;
    }
    return { codec, subjects, payload: [...body.subarray(at)] };
  }
  const rand = prng(SEED + 4);
  const cache = new SubjectCache(64);
  const out = newPubFrame();
  const max = 16;
  for (let run = 0; run < 20_000; run++) {
    // Mostly one subject around the limit, often with the length field or bytes wrong.
    const length = Math.floor(rand() * (max + 4));
    const subject = rand() < 0.9
      ? utf8("abcdefghijklmnopqrstuvwxyz".slice(0, length))
      : randomBytes(rand, length);
    const count = rand() < 0.8 ? 1 : Math.floor(rand() * 3);
    const body = concat([
      new Uint8Array([rand() * 3, 0, count, length >> 8, length & 0xff]),
      subject,
      randomBytes(rand, Math.floor(rand() * 4)),
    ]);
    if (rand() < 0.2) body[3 + Math.floor(rand() * 2)] = Math.floor(rand() * 256);
    const cut = rand() < 0.2 ? body.subarray(0, Math.floor(rand() * body.length)) : body;
    const expected = reference(cut, max);
    let got: unknown;
    try {
      decodePub(cut, cache, max, out);
      got = {
        codec: out.codec,
        subjects: out.subjects.map((s) => s.subject),
        payload: [...out.payload],
      };
    } catch (error) {
      if (!(error instanceof FrameError)) throw error;
      got = error.code;
    }
    assertEquals(got, expected, `body [${cut}]`);
  }
});

Deno.test("fuzz: a stream split at every offset and byte by byte decodes to the same frames", () => {
  const frames = validFrames();
  const stream = concat(frames);
  const whole = decodeStream([stream]);
  assertEquals(whole.length, frames.length);
  assert(whole.every(([, v]) => v !== "refused"), "every valid frame decodes");
  assertEquals(decodeStream([...stream].map((b) => new Uint8Array([b]))), whole, "byte by byte");
  for (let cut = 0; cut <= stream.length; cut++) {
    assertEquals(
      decodeStream([stream.subarray(0, cut), stream.subarray(cut)]),
      whole,
      `split at ${cut}`,
    );
  }
});

Deno.test("fuzz: a truncated stream yields only whole frames until it completes", () => {
  const stream = concat(validFrames());
  const whole = [...new FrameParser().push(stream)].map((f) => [f.type, [...f.body]]);
  for (let cut = 0; cut <= stream.length; cut++) {
    const parser = new FrameParser();
    const got = [...parser.push(stream.subarray(0, cut))].map((f) => [f.type, [...f.body]]);
    assertEquals(got, whole.slice(0, got.length));
    got.push(...[...parser.push(stream.subarray(cut))].map((f) => [f.type, [...f.body]]));
    assertEquals(got, whole);
  }
});

Deno.test("fuzz: huge length claims are refused before anything is buffered", () => {
  for (const length of [0xffffffff, 0x80000000, 1024 * 1024 + 1, 0x7fffffff]) {
    const header = new Uint8Array(5);
    new DataView(header.buffer).setUint32(0, length);
    try {
      [...new FrameParser().push(header)];
      throw new Error(`length ${length} was accepted`);
    } catch (error) {
      assert(error instanceof FrameError);
      assertEquals(error.code, ErrorCode.FRAME_TOO_LARGE);
    }
  }
  // Byte by byte as well.
  const parser = new FrameParser();
  let refused = false;
  try {
    for (const byte of [0xff, 0xff, 0xff, 0xff]) [...parser.push(new Uint8Array([byte]))];
  } catch (error) {
    refused = error instanceof FrameError;
  }
  assert(refused);
});

// ---------------------------------------------------------------------------------------
// End to end: a real server session over TCP.

function startServer(options: EventServerOptions = {}): Promise<EventServer> {
  return startEventServer({ port: 0, httpPort: false, nameServer: "none", workers: 1, ...options });
}

async function waitUntil(
  condition: () => boolean,
  what: string,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A raw client subscribes, publishes and gets its own event: the server still serves. */
async function assertServes(uri: string): Promise<void> {
  await using peer = await RawPeer.ready(uri);
  await peer.write(encodeSubscribe(FrameType.SUB, {
    requestId: 1,
    firstSid: 5,
    group: "",
    items: ["after.fuzz"],
  }));
  const ok = await peer.waitFor(FrameType.OK);
  assert(ok, "SUB answered");
  await peer.write(encodePub(1, [utf8("After.Fuzz")], utf8("fine")));
  const frame = await peer.waitFor(FrameType.EVENT);
  assert(frame, "EVENT received");
  const event = newEventFrame();
  decodeEvent(frame.body, new SubjectCache(), event);
  assertEquals([event.sids, event.subject, new TextDecoder().decode(event.payload)], [
    [5],
    "After.Fuzz",
    "fine",
  ]);
}

Deno.test({
  name: "fuzz: a live server survives garbage, mutated frames and huge claims, and keeps serving",
  async fn() {
    const server = await startServer({ heartbeatMs: 60_000 });
    try {
      const rand = prng(SEED + 2);
      const frames = validFrames();
      const before = Deno.memoryUsage().heapUsed;
      for (let round = 0; round < 150; round++) {
        // Half the peers complete the handshake first, so the garbage reaches the frame loop.
        const peer = round % 2 === 0
          ? await RawPeer.ready(server.uri)
          : await RawPeer.open(server.uri);
        try {
          const kind = round % 3;
          let bytes: Uint8Array;
          if (kind === 0) bytes = randomBytes(rand, 1 + Math.floor(rand() * 2048));
          else if (kind === 1) {
            bytes = frames[Math.floor(rand() * frames.length)]!.slice();
            for (let i = 0; i < 3; i++) bytes[Math.floor(rand() * bytes.length)] = rand() * 256;
          } else {
            bytes = new Uint8Array([0xff, 0xff, 0xff, 0xf0, FrameType.PUB, 1, 2, 3]);
          }
          await peer.write(bytes);
          // Either the server refuses and closes, or it waits for more: both are fine.
          await peer.write(encodeRequest(FrameType.FLUSH, 1));
        } finally {
          await peer[Symbol.asyncDispose]();
        }
      }
      await waitUntil(() => server.connections.size === 0, "fuzz connections to be cleaned up");
      await assertServes(server.uri);
      const grownBytes = Deno.memoryUsage().heapUsed - before;
      assert(grownBytes < 64 * 1024 * 1024, `heap grew by ${grownBytes} bytes`);
    } finally {
      await server.close();
    }
  },
});

Deno.test({
  name: "fuzz: a live session answers mutated valid frames with ERR or BYE, never a crash",
  async fn() {
    const server = await startServer({ heartbeatMs: 60_000 });
    try {
      const rand = prng(SEED + 5);
      // Only what a client may send after READY, each mutated in its body.
      const frames = validFrames().filter((f) =>
        [
          FrameType.PUB,
          FrameType.SUB,
          FrameType.SUBMATCH,
          FrameType.UNSUB,
          FrameType.FLUSH,
          FrameType.STATS,
          FrameType.CREDIT,
        ].includes(f[4]! as never)
      );
      await using peer = await RawPeer.ready(server.uri);
      let sent = 0;
      for (; sent < 300 && !peer.ended; sent++) {
        const frame = frames[sent % frames.length]!.slice();
        if (frame.length > 5) frame[5 + Math.floor(rand() * (frame.length - 5))] = rand() * 256;
        if (!await peer.write(frame)) break;
      }
      // A FLUSH behind it all: answered unless the stream was refused as a whole.
      await peer.write(encodeRequest(FrameType.FLUSH, 0xfeed));
      await waitUntil(
        () =>
          peer.ended ||
          peer.frames.some((f) => f.type === FrameType.OK && requestIdOf(f.body) === 0xfeed),
        "the FLUSH reply or the end",
      );
      for (const f of peer.frames) {
        if (f.type === FrameType.ERR) {
          const err = decodeErr(f.body);
          assert(err.code !== ErrorCode.INTERNAL, `internal error: ${err.message}`);
        }
        if (f.type === FrameType.BYE) {
          assert(decodeBye(f.body).code !== ErrorCode.INTERNAL, "no internal error");
        }
      }
      await assertServes(server.uri);
    } finally {
      await server.close();
    }
  },
});

Deno.test("an oversized frame gets BYE FRAME_TOO_LARGE and the connection is closed", async () => {
  const server = await startServer({ maxFrameBytes: 4096 });
  try {
    await using peer = await RawPeer.ready(server.uri);
    await peer.write(encodePub(1, [utf8("x")], new Uint8Array(5000)));
    const bye = await peer.waitFor(FrameType.BYE);
    assert(bye);
    assertEquals(decodeBye(bye.body).code, ErrorCode.FRAME_TOO_LARGE);
    await peer.waitForEnd();
  } finally {
    await server.close();
  }
});

Deno.test("a CONNECT claiming a huge length before READY gets BYE FRAME_TOO_LARGE", async () => {
  const server = await startServer();
  try {
    await using peer = await RawPeer.open(server.uri);
    assert(await peer.waitFor(FrameType.HELLO));
    await peer.write(new Uint8Array([0x00, 0x10, 0x00, 0x00, FrameType.CONNECT]));
    const bye = await peer.waitFor(FrameType.BYE);
    assert(bye);
    assertEquals(decodeBye(bye.body).code, ErrorCode.FRAME_TOO_LARGE);
    await peer.waitForEnd();
  } finally {
    await server.close();
  }
});
