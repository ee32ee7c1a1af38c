/**
 * The relay's client side. A connection's first byte says its role ("P"
 * publisher, "S" subscriber; the relay answers "K" to a subscriber once it is
 * registered). Frames: u32 length (big-endian) of what follows, u8 subject
 * length, subject bytes, payload. The relay copies bytes and routes nothing,
 * so every subscriber gets every frame.
 *
 * Per event the client does the least any real client has to: the publisher
 * encodes the subject into the frame, the subscriber splits frames and decodes
 * the subject into a string. The payload is handed over as a view of the read
 * buffer (the sink reads it at once), so the relay stays a ceiling.
 */

import type { BenchConnection, OnPayload } from "./clients.ts";

const ROLE_PUBLISHER = 0x50;
const ROLE_SUBSCRIBER = 0x53;
const INITIAL_BUFFER_BYTES = 256 * 1024;

async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  let at = 0;
  while (at < bytes.length) at += await conn.write(bytes.subarray(at));
}

/** Connects to `relay://host:port`. */
export async function openRelay(url: string): Promise<BenchConnection> {
  const { hostname, port } = new URL(url.replace(/^relay:/, "http:"));
  const conn = await Deno.connect({ hostname, port: Number(port) });
  conn.setNoDelay(true);
  return new RelayConnection(conn);
}

class RelayConnection implements BenchConnection {
  readonly #conn: Deno.Conn;
  readonly #encoder = new TextEncoder();
  /** Two buffers: publishes fill one while the other is being written. */
  #filling = new Uint8Array(INITIAL_BUFFER_BYTES);
  #spare = new Uint8Array(INITIAL_BUFFER_BYTES);
  #filled = 0;
  #writing: Promise<void> | undefined;
  #role = 0;
  #reading: Promise<void> | undefined;

  constructor(conn: Deno.Conn) {
    this.#conn = conn;
  }

  publish(subject: string, payload: Uint8Array): void {
    if (this.#role === 0) {
      this.#role = ROLE_PUBLISHER;
      this.#append(new Uint8Array([ROLE_PUBLISHER]));
    }
    // Room for the longest UTF-8 spelling of the subject (at most 255 bytes are sent).
    this.#reserve(5 + subject.length * 3 + payload.length);
    const buf = this.#filling;
    const at = this.#filled;
    const { written } = this.#encoder.encodeInto(subject, buf.subarray(at + 5, at + 5 + 255));
    const length = 1 + written + payload.length;
    buf[at] = length >>> 24;
    buf[at + 1] = (length >>> 16) & 0xff;
    buf[at + 2] = (length >>> 8) & 0xff;
    buf[at + 3] = length & 0xff;
    buf[at + 4] = written;
    buf.set(payload, at + 5 + written);
    this.#filled += 4 + length;
    this.#writing ??= this.#drain();
  }

  #append(bytes: Uint8Array): void {
    this.#reserve(bytes.length);
    this.#filling.set(bytes, this.#filled);
    this.#filled += bytes.length;
  }

  #reserve(size: number): void {
    if (this.#filled + size <= this.#filling.length) return;
    const bigger = new Uint8Array(Math.max(this.#filling.length * 2, this.#filled + size));
    bigger.set(this.#filling.subarray(0, this.#filled));
    this.#filling = bigger;
  }

  async #drain(): Promise<void> {
    // Whatever was published while a write was in flight goes out in the next write.
    while (this.#filled > 0) {
      const full = this.#filling;
      const bytes = full.subarray(0, this.#filled);
      this.#filling = this.#spare;
      this.#filled = 0;
      await writeAll(this.#conn, bytes);
      this.#spare = full;
    }
    this.#writing = undefined;
  }

  async flush(): Promise<void> {
    while (this.#writing) await this.#writing;
  }

  async subscribe(_subjects: string[], onPayload: OnPayload): Promise<void> {
    this.#role = ROLE_SUBSCRIBER;
    await writeAll(this.#conn, new Uint8Array([ROLE_SUBSCRIBER]));
    const ack = new Uint8Array(1);
    if (await this.#conn.read(ack) !== 1) throw new Error("The relay closed the connection");
    this.#reading = this.#read(onPayload);
  }

  subscribePattern(_pattern: unknown, onPayload: OnPayload): Promise<void> {
    return this.subscribe([], onPayload);
  }

  async #read(onPayload: OnPayload): Promise<void> {
    const decoder = new TextDecoder();
    let buf = new Uint8Array(INITIAL_BUFFER_BYTES);
    let have = 0;
    try {
      while (true) {
        if (have === buf.length) {
          const bigger = new Uint8Array(buf.length * 2);
          bigger.set(buf);
          buf = bigger;
        }
        const n = await this.#conn.read(buf.subarray(have));
        if (n === null) return;
        have += n;
        let at = 0;
        while (have - at >= 4) {
          const length = ((buf[at]! << 24) | (buf[at + 1]! << 16) | (buf[at + 2]! << 8) |
            buf[at + 3]!) >>> 0;
          if (have - at - 4 < length) break;
          const subjectEnd = at + 5 + buf[at + 4]!;
          decoder.decode(buf.subarray(at + 5, subjectEnd));
          onPayload(buf.subarray(subjectEnd, at + 4 + length));
          at += 4 + length;
        }
        buf.copyWithin(0, at, have);
        have -= at;
      }
    } catch {
      // Closed.
    }
  }

  async close(): Promise<void> {
    await this.flush();
    try {
      this.#conn.close();
    } catch {
      // Already closed.
    }
    await this.#reading;
  }
}
