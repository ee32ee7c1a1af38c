/**
 * What every frame module shares: allocating a frame with its header, a
 * bounds-checked reader over a body, UTF-8, and the string list layout
 * (`u16 count, (u16 length, bytes)*`) used by PUB and SUB.
 */

import { ErrorCode, type FrameType, LENGTH_PREFIX_BYTES } from "../constants.ts";
import { FrameError } from "../../errors.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

/** Offset of the first body byte in a frame from `allocate()`. */
export const BODY = LENGTH_PREFIX_BYTES + 1;

/** Encodes a string as UTF-8. */
export function utf8(text: string): Uint8Array {
  return encoder.encode(text);
}

/** Decodes UTF-8, throwing a `FrameError` for invalid bytes. */
export function fromUtf8(bytes: Uint8Array, what = "text"): string {
  try {
    return decoder.decode(bytes);
  } catch (cause) {
    throw new FrameError(ErrorCode.PROTOCOL, `Invalid UTF-8 in ${what}`, { cause });
  }
}

/** Allocates a frame of `bodyBytes` bytes after the type byte and writes its header. */
export function allocate(
  type: FrameType,
  bodyBytes: number,
): { frame: Uint8Array; view: DataView } {
  const frame = new Uint8Array(BODY + bodyBytes);
  const view = new DataView(frame.buffer);
  view.setUint32(0, 1 + bodyBytes);
  frame[LENGTH_PREFIX_BYTES] = type;
  return { frame, view };
}

/** A cursor over a frame body; every read checks the bounds. */
export class BodyReader {
  #bytes: Uint8Array;
  #view: DataView;
  #offset = 0;
  #what: string;

  /** @param what The frame's name, for error messages. */
  constructor(body: Uint8Array, what: string) {
    this.#bytes = body;
    this.#view = new DataView(body.buffer, body.byteOffset, body.byteLength);
    this.#what = what;
  }

  #need(bytes: number): number {
    const at = this.#offset;
    if (at + bytes > this.#bytes.length) {
      throw new FrameError(
        ErrorCode.PROTOCOL,
        `Truncated ${this.#what} frame: needed ${bytes} bytes at offset ${at} of ${this.#bytes.length}`,
      );
    }
    this.#offset = at + bytes;
    return at;
  }

  u8(): number {
    return this.#view.getUint8(this.#need(1));
  }
  u16(): number {
    return this.#view.getUint16(this.#need(2));
  }
  u32(): number {
    return this.#view.getUint32(this.#need(4));
  }
  f64(): number {
    return this.#view.getFloat64(this.#need(8));
  }
  bytes(length: number): Uint8Array {
    const at = this.#need(length);
    return this.#bytes.subarray(at, at + length);
  }
  /** A u16-length-prefixed UTF-8 string. */
  shortString(): string {
    return fromUtf8(this.bytes(this.u16()), `${this.#what} frame`);
  }
  /** Everything not read yet. */
  rest(): Uint8Array {
    const at = this.#offset;
    this.#offset = this.#bytes.length;
    return this.#bytes.subarray(at);
  }
  restString(): string {
    return fromUtf8(this.rest(), `${this.#what} frame`);
  }
  /** A u16 count, then that many u16-length-prefixed UTF-8 strings. */
  stringList(): string[] {
    const count = this.u16();
    const list: string[] = new Array(count);
    for (let i = 0; i < count; i++) list[i] = this.shortString();
    return list;
  }
  /** Refuses bytes left over after the last field. */
  end(): void {
    if (this.#offset !== this.#bytes.length) {
      throw new FrameError(
        ErrorCode.PROTOCOL,
        `Malformed ${this.#what} frame: ${
          this.#bytes.length - this.#offset
        } unexpected trailing bytes`,
      );
    }
  }
}

/**
 * Bytes of a string list. Counts and lengths are checked, since past 65535
 * they would wrap silently and the server would read a different frame.
 *
 * @param what The items, in the plural, for the error message.
 * @throws {RangeError} for more than 65535 items, or one over 65535 bytes.
 */
export function stringListBytes(items: readonly Uint8Array[], what: string): number {
  if (items.length > 0xffff) {
    throw new RangeError(
      `Too many ${what} in one frame: ${items.length}, the protocol allows at most 65535`,
    );
  }
  let size = 2;
  for (const item of items) {
    if (item.length > 0xffff) {
      throw new RangeError(
        `One of the ${what} is ${item.length} bytes long, over the protocol's limit of 65535`,
      );
    }
    size += 2 + item.length;
  }
  return size;
}

/** Writes a string list (see `stringListBytes()`) at `at`; returns the offset after it. */
export function writeStringList(
  frame: Uint8Array,
  view: DataView,
  at: number,
  items: readonly Uint8Array[],
): number {
  view.setUint16(at, items.length);
  at += 2;
  for (const item of items) {
    view.setUint16(at, item.length);
    frame.set(item, at + 2);
    at += 2 + item.length;
  }
  return at;
}
