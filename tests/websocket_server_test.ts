/**
 * The server's end of a WebSocket, frame by frame over a real socket pair:
 * masked binary payload as a byte stream (fragments, split reads), PING,
 * CLOSE, and the refusals (text, unmasked, oversized control frames).
 */

import { assertEquals } from "./_assert.ts";
import { WebSocketServerTransport } from "../lib/transport/websocket_server.ts";

/** A connected pair: the server's transport and the client's raw socket. */
async function pair(): Promise<
  { ws: WebSocketServerTransport; client: Deno.TcpConn; done(): void }
> {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const [server, client] = await Promise.all([
    listener.accept(),
    Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port }),
  ]);
  listener.close();
  const ws = new WebSocketServerTransport(server);
  ws.open(new Uint8Array(0));
  return {
    ws,
    client,
    done() {
      ws.close();
      try {
        client.close();
      } catch { /* closed */ }
    },
  };
}

/** A client frame: FIN and `opcode`, masked with a fixed key. */
function frame(
  opcode: number,
  payload: Uint8Array,
  options: { fin?: boolean; mask?: boolean } = {},
) {
  const mask = options.mask ?? true;
  const n = payload.length;
  const head = n < 126 ? 2 : n < 65536 ? 4 : 10;
  const out = new Uint8Array(head + (mask ? 4 : 0) + n);
  out[0] = (options.fin ?? true ? 0x80 : 0) | opcode;
  out[1] = (mask ? 0x80 : 0) | (n < 126 ? n : n < 65536 ? 126 : 127);
  if (n >= 126 && n < 65536) new DataView(out.buffer).setUint16(2, n);
  if (n >= 65536) new DataView(out.buffer).setUint32(6, n);
  const key = [0x12, 0x34, 0x56, 0x78];
  if (mask) out.set(key, head);
  for (let i = 0; i < n; i++) {
    out[head + (mask ? 4 : 0) + i] = payload[i]! ^ (mask ? key[i & 3]! : 0);
  }
  return out;
}

async function readAll(ws: WebSocketServerTransport, count: number): Promise<Uint8Array> {
  const out = new Uint8Array(count);
  let at = 0;
  const buffer = new Uint8Array(7); // small on purpose: payloads span reads
  while (at < count) {
    const n = await ws.read(buffer);
    if (n === null) break;
    out.set(buffer.subarray(0, n), at);
    at += n;
  }
  return out.subarray(0, at);
}

/** The frames the server sent, as [opcode, payload]. */
async function serverFrames(client: Deno.TcpConn): Promise<[number, Uint8Array][]> {
  const bytes: number[] = [];
  const buffer = new Uint8Array(1024);
  try {
    for (let n = await client.read(buffer); n !== null; n = await client.read(buffer)) {
      bytes.push(...buffer.subarray(0, n));
    }
  } catch { /* reset */ }
  const frames: [number, Uint8Array][] = [];
  for (let at = 0; at + 2 <= bytes.length;) {
    const n = bytes[at + 1]! & 0x7f; // the server's frames in these tests are small
    frames.push([bytes[at]! & 0x0f, new Uint8Array(bytes.slice(at + 2, at + 2 + n))]);
    at += 2 + n;
  }
  return frames;
}

Deno.test("WebSocketServerTransport reads masked binary payloads as one stream, across fragments and reads", async () => {
  const { ws, client, done } = await pair();
  const data = Uint8Array.from({ length: 70_000 }, (_, i) => i % 251);
  const bytes = [
    frame(0x2, data.subarray(0, 100), { fin: false }),
    frame(0x9, new Uint8Array([1, 2])), // a PING between fragments
    frame(0x0, data.subarray(100, 69_000), { fin: false }),
    frame(0x0, data.subarray(69_000)),
  ];
  const all = new Uint8Array(bytes.reduce((n, b) => n + b.length, 0));
  bytes.reduce((at, b) => (all.set(b, at), at + b.length), 0);
  for (let at = 0; at < all.length; at += 5000) await client.write(all.subarray(at, at + 5000));
  assertEquals(await readAll(ws, data.length), data);
  await client.write(frame(0x8, new Uint8Array([0x03, 0xe8])));
  assertEquals(await ws.read(new Uint8Array(10)), null, "CLOSE ends the stream");
  const frames = await serverFrames(client);
  assertEquals(frames.map(([op]) => op), [0xa, 0x8], "PONG, then the closing handshake");
  assertEquals(frames[0]![1], new Uint8Array([1, 2]));
  done();
});

Deno.test("WebSocketServerTransport writes unmasked binary frames", async () => {
  const { ws, client, done } = await pair();
  await ws.write(new Uint8Array([9, 8, 7]));
  ws.close();
  const frames = await serverFrames(client);
  assertEquals(frames[0], [0x2, new Uint8Array([9, 8, 7])]);
  assertEquals(frames[1]![0], 0x8);
  done();
});

for (
  const [what, bytes, code] of [
    ["a text message", frame(0x1, new Uint8Array([65])), 1003],
    ["an unmasked frame", frame(0x2, new Uint8Array([1]), { mask: false }), 1002],
    ["a control frame over 125 bytes", frame(0x9, new Uint8Array(126)), 1002],
    ["a fragmented control frame", frame(0x9, new Uint8Array(1), { fin: false }), 1002],
  ] as const
) {
  Deno.test(`WebSocketServerTransport closes with ${code} on ${what}`, async () => {
    const { ws, client, done } = await pair();
    await client.write(bytes);
    assertEquals(await ws.read(new Uint8Array(10)), null);
    const [close] = await serverFrames(client);
    assertEquals(close![0], 0x8);
    assertEquals((close![1][0]! << 8) | close![1][1]!, code);
    done();
  });
}
