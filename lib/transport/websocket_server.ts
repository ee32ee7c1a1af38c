/**
 * The server's end of a WebSocket (RFC 6455) on a TCP connection, as a
 * `Transport`: the payload of the client's binary messages is the byte
 * stream of es frames, read straight off the socket. Nothing is buffered
 * beyond one read, so a sender the server does not read is held by TCP, as
 * over plain TCP (a WebSocket object cannot be paused: it buffers every
 * message it receives).
 */

import { formatAddr } from "./tcp.ts";
import type { Transport } from "./transport.ts";

const OP_CONTINUATION = 0x0;
const OP_TEXT = 0x1;
const OP_BINARY = 0x2;
const OP_CLOSE = 0x8;
const OP_PING = 0x9;
const OP_PONG = 0xa;
/** Control frames carry at most this much (RFC 6455 §5.5). */
const MAX_CONTROL_BYTES = 125;
const READ_BYTES = 64 * 1024;
/** How long a goodbye (close frame) may take to leave before the socket is closed anyway. */
const CLOSE_WRITE_MS = 250;

/** Why the server ends a WebSocket, as a close code and reason. */
class WsClose extends Error {
  constructor(readonly code: number, reason: string) {
    super(reason);
  }
}

/**
 * A WebSocket over `conn`. It is made while the upgrade request is being
 * answered (so a session can start on it at once) and carries nothing until
 * `open()`, once the 101 response is out.
 */
export class WebSocketServerTransport implements Transport {
  readonly remote: string;
  #conn: Deno.Conn;
  #in = new Uint8Array(READ_BYTES);
  #start = 0;
  #end = 0;
  /** Payload bytes left in the current data frame, its mask and where in the mask it is. */
  #left = 0;
  #mask = new Uint8Array(4);
  #maskAt = 0;
  #ended = false;
  #closing = false;
  #closed = Promise.withResolvers<void>();
  #opened = Promise.withResolvers<boolean>();
  #writing: Promise<unknown>;

  /**
   * @param conn The connection of the upgrade request.
   * @param remote Where the peer is, for logs (`ws HOST:PORT`).
   */
  constructor(conn: Deno.Conn, remote = `ws ${formatAddr(conn.remoteAddr)}`) {
    this.#conn = conn;
    this.remote = remote;
    this.#writing = this.#opened.promise;
  }

  /** The 101 response is out: `early` are the bytes read past the request's head. */
  open(early: Uint8Array): void {
    if (early.length > this.#in.length) this.#in = new Uint8Array(early.length);
    this.#in.set(early);
    this.#end = early.length;
    this.#opened.resolve(true);
  }

  /** The upgrade failed: the transport ends without a word. */
  abort(): void {
    this.#opened.resolve(false);
    this.#closing = true;
    this.#ended = true;
    this.#drop();
  }

  async read(buffer: Uint8Array): Promise<number | null> {
    if (!await this.#opened.promise) return null;
    try {
      while (!this.#ended) {
        if (this.#left > 0) {
          if (this.#start === this.#end && !await this.#fill()) break;
          return this.#payload(buffer);
        }
        await this.#frameHead();
      }
    } catch (error) {
      if (!(error instanceof WsClose)) {
        this.#closeWith(1006, "");
        throw error;
      }
      this.#closeWith(error.code, error.message);
    }
    this.close();
    return null;
  }

  /** Copies (unmasked) payload bytes of the current data frame into `buffer`. */
  #payload(buffer: Uint8Array): number {
    const n = Math.min(buffer.length, this.#left, this.#end - this.#start);
    const input = this.#in;
    const mask = this.#mask;
    let at = this.#maskAt;
    for (let i = 0; i < n; i++) buffer[i] = input[this.#start + i]! ^ mask[at++ & 3]!;
    this.#maskAt = at & 3;
    this.#start += n;
    this.#left -= n;
    return n;
  }

  /** Reads more bytes from the socket; false at its end. */
  async #fill(): Promise<boolean> {
    if (this.#start === this.#end) this.#start = this.#end = 0;
    else if (this.#end === this.#in.length) {
      this.#in.copyWithin(0, this.#start, this.#end);
      this.#end -= this.#start;
      this.#start = 0;
    }
    const n = await this.#conn.read(this.#in.subarray(this.#end));
    if (n === null) return false;
    this.#end += n;
    return true;
  }

  /** `n` bytes at the read position, reading until they are there; throws at the end. */
  async #need(n: number): Promise<number> {
    while (this.#end - this.#start < n) {
      if (!await this.#fill()) throw new WsClose(1006, "The peer left in the middle of a frame");
    }
    const at = this.#start;
    this.#start += n;
    return at;
  }

  /** Reads one frame header; acts on control frames; sets up a data frame's payload. */
  async #frameHead(): Promise<void> {
    if (this.#start === this.#end && !await this.#fill()) {
      this.#ended = true;
      return;
    }
    let at = await this.#need(2);
    const b0 = this.#in[at]!;
    const b1 = this.#in[at + 1]!;
    const opcode = b0 & 0x0f;
    if ((b0 & 0x70) !== 0) throw new WsClose(1002, "No extension was agreed (RSV bits set)");
    if ((b1 & 0x80) === 0) throw new WsClose(1002, "A client's frames must be masked");
    let length = b1 & 0x7f;
    if (length === 126) {
      at = await this.#need(2);
      length = (this.#in[at]! << 8) | this.#in[at + 1]!;
    } else if (length === 127) {
      at = await this.#need(8);
      const view = new DataView(this.#in.buffer, this.#in.byteOffset + at, 8);
      length = view.getUint32(0) * 2 ** 32 + view.getUint32(4);
    }
    at = await this.#need(4);
    this.#mask.set(this.#in.subarray(at, at + 4));
    this.#maskAt = 0;
    if (opcode === OP_BINARY || opcode === OP_CONTINUATION) {
      this.#left = length;
      return;
    }
    if (opcode === OP_TEXT) throw new WsClose(1003, "es speaks binary frames only");
    if (opcode !== OP_CLOSE && opcode !== OP_PING && opcode !== OP_PONG) {
      throw new WsClose(1002, `Unknown opcode ${opcode}`);
    }
    if ((b0 & 0x80) === 0 || length > MAX_CONTROL_BYTES) {
      throw new WsClose(1002, "A control frame must be whole and at most 125 bytes");
    }
    at = await this.#need(length);
    const payload = this.#in.slice(at, at + length);
    for (let i = 0; i < length; i++) payload[i]! ^= this.#mask[i & 3]!;
    if (opcode === OP_PING) await this.#send(OP_PONG, payload);
    else if (opcode === OP_CLOSE) this.#closeWith(1000, ""); // the stream is over
  }

  write(bytes: Uint8Array): Promise<number> {
    return this.#send(OP_BINARY, bytes).then(() => bytes.length);
  }

  /** Sends one whole frame (unmasked, as a server's are); frames never interleave. */
  #send(opcode: number, payload: Uint8Array): Promise<void> {
    const n = payload.length;
    const head = n < 126 ? 2 : n < 65536 ? 4 : 10;
    const frame = new Uint8Array(head + n);
    frame[0] = 0x80 | opcode;
    if (n < 126) frame[1] = n;
    else if (n < 65536) {
      frame[1] = 126;
      frame[2] = n >> 8;
      frame[3] = n & 0xff;
    } else {
      frame[1] = 127;
      new DataView(frame.buffer).setUint32(6, n);
    }
    frame.set(payload, head);
    const sent = this.#writing.then((opened) => {
      if (opened === false) throw new Error("The WebSocket upgrade failed");
      return writeAllConn(this.#conn, frame);
    });
    this.#writing = sent.catch(() => {});
    return sent;
  }

  /** Says goodbye with `code` (a close frame, briefly), then closes the socket. */
  #closeWith(code: number, reason: string): void {
    if (this.#closing) return;
    this.#closing = true;
    this.#ended = true;
    this.#opened.resolve(false); // closed before it opened: nothing to say
    if (code === 1006) return this.#drop();
    const body = new Uint8Array(2 + Math.min(reason.length, 120));
    body[0] = code >> 8;
    body[1] = code & 0xff;
    new TextEncoder().encodeInto(reason.slice(0, 120), body.subarray(2));
    // A peer that reads nothing must not keep the socket open: the goodbye gets a moment.
    const timer = setTimeout(() => this.#drop(), CLOSE_WRITE_MS);
    void this.#send(OP_CLOSE, body).catch(() => {}).finally(() => {
      clearTimeout(timer);
      this.#drop();
    });
  }

  #drop(): void {
    try {
      this.#conn.close();
    } catch {
      // Already closed.
    }
    this.#closed.resolve();
  }

  close(): void {
    this.#closeWith(1000, "");
  }

  closed(): Promise<void> {
    return this.#closed.promise;
  }
}

async function writeAllConn(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  let written = 0;
  while (written < bytes.length) written += await conn.write(bytes.subarray(written));
}
