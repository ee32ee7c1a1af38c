/**
 * The protocol over WebSocket: each binary message carries bytes of the same
 * stream of frames that TCP carries. Used by browser clients and by the
 * server's `/ws` endpoint. Browser compatible.
 */

import { ConnectionClosedError } from "../errors.ts";
import type { Transport } from "./transport.ts";

/** Bytes the socket may hold unsent before `write()` waits: the back-pressure TCP gives. */
const HIGH_WATER_BYTES = 1 << 20;

/**
 * How often a waiting `write()` looks at `bufferedAmount` again: WebSocket has
 * no event for "the send buffer drained", so this one wait has to poll.
 */
const DRAIN_POLL_MS = 5;

/** Options of `WebSocketTransport`. */
export interface WebSocketTransportOptions {
  /** Where the peer is, for logs. */
  remote?: string;
  /**
   * Most bytes received and not yet read. WebSocket cannot pause its sender,
   * so past this the transport closes (code 1009) instead of buffering more.
   * Default: no limit (a client trusts its server).
   */
  maxUnreadBytes?: number;
  /** The same until `authenticated()`: a stranger gets less. Default: `maxUnreadBytes`. */
  maxUnreadBytesBeforeAuth?: number;
}

/** A WebSocket (open or still connecting) as a `Transport`. */
export class WebSocketTransport implements Transport {
  readonly remote: string;
  #socket: WebSocket;
  #chunks: Uint8Array[] = [];
  #unread = 0;
  #maxUnread: number;
  #maxUnreadAfterAuth: number;
  #ended = false;
  #wake: (() => void) | undefined;
  #opened: Promise<void>;
  #closed = Promise.withResolvers<void>();

  constructor(socket: WebSocket, options: WebSocketTransportOptions = {}) {
    this.#socket = socket;
    this.remote = options.remote ?? socket.url;
    this.#maxUnreadAfterAuth = options.maxUnreadBytes ?? Infinity;
    this.#maxUnread = options.maxUnreadBytesBeforeAuth ?? this.#maxUnreadAfterAuth;
    socket.binaryType = "arraybuffer";
    this.#opened = socket.readyState === WebSocket.CONNECTING
      ? new Promise((resolve) => {
        socket.addEventListener("open", () => resolve(), { once: true });
        socket.addEventListener("close", () => resolve(), { once: true });
      })
      : Promise.resolve();
    socket.addEventListener("message", (e) => {
      if (this.#ended) return;
      if (!(e.data instanceof ArrayBuffer)) {
        this.#endWith(1003, "es speaks binary frames only");
      } else if (this.#unread + e.data.byteLength > this.#maxUnread) {
        this.#endWith(1009, "Too many bytes sent without waiting for the server");
      } else {
        this.#chunks.push(new Uint8Array(e.data));
        this.#unread += e.data.byteLength;
      }
      this.#wake?.();
    });
    const end = () => {
      this.#ended = true;
      this.#wake?.();
      this.#closed.resolve();
    };
    socket.addEventListener("close", end);
    socket.addEventListener("error", end);
  }

  #endWith(code: number, reason: string): void {
    this.#ended = true;
    this.#chunks = [];
    this.#unread = 0;
    try {
      this.#socket.close(code, reason);
    } catch { /* already closing */ }
    this.#closed.resolve();
  }

  authenticated(): void {
    this.#maxUnread = this.#maxUnreadAfterAuth;
  }

  async read(buffer: Uint8Array): Promise<number | null> {
    while (this.#chunks.length === 0) {
      if (this.#ended) return null;
      await new Promise<void>((resolve) => this.#wake = resolve);
      this.#wake = undefined;
    }
    const chunk = this.#chunks[0]!;
    const n = Math.min(chunk.length, buffer.length);
    buffer.set(chunk.subarray(0, n));
    if (n === chunk.length) this.#chunks.shift();
    else this.#chunks[0] = chunk.subarray(n);
    this.#unread -= n;
    return n;
  }

  async write(bytes: Uint8Array): Promise<number> {
    await this.#opened;
    while (this.#isOpen() && this.#socket.bufferedAmount > HIGH_WATER_BYTES) {
      await new Promise((resolve) => setTimeout(resolve, DRAIN_POLL_MS));
    }
    if (!this.#isOpen()) throw new ConnectionClosedError("WebSocket is closed");
    this.#socket.send(bytes.slice());
    return bytes.length;
  }

  #isOpen(): boolean {
    return !this.#ended && this.#socket.readyState === WebSocket.OPEN;
  }

  close(): void {
    this.#ended = true;
    try {
      this.#socket.close();
    } catch { /* already closed */ }
    this.#wake?.();
    this.#closed.resolve();
  }

  closed(): Promise<void> {
    return this.#closed.promise;
  }
}

/**
 * Opens a WebSocket to `url` (the server's `/ws` endpoint).
 *
 * @throws {ConnectionClosedError} when it cannot connect or `signal` aborts first.
 */
export function openWebSocket(url: string, signal?: AbortSignal): Promise<Transport> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url);
    const fail = () => {
      signal?.removeEventListener("abort", abort);
      reject(new ConnectionClosedError(`Cannot connect to ${url}`));
    };
    // The signal bounds connecting only: once open, aborting it must not close the socket.
    const abort = () => {
      socket.removeEventListener("error", fail);
      socket.close();
      reject(new ConnectionClosedError(`Connecting to ${url} was aborted`));
    };
    socket.addEventListener("open", () => {
      socket.removeEventListener("error", fail);
      signal?.removeEventListener("abort", abort);
      resolve(new WebSocketTransport(socket));
    }, { once: true });
    socket.addEventListener("error", fail, { once: true });
    signal?.addEventListener("abort", abort, { once: true });
  });
}
