/**
 * An in-memory pair of connected transports, for tests of the server session
 * and the client without sockets. Each direction holds at most
 * `highWaterBytes` unread; a writer past it waits, as on a socket.
 */

import { WaitList } from "../async/wait_list.ts";
import type { Transport } from "./transport.ts";

/** One direction of the pair. */
class Pipe {
  chunks: Uint8Array[] = [];
  bytes = 0;
  ended = false;
  readable = new WaitList();
  writable = new WaitList();
}

class MemoryTransport implements Transport {
  readonly remote: string;
  #in: Pipe;
  #out: Pipe;
  #highWater: number;
  #closed = Promise.withResolvers<void>();
  #isClosed = false;
  #peer: MemoryTransport | undefined;

  constructor(input: Pipe, output: Pipe, highWater: number, remote: string) {
    this.#in = input;
    this.#out = output;
    this.#highWater = highWater;
    this.remote = remote;
  }

  connect(peer: MemoryTransport): void {
    this.#peer = peer;
  }

  async read(buffer: Uint8Array): Promise<number | null> {
    const pipe = this.#in;
    while (pipe.chunks.length === 0) {
      if (pipe.ended || this.#isClosed) return null;
      await pipe.readable.wait();
    }
    const chunk = pipe.chunks[0]!;
    const n = Math.min(chunk.length, buffer.length);
    buffer.set(chunk.subarray(0, n));
    if (n === chunk.length) pipe.chunks.shift();
    else pipe.chunks[0] = chunk.subarray(n);
    pipe.bytes -= n;
    pipe.writable.release();
    return n;
  }

  async write(bytes: Uint8Array): Promise<number> {
    const pipe = this.#out;
    while (!pipe.ended && pipe.bytes >= this.#highWater) await pipe.writable.wait();
    if (pipe.ended || this.#isClosed) throw new Error("Memory transport is closed");
    pipe.chunks.push(bytes.slice());
    pipe.bytes += bytes.length;
    pipe.readable.release();
    return bytes.length;
  }

  close(): void {
    if (this.#isClosed) return;
    this.#isClosed = true;
    for (const pipe of [this.#in, this.#out]) {
      pipe.ended = true;
      pipe.readable.release();
      pipe.writable.release();
    }
    this.#closed.resolve();
    this.#peer?.close();
  }

  closed(): Promise<void> {
    return this.#closed.promise;
  }
}

/**
 * Two transports, each reading what the other writes.
 *
 * @example
 * ```ts
 * const [client, server] = memoryPair();
 * await client.write(new Uint8Array([1, 2, 3]));
 * await server.read(new Uint8Array(3)); // 3
 * ```
 */
export function memoryPair(highWaterBytes = 64 * 1024): [Transport, Transport] {
  const ab = new Pipe();
  const ba = new Pipe();
  const a = new MemoryTransport(ba, ab, highWaterBytes, "memory:a");
  const b = new MemoryTransport(ab, ba, highWaterBytes, "memory:b");
  a.connect(b);
  b.connect(a);
  return [a, b];
}
