/** Test helpers that speak the wire protocol by hand: a raw client and a silent fake server. */

import { FrameType, PROTOCOL_VERSION, UNLIMITED } from "../lib/protocol/constants.ts";
import { type Connect, encodeConnect } from "../lib/protocol/frames/connect.ts";
import { encodeHello } from "../lib/protocol/frames/hello.ts";
import { encodeReady } from "../lib/protocol/frames/ready.ts";
import { FrameParser, type RawFrame } from "../lib/protocol/parser.ts";

/** Writes every byte of `bytes` to `conn`. */
export async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  let written = 0;
  while (written < bytes.length) written += await conn.write(bytes.subarray(written));
}

function closeQuietly(conn: Deno.Conn): void {
  try {
    conn.close();
  } catch {
    // Already closed.
  }
}

/** A CONNECT without a passphrase and without flow control, with `options` on top. */
export function rawConnect(clientName: string, options: Partial<Connect> = {}): Uint8Array {
  return encodeConnect({
    version: PROTOCOL_VERSION,
    clientNonce: new Uint8Array(16),
    proof: new Uint8Array(0),
    windowEvents: UNLIMITED,
    windowBytes: UNLIMITED,
    queueSize: 0,
    overflow: 0,
    clientName,
    ...options,
  });
}

/** A TCP client that does only what the test tells it to. */
export class RawPeer implements AsyncDisposable {
  readonly conn: Deno.TcpConn;
  readonly frames: RawFrame[] = [];
  /** True once the server closed the stream. */
  ended = false;
  #reading: Promise<void>;

  private constructor(conn: Deno.TcpConn) {
    this.conn = conn;
    this.#reading = this.#read();
  }

  /** Connects to `uri` (es://host:port) without any handshake. */
  static async open(uri: string): Promise<RawPeer> {
    const [, host, port] = /^es:\/\/(.+):(\d+)$/.exec(uri)!;
    return new RawPeer(await Deno.connect({ hostname: host!, port: Number(port) }));
  }

  /** Connects and completes the handshake without a passphrase. */
  static async ready(uri: string, options: Partial<Connect> = {}): Promise<RawPeer> {
    const peer = await RawPeer.open(uri);
    await peer.waitFor(FrameType.HELLO);
    await peer.write(rawConnect("raw-peer", options));
    await peer.waitFor(FrameType.READY);
    return peer;
  }

  async #read(): Promise<void> {
    const parser = new FrameParser(64 * 1024 * 1024);
    const buffer = new Uint8Array(64 * 1024);
    try {
      while (true) {
        const n = await this.conn.read(buffer);
        if (n === null) break;
        for (const f of parser.push(buffer.subarray(0, n))) {
          this.frames.push({ type: f.type, body: f.body.slice() });
        }
      }
    } catch {
      // Reset by the server: the same as an end for these tests.
    }
    this.ended = true;
  }

  /** Writes bytes; false when the server has closed the stream. */
  async write(bytes: Uint8Array): Promise<boolean> {
    try {
      await writeAll(this.conn, bytes);
      return true;
    } catch {
      return false;
    }
  }

  /** Waits for a frame of `type` (or the end of the stream, then returns undefined). */
  async waitFor(type: number, timeoutMs = 5000): Promise<RawFrame | undefined> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const found = this.frames.find((f) => f.type === type);
      if (found) return found;
      if (this.ended) return undefined;
      await new Promise((r) => setTimeout(r, 5));
    }
    throw new Error(`Timed out waiting for frame type 0x${type.toString(16)}`);
  }

  /** Waits until the server has closed the stream. */
  async waitForEnd(timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.ended) {
      if (Date.now() > deadline) throw new Error("Timed out waiting for the server to close");
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    closeQuietly(this.conn);
    await this.#reading;
  }
}

/**
 * A fake event server that completes the handshake and then says nothing,
 * as a frozen or partitioned server would.
 */
export class SilentServer implements AsyncDisposable {
  readonly listener: Deno.TcpListener;
  readonly uri: string;
  readonly #conns: Deno.TcpConn[] = [];
  #accepting: Promise<void>;

  constructor(heartbeatMs: number) {
    this.listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    this.uri = `es://127.0.0.1:${this.listener.addr.port}`;
    this.#accepting = this.#accept(heartbeatMs);
  }

  async #accept(heartbeatMs: number): Promise<void> {
    try {
      for await (const conn of this.listener) {
        this.#conns.push(conn);
        await writeAll(
          conn,
          encodeHello({
            version: PROTOCOL_VERSION,
            authRequired: false,
            serverNonce: new Uint8Array(16),
            heartbeatMs,
            maxFrameBytes: 1024 * 1024,
            serverName: "silent",
          }),
        );
        // Read CONNECT (any bytes will do), answer READY, then never read or write again.
        await conn.read(new Uint8Array(4096));
        await writeAll(conn, encodeReady(new Uint8Array(0)));
      }
    } catch {
      // Listener closed.
    }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.listener.close();
    for (const c of this.#conns) closeQuietly(c);
    await this.#accepting;
  }
}
