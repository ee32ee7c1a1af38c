/**
 * The container nodes pass events in: event bodies (see
 * lib/protocol/frames/event.ts), each preceded by its length (u32) and the
 * id of the connection that published it on the sending node (u32), in one
 * transferable buffer. Not a wire frame: it never leaves the process.
 */

/** Bytes of one outgoing batch buffer (a larger body gets a buffer of its own). */
const BATCH_BYTES = 64 * 1024;
/** Bytes before each body: its length and its publisher. */
const ENTRY_HEAD_BYTES = 8;
/** Buffers kept for reuse once the peer has sent them back. */
const POOL_BUFFERS = 16;

/** Gathers event bodies into one buffer. */
export class BatchWriter {
  #buffer: Uint8Array | undefined;
  #view: DataView | undefined;
  #at = 0;
  /** Bodies in the current buffer. */
  count = 0;
  /**
   * Buffers the peer gave back: reusing them keeps the memory of a busy link
   * constant (garbage transferred between threads is collected late).
   */
  #pool: ArrayBuffer[] = [];

  /** Whether `bytes` more fit in the current buffer. */
  fits(bytes: number): boolean {
    return this.#buffer !== undefined && this.#at + ENTRY_HEAD_BYTES + bytes <= this.#buffer.length;
  }

  /** Appends one body of `publisher`; the caller takes the buffer first when it does not fit. */
  add(body: Uint8Array, publisher: number): void {
    if (!this.fits(body.length)) {
      this.#buffer = this.#fresh(Math.max(BATCH_BYTES, ENTRY_HEAD_BYTES + body.length));
      this.#view = new DataView(this.#buffer.buffer);
      this.#at = 0;
    }
    this.#view!.setUint32(this.#at, body.length);
    this.#view!.setUint32(this.#at + 4, publisher);
    this.#buffer!.set(body, this.#at + ENTRY_HEAD_BYTES);
    this.#at += ENTRY_HEAD_BYTES + body.length;
    this.count++;
  }

  #fresh(bytes: number): Uint8Array {
    const pool = this.#pool;
    for (let i = 0; i < pool.length; i++) {
      if (pool[i]!.byteLength >= bytes) {
        const buffer = pool[i]!;
        pool[i] = pool[pool.length - 1]!;
        pool.pop();
        return new Uint8Array(buffer);
      }
    }
    return new Uint8Array(bytes);
  }

  /** Takes back a buffer the peer has read. */
  recycle(buffer: ArrayBuffer): void {
    if (this.#pool.length < POOL_BUFFERS) this.#pool.push(buffer);
  }

  /** Takes the buffer gathered so far (to transfer); undefined when empty. */
  take(): { buffer: ArrayBuffer; length: number; count: number } | undefined {
    if (this.#buffer === undefined || this.count === 0) return undefined;
    const taken = {
      buffer: this.#buffer.buffer as ArrayBuffer,
      length: this.#at,
      count: this.count,
    };
    this.#buffer = undefined;
    this.#view = undefined;
    this.#at = 0;
    this.count = 0;
    return taken;
  }
}

/** Reads the bodies of a batch in order. */
export class BatchReader {
  /** The whole transferred buffer (to give back once read). */
  readonly buffer: ArrayBuffer;
  #bytes: Uint8Array;
  #view: DataView;
  #at = 0;
  /** The publisher of the body `next()` returned last. */
  publisher = 0;

  constructor(buffer: ArrayBuffer, length: number) {
    this.buffer = buffer;
    this.#bytes = new Uint8Array(buffer, 0, length);
    this.#view = new DataView(buffer, 0, length);
  }

  /** The next body, or undefined at the end. */
  next(): Uint8Array | undefined {
    if (this.#at >= this.#bytes.length) return undefined;
    const length = this.#view.getUint32(this.#at);
    this.publisher = this.#view.getUint32(this.#at + 4);
    const start = this.#at + ENTRY_HEAD_BYTES;
    const body = this.#bytes.subarray(start, start + length);
    this.#at = start + length;
    return body;
  }
}
