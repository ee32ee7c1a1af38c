/**
 * The container nodes pass events in: event bodies (see
 * lib/protocol/frames/event.ts), each preceded by its length (u32), the id of
 * the connection that published it on the sending node (u32) and the queue
 * groups the receiving node picks a member of (u16 bytes, then each name as
 * u16 length and UTF-8; usually none), in one transferable buffer. Not a wire
 * frame: it never leaves the process.
 */

/** Bytes of one outgoing batch buffer (a larger body gets a buffer of its own). */
const BATCH_BYTES = 64 * 1024;
/** Bytes before each body: its length, its publisher, the bytes of its group names. */
const ENTRY_HEAD_BYTES = 10;

const encoder = new TextEncoder();
const decoder = new TextDecoder();
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

  /**
   * Appends one body of `publisher`, for the receiving node's plain
   * subscribers and a member of each of `groups`; the caller takes the buffer
   * first when it does not fit (`fits(entryBytes(…))`).
   */
  add(body: Uint8Array, publisher: number, groups?: readonly string[]): void {
    const groupBytes = groups === undefined ? 0 : namesBytes(groups);
    const size = groupBytes + body.length;
    if (!this.fits(size)) {
      this.#buffer = this.#fresh(Math.max(BATCH_BYTES, ENTRY_HEAD_BYTES + size));
      this.#view = new DataView(this.#buffer.buffer);
      this.#at = 0;
    }
    const view = this.#view!;
    const at = this.#at;
    view.setUint32(at, body.length);
    view.setUint32(at + 4, publisher);
    view.setUint16(at + 8, groupBytes);
    if (groupBytes > 0) writeNames(this.#buffer!, view, at + ENTRY_HEAD_BYTES, groups!);
    this.#buffer!.set(body, at + ENTRY_HEAD_BYTES + groupBytes);
    this.#at = at + ENTRY_HEAD_BYTES + size;
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
  /** The queue groups of the body `next()` returned last, or undefined for none. */
  groups: string[] | undefined;

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
    const groupBytes = this.#view.getUint16(this.#at + 8);
    this.groups = groupBytes === 0
      ? undefined
      : readNames(this.#bytes, this.#view, this.#at + ENTRY_HEAD_BYTES, groupBytes);
    const start = this.#at + ENTRY_HEAD_BYTES + groupBytes;
    const body = this.#bytes.subarray(start, start + length);
    this.#at = start + length;
    return body;
  }
}

/**
 * Bytes of group names in a batch entry (names are short: the server bounds them).
 *
 * @example
 * ```ts
 * namesBytes(["workers"]); // 9: a u16 length and 7 bytes of UTF-8
 * ```
 */
export function namesBytes(names: readonly string[]): number {
  let bytes = 0;
  for (const name of names) bytes += 2 + encoder.encode(name).length;
  return bytes;
}

function writeNames(
  buffer: Uint8Array,
  view: DataView,
  at: number,
  names: readonly string[],
): void {
  for (const name of names) {
    const { written } = encoder.encodeInto(name, buffer.subarray(at + 2));
    view.setUint16(at, written);
    at += 2 + written;
  }
}

function readNames(bytes: Uint8Array, view: DataView, at: number, length: number): string[] {
  const names: string[] = [];
  const end = at + length;
  while (at < end) {
    const size = view.getUint16(at);
    names.push(decoder.decode(bytes.subarray(at + 2, at + 2 + size)));
    at += 2 + size;
  }
  return names;
}
