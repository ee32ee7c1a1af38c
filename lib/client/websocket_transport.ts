/**
 * The protocol over WebSocket, for browsers: each binary message carries
 * bytes of the same stream of frames that TCP carries.
 */

import type { Transport } from "../protocol/transport.ts";
import { ConnectionClosedError } from "./errors.ts";
import type { Endpoint } from "./options.ts";

/** Bytes the socket may hold unsent before `write()` waits: the back-pressure that TCP gives. */
const HIGH_WATER_BYTES = 1 << 20;

/** How often a waiting `write()` looks at the socket's buffer again. */
const DRAIN_POLL_MS = 5;

/**
 * Adapts a WebSocket (open or still connecting) to the `Transport` byte-stream
 * interface. Used by browser clients and by the server's `/ws` endpoint.
 */
export class WebSocketTransport implements Transport {
  #socket: WebSocket;
  #chunks: Uint8Array[] = [];
  #ended = false;
  #wake: (() => void) | undefined;
  #opened: Promise<void>;

  constructor(socket: WebSocket) {
    this.#socket = socket;
    socket.binaryType = "arraybuffer";
    this.#opened = socket.readyState === WebSocket.CONNECTING
      ? new Promise((resolve) => {
        socket.addEventListener("open", () => resolve(), { once: true });
        socket.addEventListener("close", () => resolve(), { once: true });
      })
      : Promise.resolve();
    socket.addEventListener("message", (e) => {
      if (e.data instanceof ArrayBuffer) this.#chunks.push(new Uint8Array(e.data));
      else this.#endWith(1003, "es speaks binary frames only");
      this.#wake?.();
    });
    const end = () => {
      this.#ended = true;
      this.#wake?.();
    };
    socket.addEventListener("close", end);
    socket.addEventListener("error", end);
  }

  #endWith(code: number, reason: string): void {
    this.#ended = true;
    this.#chunks = [];
    try {
      this.#socket.close(code, reason);
    } catch { /* already closing */ }
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
    this.#socket.close();
    this.#wake?.();
  }
}

/** Opens a WebSocket to the server's `/ws` endpoint. */
export function openWebSocket(
  endpoint: Endpoint,
  uri: string,
  signal?: AbortSignal,
): Promise<Transport> {
  const scheme = endpoint.tls ? "wss" : "ws";
  const host = endpoint.hostname.includes(":") ? `[${endpoint.hostname}]` : endpoint.hostname;
  const url = endpoint.scheme.startsWith("ws")
    ? uri.replace(/\/?$/, "/ws")
    : `${scheme}://${host}:${endpoint.port}/ws`;
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
