/**
 * Helpers of the bounds tests: the resident memory of a child process, raw
 * frames built by hand, a raw connection that reads and throws away what it
 * gets, and a prober that measures PING round trips while something else
 * loads the server.
 */

import { CodecTag, FrameType } from "../lib/protocol/constants.ts";
import { PING_FRAME } from "../lib/protocol/frames/control.ts";
import { encodePub } from "../lib/protocol/frames/pub.ts";
import { encodeRequest } from "../lib/protocol/frames/request.ts";
import { encodeSubscribe } from "../lib/protocol/frames/subscribe.ts";
import { FrameParser, type RawFrame } from "../lib/protocol/parser.ts";
import { rawConnect, writeAll } from "./_raw_peer.ts";

/**
 * Resident memory of process `pid` in KiB (VmRSS), from `ps`: Deno reads
 * /proc/PID/status only with --allow-all, more than the test task grants.
 */
export async function rssKiB(pid: number): Promise<number> {
  const { stdout } = await new Deno.Command("ps", { args: ["-o", "rss=", "-p", String(pid)] })
    .output();
  const kib = Number(new TextDecoder().decode(stdout).trim());
  if (!Number.isFinite(kib) || kib <= 0) throw new Error(`No RSS for process ${pid}`);
  return kib;
}

const encoder = new TextEncoder();

/** A PUB frame of `payload` on every subject of `subjects` (RAW codec). */
export function pubFrame(subjects: readonly string[], payload: Uint8Array): Uint8Array {
  return encodePub(CodecTag.RAW, subjects.map((s) => encoder.encode(s)), payload);
}

/** A SUB (or SUBMATCH) frame of `items` under ids `firstSid…`. */
export function subFrame(
  requestId: number,
  firstSid: number,
  items: string[],
  pattern = false,
): Uint8Array {
  return encodeSubscribe(pattern ? FrameType.SUBMATCH : FrameType.SUB, {
    requestId,
    firstSid,
    group: "",
    items,
  });
}

/** A request frame without a body (FLUSH, STATS). */
export function requestFrame(type: FrameType, requestId: number): Uint8Array {
  return encodeRequest(type, requestId);
}

/**
 * A raw connection past its handshake that keeps reading, counts the frames
 * by type and keeps none of them (so a test can make the server answer a
 * million times without holding the answers).
 */
export class CountingPeer implements AsyncDisposable {
  readonly conn: Deno.TcpConn;
  readonly counts: Map<number, number> = new Map();
  /** Frames of the types named in `keep`, kept (copied) for the test. */
  readonly kept: RawFrame[] = [];
  ended = false;
  #keep: ReadonlySet<number>;
  #reading: Promise<void>;
  #waiters: (() => void)[] = [];

  private constructor(conn: Deno.TcpConn, keep: ReadonlySet<number>) {
    this.conn = conn;
    this.#keep = keep;
    this.#reading = this.#read();
  }

  /** Connects to `uri`, completes the handshake (no passphrase, no flow control). */
  static async open(
    uri: string,
    keep: number[] = [],
    name = "counting-peer",
  ): Promise<CountingPeer> {
    const [, host, port] = /^es:\/\/(.+):(\d+)$/.exec(uri)!;
    const conn = await Deno.connect({ hostname: host!, port: Number(port) });
    const peer = new CountingPeer(conn, new Set([...keep, FrameType.READY]));
    await peer.write(rawConnect(name));
    await peer.waitForCount(FrameType.READY, 1);
    return peer;
  }

  async #read(): Promise<void> {
    const parser = new FrameParser(64 * 1024 * 1024);
    const buffer = new Uint8Array(256 * 1024);
    try {
      while (true) {
        const n = await this.conn.read(buffer);
        if (n === null) break;
        for (const f of parser.push(buffer.subarray(0, n))) {
          this.counts.set(f.type, (this.counts.get(f.type) ?? 0) + 1);
          if (this.#keep.has(f.type)) this.kept.push({ type: f.type, body: f.body.slice() });
        }
        this.#wake();
      }
    } catch {
      // Reset by the server: an end, for these tests.
    }
    this.ended = true;
    this.#wake();
  }

  #wake(): void {
    for (const w of this.#waiters.splice(0)) w();
  }

  count(type: number): number {
    return this.counts.get(type) ?? 0;
  }

  /** Writes bytes; false once the server closed the stream. */
  async write(bytes: Uint8Array): Promise<boolean> {
    try {
      await writeAll(this.conn, bytes);
      return true;
    } catch {
      return false;
    }
  }

  /** Waits until `count` frames of `type` came; throws after `timeoutMs` or at the end. */
  async waitForCount(type: number, count: number, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.count(type) < count) {
      if (this.ended) throw new Error(`Stream ended with ${this.count(type)} of ${count} frames`);
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new Error(`Timed out with ${this.count(type)} of ${count} frames of type ${type}`);
      }
      const { promise, resolve } = Promise.withResolvers<void>();
      this.#waiters.push(resolve);
      const timer = setTimeout(resolve, Math.min(left, 200));
      await promise;
      clearTimeout(timer);
    }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    try {
      this.conn.close();
    } catch {
      // Already closed.
    }
    await this.#reading;
  }
}

/**
 * Measures PING round trips on its own connection, one after another (10 ms
 * apart), until stopped: the longest is how long the server kept this
 * client waiting.
 */
export class PingProbe implements AsyncDisposable {
  readonly rtts: number[] = [];
  #peer: CountingPeer;
  #running = true;
  #loop: Promise<void>;

  private constructor(peer: CountingPeer) {
    this.#peer = peer;
    this.#loop = this.#run();
  }

  static async start(uri: string): Promise<PingProbe> {
    return new PingProbe(await CountingPeer.open(uri));
  }

  async #run(): Promise<void> {
    while (this.#running) {
      const before = this.#peer.count(FrameType.PONG);
      const started = performance.now();
      if (!await this.#peer.write(PING_FRAME)) return;
      await this.#peer.waitForCount(FrameType.PONG, before + 1, 60_000);
      this.rtts.push(performance.now() - started);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  /** The longest round trip so far, in milliseconds. */
  get maxMs(): number {
    return Math.max(0, ...this.rtts);
  }

  /** Stops after the round trip in flight; returns the longest. */
  async stop(): Promise<number> {
    this.#running = false;
    await this.#loop;
    return this.maxMs;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop().catch(() => {});
    await this.#peer[Symbol.asyncDispose]();
  }
}
