/**
 * The client's outgoing bytes: frames are written straight into one growing
 * buffer (PUB frames encoded in place), taken whole for each socket write,
 * and two buffers alternate so the hot path allocates nothing per publish.
 * Browser compatible.
 */

import { pubFrameBytes, writePub } from "../protocol/frames/pub.ts";

const INITIAL_BYTES = 64 * 1024;
/** Buffers larger than this are not kept for reuse. */
const KEEP_BYTES = 4 * 1024 * 1024;

/** Outgoing bytes waiting for the socket. */
export class OutBuffer {
  #buf: Uint8Array = new Uint8Array(INITIAL_BYTES);
  #view: DataView = new DataView(this.#buf.buffer);
  #at = 0;
  #spare: Uint8Array | undefined;

  /** Bytes waiting. */
  get size(): number {
    return this.#at;
  }

  /** Makes room for `n` more bytes and returns where they go. */
  #reserve(n: number): number {
    const at = this.#at;
    if (at + n > this.#buf.length) {
      const bigger = new Uint8Array(Math.max(this.#buf.length * 2, at + n));
      bigger.set(this.#buf.subarray(0, at));
      this.#buf = bigger;
      this.#view = new DataView(bigger.buffer);
    }
    this.#at = at + n;
    return at;
  }

  /** Appends a whole frame. */
  push(frame: Uint8Array): void {
    const at = this.#reserve(frame.length);
    this.#buf.set(frame, at);
  }

  /** Appends a PUB frame, encoded in place; `head` goes just before the payload. */
  pushPub(
    codec: number,
    subjects: readonly Uint8Array[],
    payload: Uint8Array,
    head?: Uint8Array,
  ): void {
    const at = this.#reserve(pubFrameBytes(subjects, payload, head));
    writePub(this.#buf, this.#view, at, codec, subjects, payload, head);
  }

  /** Takes everything waiting, for one write; give it back with `recycle()` once written. */
  take(): Uint8Array {
    const bytes = this.#buf.subarray(0, this.#at);
    const next = this.#spare ?? new Uint8Array(INITIAL_BYTES);
    this.#spare = undefined;
    this.#buf = next;
    this.#view = new DataView(next.buffer);
    this.#at = 0;
    return bytes;
  }

  /** Returns a written buffer for reuse. */
  recycle(bytes: Uint8Array): void {
    if (bytes.buffer.byteLength <= KEEP_BYTES) this.#spare = new Uint8Array(bytes.buffer);
  }
}
