/**
 * SPEC §8, memory before authentication: until READY a peer can make the
 * server hold only a few KiB. Through a real `es serve`, whose resident
 * memory (VmRSS) is sampled while 1,000 strangers claim 1 MiB CONNECTs and
 * send most of them, then while 1,000 more hold the largest partial CONNECT
 * the server accepts before READY. (Before the 4 KiB handshake limit, the
 * first attack made the server take about 1.15 GiB.)
 */

import { assert, assertEquals } from "./_assert.ts";
import { spawnServe } from "./_helpers.ts";
import { sampleResident } from "./_rss.ts";
import { connect } from "../lib/client/mod.ts";
import { FrameType, HANDSHAKE_MAX_FRAME_BYTES } from "../lib/protocol/constants.ts";
import { rawConnect } from "./_raw_peer.ts";

const CONNECTIONS = 1000;
/** Growth allowed for 1,000 strangers: a few KiB each, and room for the runtime's noise. */
const MAX_GROWTH_MIB = 64;

/** The file-descriptor limit of processes started from here (the server inherits it). */
async function openFileLimit(): Promise<number> {
  const { stdout } = await new Deno.Command("sh", { args: ["-c", "ulimit -n"], stdout: "piped" })
    .output();
  const text = new TextDecoder().decode(stdout).trim();
  return text === "unlimited" ? Infinity : Number(text);
}
const FD_LIMIT = await openFileLimit();
const ENOUGH_FDS = FD_LIMIT >= 2 * CONNECTIONS + 200;

/**
 * Opens `count` connections to `port` (50 at a time) and writes `bytes` on
 * each, as far as the server lets it; returns the connections, left open.
 */
async function flood(port: number, count: number, bytes: Uint8Array): Promise<Deno.Conn[]> {
  const conns: Deno.Conn[] = [];
  for (let done = 0; done < count; done += 50) {
    await Promise.all(Array.from({ length: Math.min(50, count - done) }, async () => {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port });
      conns.push(conn);
      try {
        for (let written = 0; written < bytes.length;) {
          written += await conn.write(bytes.subarray(written));
        }
      } catch {
        // The server refused the frame and hung up: that is the point.
      }
    }));
  }
  return conns;
}

/** A CONNECT header claiming `claimed` bytes, followed by `sent - 5` bytes of its body. */
function partialConnect(claimed: number, sent: number): Uint8Array {
  const bytes = new Uint8Array(sent);
  new DataView(bytes.buffer).setUint32(0, claimed);
  bytes[4] = FrameType.CONNECT;
  return bytes;
}

Deno.test({
  name:
    `es serve holds a few KiB per stranger before READY: 1,000 claimed 1 MiB CONNECTs, 1,000 partial ones${
      ENOUGH_FDS ? "" : ` (ignored: ulimit -n is ${FD_LIMIT})`
    }`,
  ignore: !ENOUGH_FDS,
  async fn() {
    await using server = await spawnServe(["-N", "--no-http"]);
    const port = Number(server.uri.split(":").pop());
    const pid = server.child.pid;
    const conns: Deno.Conn[] = [];
    try {
      // Warm up: the first handshakes load code and grow the heap once.
      await using warm = await connect({ esURI: server.uri });
      await warm.flush();
      const claims = sampleResident(pid);
      const before = await claims.first;
      conns.push(...await flood(port, CONNECTIONS, partialConnect(1024 * 1024, 900_000)));
      await new Promise((r) => setTimeout(r, 500));
      const afterClaims = await claims.stop();
      assert(
        afterClaims - before < MAX_GROWTH_MIB,
        `1,000 claimed 1 MiB CONNECTs grew the server by ${(afterClaims - before).toFixed(1)} MiB`,
      );

      // The largest CONNECT accepted before READY, all but its last byte: the server must wait.
      const holds = sampleResident(pid);
      const held = await flood(
        port,
        CONNECTIONS,
        partialConnect(HANDSHAKE_MAX_FRAME_BYTES, HANDSHAKE_MAX_FRAME_BYTES + 3),
      );
      conns.push(...held);
      await new Promise((r) => setTimeout(r, 500));
      const afterHolds = await holds.stop();
      assert(
        afterHolds - before < MAX_GROWTH_MIB,
        `1,000 pending 4 KiB CONNECTs grew the server by ${(afterHolds - before).toFixed(1)} MiB`,
      );
      // Still serving.
      await using client = await connect({ esURI: server.uri });
      const sub = await client.subscribe("after.flood");
      await client.publish("after.flood", 1);
      for await (const event of sub) {
        assertEquals(event.msg, 1);
        break;
      }
    } finally {
      for (const conn of conns) {
        try {
          conn.close();
        } catch {
          // Closed by the server.
        }
      }
    }
  },
});

/** Opens a WebSocket to `url`; resolves once it is open. */
function openSocket(url: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url);
    socket.binaryType = "arraybuffer";
    socket.onopen = () => resolve(socket);
    socket.onerror = () => reject(new Error(`Cannot open ${url}`));
  });
}

Deno.test("es serve -i: a /ws stranger waiting for its verdict is held by TCP past its CONNECT, not buffered", async () => {
  const ident = "correct horse battery staple";
  await using server = await spawnServe(["-N", "--http-port", "0", "-i", ident]);
  const ws = `ws://${new URL(server.httpURL!).host}/ws`;
  // Five refusals from this host: its next handshakes wait before their verdict, unread.
  for (let i = 0; i < 5; i++) {
    await using guess = await connect({ esURI: server.uri, ident: "guess", reconnect: false })
      .catch(() => undefined);
    assert(guess === undefined);
  }
  const claims = sampleResident(server.child.pid);
  const before = await claims.first;
  const sockets: WebSocket[] = [];
  const closes: Promise<void>[] = [];
  try {
    const junk = new Uint8Array(64 * 1024);
    for (let i = 0; i < 100; i++) {
      const socket = await openSocket(ws);
      sockets.push(socket);
      closes.push(new Promise((resolve) => socket.onclose = () => resolve()));
      socket.send(rawConnect("waiting"));
      // 4 MiB, the most a connection could leave unread before strangers got less.
      for (let sent = 0; sent < 60; sent++) socket.send(junk);
    }
    await Promise.all(closes); // the server hangs up on each of them
    const grown = (await claims.stop()) - before;
    assert(grown < MAX_GROWTH_MIB, `100 /ws strangers grew the server by ${grown.toFixed(1)} MiB`);
  } finally {
    for (const socket of sockets) socket.close();
    await Promise.all(closes);
  }
});
