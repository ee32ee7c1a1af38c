/**
 * Hostile and careless clients for the soak test (issue 12): each kind in
 * its own loop, over raw sockets, doing what once froze es or blew up its
 * memory. Their connections are named `hostile-*` so the soak's loss check
 * leaves them out.
 */

import {
  CodecTag,
  FrameType,
  OverflowCode,
  PROTOCOL_VERSION,
  UNLIMITED,
} from "../lib/protocol/constants.ts";
import { encodeConnect } from "../lib/protocol/frames/connect.ts";
import { encodePub } from "../lib/protocol/frames/pub.ts";
import { encodeRequest } from "../lib/protocol/frames/request.ts";
import { encodeSubscribe } from "../lib/protocol/frames/subscribe.ts";
import { encodeUnsubscribe } from "../lib/protocol/frames/unsubscribe.ts";

const encoder = new TextEncoder();

/** What each kind of hostile client did, for the report. */
export type HostileCounts = Record<string, number>;

function hostPort(uri: string): { hostname: string; port: number } {
  const url = new URL(uri.replace(/^[a-z+]+:/, "http:"));
  return { hostname: url.hostname, port: Number(url.port) };
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function repeated(frame: Uint8Array, count: number): Uint8Array {
  const out = new Uint8Array(frame.length * count);
  for (let i = 0; i < count; i++) out.set(frame, i * frame.length);
  return out;
}

function pub(subjects: string[], payload: Uint8Array): Uint8Array {
  return encodePub(CodecTag.RAW, subjects.map((s) => encoder.encode(s)), payload);
}

function sub(type: "SUB" | "SUBMATCH", requestId: number, firstSid: number, items: string[]) {
  return encodeSubscribe(FrameType[type], { requestId, firstSid, group: "", items });
}

/** A raw connection past its handshake; `drain` reads and throws away whatever comes. */
async function open(
  uri: string,
  name: string,
  options: {
    windowEvents?: number;
    queueSize?: number;
    overflow?: OverflowCode;
    drain?: boolean;
  } = {},
): Promise<{ conn: Deno.TcpConn; ended: Promise<void> }> {
  const conn = await Deno.connect(hostPort(uri));
  await writeAll(
    conn,
    encodeConnect({
      version: PROTOCOL_VERSION,
      clientNonce: new Uint8Array(16),
      proof: new Uint8Array(0),
      windowEvents: options.windowEvents ?? UNLIMITED,
      windowBytes: UNLIMITED,
      queueSize: options.queueSize ?? 0,
      overflow: options.overflow ?? OverflowCode.DEFAULT,
      clientName: `hostile-${name}`,
    }),
  );
  const buffer = new Uint8Array(64 * 1024);
  const ended = options.drain === false ? Promise.resolve() : (async () => {
    try {
      while (await conn.read(buffer) !== null) { /* thrown away */ }
    } catch { /* reset */ }
  })();
  return { conn, ended };
}

async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  let written = 0;
  while (written < bytes.length) written += await conn.write(bytes.subarray(written));
}

function close(conn: Deno.Conn): void {
  try {
    conn.close();
  } catch { /* closed */ }
}

/** Runs every kind of hostile client until `running()` turns false. */
export function startHostiles(
  uri: string,
  httpURL: string | undefined,
  running: () => boolean,
): { counts: HostileCounts; done: Promise<void> } {
  const counts: HostileCounts = {};
  const count = (what: string, n = 1) => counts[what] = (counts[what] ?? 0) + n;
  const loop = (what: string, body: () => Promise<void>) =>
    (async () => {
      while (running()) {
        try {
          await body();
        } catch {
          count(`${what} errors`);
          await sleep(100);
        }
      }
    })();
  const loops = [
    // A drop-mode subscriber of every soak subject that gives no credit: its queue stays at its bound.
    loop("frozen", async () => {
      const { conn, ended } = await open(uri, "frozen", {
        windowEvents: 1,
        queueSize: 100_000,
        overflow: OverflowCode.DROP_NEW,
      });
      await writeAll(conn, sub("SUBMATCH", 1, 1, ["^soak\\.", "^hostile\\.\\d"]));
      count("frozen connections");
      // It answers no PING either: the heartbeat drops it after two intervals, and it is back.
      await Promise.race([
        ended,
        (async () => {
          while (running()) await sleep(200);
        })(),
      ]);
      close(conn);
      await ended;
    }),
    // A block-mode subscriber that gives no credit: cut as a slow consumer, and back.
    loop("frozen-block", async () => {
      const { conn, ended } = await open(uri, "frozen-block", { windowEvents: 1 });
      await writeAll(conn, sub("SUB", 1, 1, ["hostile.ws"]));
      await Promise.race([
        ended,
        (async () => {
          while (running()) await sleep(200);
        })(),
      ]);
      if (running()) count("slow consumers cut");
      close(conn);
      await ended;
    }),
    // 3,000 pipelined STATS, never read.
    loop("stats", async () => {
      const { conn } = await open(uri, "stats", { drain: false });
      await writeAll(conn, repeated(encodeRequest(FrameType.STATS, 1), 3000));
      count("unread STATS requests", 3000);
      await sleep(5000);
      close(conn);
    }),
    // Refused frames, as fast as they are answered.
    loop("refused", async () => {
      const { conn, ended } = await open(uri, "refused");
      const chunk = repeated(pub(["$es.reserved"], new Uint8Array(0)), 10_000);
      while (running()) {
        await writeAll(conn, chunk);
        count("refused frames", 10_000);
        await sleep(200);
      }
      close(conn);
      await ended;
    }),
    // One PUB on 2,000 distinct subjects with 100 KiB, to the frozen subscriber.
    loop("fan-out", async () => {
      const { conn, ended } = await open(uri, "fanout");
      const frame = pub(
        Array.from({ length: 2000 }, (_, i) => `hostile.${i}`),
        new Uint8Array(100 * 1024),
      );
      while (running()) {
        await writeAll(conn, frame);
        count("2,000-subject PUBs");
        await sleep(3000);
      }
      close(conn);
      await ended;
    }),
    // 150 patterns and 4,200 invalid ones in one SUBMATCH; UNSUB of 10,000 absent ids.
    loop("patterns", async () => {
      const { conn, ended } = await open(uri, "patterns");
      const patterns = [
        ...Array.from({ length: 150 }, (_, i) => `news\\.(sport|weather)\\.${i}\\..*`),
        ...Array.from({ length: 4200 }, (_, i) => `(bad${i}`),
      ];
      const absent = encodeUnsubscribe(2, Array.from({ length: 10_000 }, (_, i) => 1e6 + i));
      while (running()) {
        await writeAll(conn, sub("SUBMATCH", 1, 1, patterns));
        await writeAll(conn, absent);
        count("refused SUBMATCH + UNSUB of absent ids");
        await sleep(500);
      }
      close(conn);
      await ended;
    }),
    // Connections that never say CONNECT (the handshake timeout ends them).
    loop("idle", async () => {
      const conns = await Promise.all(
        Array.from({ length: 50 }, () => Deno.connect(hostPort(uri))),
      );
      count("idle connections", 50);
      for (let i = 0; i < 60 && running(); i++) await sleep(200);
      conns.forEach(close);
    }),
  ];
  if (httpURL !== undefined) {
    // Incomplete HTTP requests (the header timeout ends them).
    loops.push(loop("slow HTTP", async () => {
      const conns = await Promise.all(
        Array.from({ length: 20 }, () => Deno.connect(hostPort(httpURL))),
      );
      for (const c of conns) {
        await writeAll(c, encoder.encode("GET /stats HTTP/1.1\r\nhost: x\r\n"));
      }
      count("incomplete HTTP requests", 20);
      for (let i = 0; i < 60 && running(); i++) await sleep(200);
      conns.forEach(close);
    }));
    // A /ws publisher that sends without waiting, to a subject nobody reads in time.
    loops.push(loop("ws", async () => {
      const socket = new WebSocket(new URL("/ws", httpURL.replace(/^http/, "ws")));
      socket.binaryType = "arraybuffer";
      await new Promise((resolve, reject) => {
        socket.onopen = resolve;
        socket.onerror = reject;
      });
      socket.send(encodeConnect({
        version: PROTOCOL_VERSION,
        clientNonce: new Uint8Array(16),
        proof: new Uint8Array(0),
        windowEvents: UNLIMITED,
        windowBytes: UNLIMITED,
        queueSize: 0,
        overflow: OverflowCode.DEFAULT,
        clientName: "hostile-ws",
      }));
      const frame = pub(["hostile.ws"], new Uint8Array(64 * 1024));
      while (running() && socket.readyState === WebSocket.OPEN) {
        // Only this process's own buffer is capped; the server reads at its pace.
        while (socket.bufferedAmount < 32 * 1024 * 1024) {
          socket.send(frame);
          count("WebSocket MiB sent", 1 / 16);
        }
        await sleep(100);
      }
      const closed = new Promise((resolve) => socket.onclose = resolve);
      socket.close();
      await closed;
    }));
  }
  return { counts, done: Promise.all(loops).then(() => {}) };
}
