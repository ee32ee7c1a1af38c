import { assert, assertEquals } from "./_assert.ts";
import { startTestServer, waitUntil } from "./_helpers.ts";
import { RawPeer } from "./_raw_peer.ts";
import { connect } from "../lib/client/mod.ts";
import { ErrorCode, FrameType, PROTOCOL_VERSION } from "../lib/protocol/constants.ts";
import { FrameError } from "../lib/protocol/errors.ts";
import {
  decodeBye,
  decodeConnect,
  decodeErr,
  decodeEvent,
  decodeHello,
  decodeListRequest,
  decodePub,
  decodeRequest,
  encodeConnect,
  encodeEvent,
  encodeHello,
  encodeListRequest,
  encodePub,
  encodeRequest,
  utf8,
} from "../lib/protocol/frames.ts";
import { FrameParser } from "../lib/protocol/parser.ts";

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

function randomBytes(rand: () => number, length: number): Uint8Array {
  const bytes = new Uint8Array(length);
  for (let i = 0; i < length; i++) bytes[i] = Math.floor(rand() * 256);
  return bytes;
}

/** Valid frames of every kind a peer may send or receive. */
function validFrames(): Uint8Array[] {
  return [
    encodePub(1, [utf8("stock.sun"), utf8("news")], utf8("payload")),
    encodeListRequest(FrameType.SUB, 7, ["a", "b.c"]),
    encodeListRequest(FrameType.SUBMATCH, 8, ["^stock\\.", "x+"]),
    encodeListRequest(FrameType.UNSUB, 9, ["a"]),
    encodeRequest(FrameType.FLUSH, 10),
    encodeRequest(FrameType.STATS, 11),
    encodeEvent(Date.now(), 1, utf8("stock.sun"), utf8("p")),
    encodeHello({
      version: PROTOCOL_VERSION,
      authRequired: true,
      serverNonce: new Uint8Array(16),
      heartbeatMs: 1000,
      maxFrameBytes: 1 << 20,
      serverName: "es",
    }),
    encodeConnect({
      version: PROTOCOL_VERSION,
      clientNonce: new Uint8Array(16),
      proof: new Uint8Array(32),
      clientName: "c",
    }),
  ];
}

const DECODERS: ((body: Uint8Array) => unknown)[] = [
  decodePub,
  decodeEvent,
  (b) => decodeListRequest(b, "SUB"),
  (b) => decodeRequest(b, "FLUSH"),
  decodeHello,
  decodeConnect,
  decodeErr,
  decodeBye,
];

/** Feeds bytes to a parser and every decoder; anything but a FrameError is a bug. */
function feed(parser: FrameParser, bytes: Uint8Array): "ok" | "refused" {
  try {
    for (const frame of parser.push(bytes)) {
      assert(frame.body.length < parser.maxFrameBytes);
      for (const decode of DECODERS) {
        try {
          decode(frame.body);
        } catch (error) {
          if (!(error instanceof FrameError)) {
            throw new Error(`decoder threw ${String(error)} on ${frame.body}`, { cause: error });
          }
        }
      }
    }
    return "ok";
  } catch (error) {
    if (error instanceof FrameError) return "refused";
    throw error;
  }
}

Deno.test("fuzz: random bytes only ever give frames or a FrameError (seeded, 2000 runs)", () => {
  const rand = prng(SEED);
  let refused = 0;
  for (let run = 0; run < 2000; run++) {
    const parser = new FrameParser(64 * 1024);
    const bytes = randomBytes(rand, 1 + Math.floor(rand() * 512));
    if (feed(parser, bytes) === "refused") refused++;
  }
  assert(refused > 0, "random lengths should mostly be refused as too large");
});

Deno.test("fuzz: mutated valid frames are decoded or refused with a FrameError (seeded, 5000 runs)", () => {
  const rand = prng(SEED + 1);
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
    feed(new FrameParser(64 * 1024), frame);
  }
});

Deno.test("fuzz: truncated frames yield nothing until complete; every split point gives the same frames", () => {
  const stream = validFrames().reduce((all, f) => {
    const out = new Uint8Array(all.length + f.length);
    out.set(all);
    out.set(f, all.length);
    return out;
  });
  const whole = [...new FrameParser().push(stream)].map((f) => [f.type, [...f.body]]);
  assertEquals(whole.length, validFrames().length);
  for (let cut = 0; cut <= stream.length; cut++) {
    const parser = new FrameParser();
    const got = [
      ...parser.push(stream.subarray(0, cut)),
    ].map((f) => [f.type, [...f.body]]);
    // A truncated stream gives only the frames wholly inside it.
    const whole_before = whole.slice(0, got.length);
    assertEquals(got, whole_before);
    got.push(...[...parser.push(stream.subarray(cut))].map((f) => [f.type, [...f.body]]));
    assertEquals(got, whole);
  }
});

Deno.test("fuzz: huge length claims are refused before anything is buffered", () => {
  for (const length of [0xffffffff, 0x80000000, 1024 * 1024 + 1, 0x7fffffff]) {
    const parser = new FrameParser();
    const header = new Uint8Array(5);
    new DataView(header.buffer).setUint32(0, length);
    try {
      [...parser.push(header)];
      throw new Error(`length ${length} was accepted`);
    } catch (error) {
      assert(error instanceof FrameError);
      assertEquals(error.code, ErrorCode.FRAME_TOO_LARGE);
    }
  }
  // Byte by byte as well.
  const parser = new FrameParser();
  const header = new Uint8Array([0xff, 0xff, 0xff, 0xff]);
  let refused = false;
  try {
    for (const byte of header) [...parser.push(new Uint8Array([byte]))];
  } catch (error) {
    refused = error instanceof FrameError;
  }
  assert(refused);
});

Deno.test({
  name: "fuzz: the live server survives garbage, mutated frames and huge claims, and keeps serving",
  async fn() {
    await using server = await startTestServer({ heartbeatMs: 60_000 });
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
    await waitUntil(
      () => server.connections.size === 0,
      10_000,
      "fuzz connections to be cleaned up",
    );
    // A well-behaved client is still served.
    await using client = await connect({ esURI: server.uri });
    const sub = await client.subscribeMatch("^after\\.");
    await client.publish("after.fuzz", "fine");
    for await (const event of sub) {
      assertEquals(event.msg, "fine");
      break;
    }
    const grownBytes = Deno.memoryUsage().heapUsed - before;
    assert(grownBytes < 64 * 1024 * 1024, `heap grew by ${grownBytes} bytes`);
  },
});

Deno.test("an oversized frame gets BYE FRAME_TOO_LARGE and the connection is closed", async () => {
  await using server = await startTestServer({ maxFrameBytes: 4096 });
  await using peer = await RawPeer.ready(server.uri);
  await peer.write(encodePub(1, [utf8("x")], new Uint8Array(5000)));
  const bye = await peer.waitFor(FrameType.BYE);
  assert(bye);
  assertEquals(decodeBye(bye.body).code, ErrorCode.FRAME_TOO_LARGE);
  await peer.waitForEnd();
});
