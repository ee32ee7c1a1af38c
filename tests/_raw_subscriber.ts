/**
 * Test helper: a subscriber that speaks the protocol by hand over TCP, so a
 * test can make it stop reading (a frozen subscriber) and later resume.
 */

import { FrameType } from "../lib/protocol/constants.ts";
import type { Connect } from "../lib/protocol/frames/connect.ts";
import { decodeErr } from "../lib/protocol/frames/err.ts";
import { decodeEvent, type EventFrame, newEventFrame } from "../lib/protocol/frames/event.ts";
import { encodeSubscribe } from "../lib/protocol/frames/subscribe.ts";
import { FrameParser, type RawFrame } from "../lib/protocol/parser.ts";
import { SubjectCache } from "../lib/protocol/subject_cache.ts";
import { rawConnect, writeAll } from "./_raw_peer.ts";

/** A hand-driven subscriber connection. */
export class RawSubscriber implements AsyncDisposable {
  #conn: Deno.TcpConn;
  #parser = new FrameParser(2 * 1024 * 1024);
  #subjects = new SubjectCache();
  #pending: RawFrame[] = [];
  #buffer = new Uint8Array(256 * 1024);
  #closed = false;

  private constructor(conn: Deno.TcpConn) {
    this.#conn = conn;
  }

  /** Connects and reads HELLO, nothing more. */
  static async open(uri: string): Promise<RawSubscriber> {
    const [, host, port] = /^es:\/\/(.+):(\d+)$/.exec(uri)!;
    const conn = await Deno.connect({ hostname: host!, port: Number(port) });
    const raw = new RawSubscriber(conn);
    try {
      const hello = await raw.#next(10_000);
      if (hello.type !== FrameType.HELLO) throw new Error(`expected HELLO, got ${hello.type}`);
    } catch (error) {
      raw.close();
      throw error;
    }
    return raw;
  }

  /**
   * Connects and completes the handshake as client "raw-test-subscriber"
   * (no flow control unless `options` ask for it).
   */
  static async connect(uri: string, options: Partial<Connect> = {}): Promise<RawSubscriber> {
    const raw = await RawSubscriber.open(uri);
    try {
      await raw.send(rawConnect("raw-test-subscriber", options));
      const ready = await raw.#next(10_000);
      if (ready.type !== FrameType.READY) throw new Error(`expected READY, got ${ready.type}`);
    } catch (error) {
      raw.close();
      throw error;
    }
    return raw;
  }

  /** Writes raw bytes. */
  send(bytes: Uint8Array): Promise<void> {
    return writeAll(this.#conn, bytes);
  }

  /** The next frame from the server (a copy); throws at the end of the stream or after `timeoutMs`. */
  nextFrame(timeoutMs = 10_000): Promise<RawFrame> {
    return this.#next(timeoutMs);
  }

  /** Waits until the server closes the connection, skipping frames; false after `timeoutMs`. */
  async closedByServer(timeoutMs = 10_000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    try {
      while (Date.now() < deadline) await this.#next(deadline - Date.now());
    } catch (error) {
      return (error as Error).message === "Connection closed by the server";
    }
    return false;
  }

  /**
   * Connects, does the handshake and subscribes to `subjects` (ids 1, 2, …);
   * then reads nothing more.
   */
  static async subscribe(
    uri: string,
    subjects: string[],
    options: Partial<Connect> = {},
  ): Promise<RawSubscriber> {
    const raw = await RawSubscriber.connect(uri, options);
    const conn = raw.#conn;
    try {
      await writeAll(
        conn,
        encodeSubscribe(FrameType.SUB, { requestId: 1, firstSid: 1, group: "", items: subjects }),
      );
      const ok = await raw.#next(10_000);
      if (ok.type === FrameType.ERR) throw new Error(decodeErr(ok.body).message);
      if (ok.type !== FrameType.OK) throw new Error(`expected OK, got ${ok.type}`);
    } catch (error) {
      raw.close();
      throw error;
    }
    return raw;
  }

  /** Reads the next frame (a copy), waiting at most `timeoutMs`. */
  async #next(timeoutMs: number): Promise<RawFrame> {
    const deadline = Date.now() + timeoutMs;
    while (this.#pending.length === 0) {
      if (Date.now() > deadline) throw new Error("Timed out waiting for a frame");
      const timer = setTimeout(() => this.close(), Math.max(deadline - Date.now(), 1));
      let n: number | null;
      try {
        n = await this.#conn.read(this.#buffer);
      } catch (error) {
        if (error instanceof Deno.errors.ConnectionReset) n = null;
        else throw error;
      } finally {
        clearTimeout(timer);
      }
      if (n === null) throw new Error("Connection closed by the server");
      for (const f of this.#parser.push(this.#buffer.subarray(0, n))) {
        this.#pending.push({ type: f.type, body: f.body.slice() });
      }
    }
    return this.#pending.shift()!;
  }

  /**
   * Resumes reading and hands each event to `onEvent` until `count` events
   * came or `timeoutMs` passed.
   *
   * @returns The number of events read.
   */
  async readEvents(
    count: number,
    onEvent: (event: EventFrame) => void,
    timeoutMs = 60_000,
  ): Promise<number> {
    let seen = 0;
    const deadline = Date.now() + timeoutMs;
    while (seen < count) {
      const frame = await this.#next(deadline - Date.now());
      if (frame.type !== FrameType.EVENT) continue;
      const event = newEventFrame();
      decodeEvent(frame.body, this.#subjects, event);
      onEvent(event);
      seen++;
    }
    return seen;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#conn.close();
    } catch {
      // Already closed.
    }
  }

  [Symbol.asyncDispose](): Promise<void> {
    this.close();
    return Promise.resolve();
  }
}
