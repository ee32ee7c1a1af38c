/**
 * An I/O-free frame parser: bytes in, whole frames out. It copies only the
 * frames that straddle two chunks; whole frames inside a chunk come out as
 * views of that chunk.
 */

import { DEFAULT_MAX_FRAME_BYTES, ErrorCode, LENGTH_PREFIX_BYTES } from "./constants.ts";
import { FrameError } from "../errors.ts";

/** One frame as read off the wire: its type byte and the body after it. */
export interface RawFrame {
  type: number;
  /** View of the body; valid until the next call to `push()`. */
  body: Uint8Array;
}

/** What the parser is waiting for. */
export type ParserState = "length" | "body";

/**
 * Splits a byte stream into frames `[u32 length][u8 type][body]`.
 *
 * @example
 * ```ts
 * const parser = new FrameParser();
 * for (const frame of parser.push(chunk)) handle(frame);
 * ```
 */
export class FrameParser {
  /** Largest length a frame may claim; the server raises it once the handshake is done. */
  maxFrameBytes: number;
  #state: ParserState = "length";
  #lengthBytes = new Uint8Array(LENGTH_PREFIX_BYTES);
  #lengthFill = 0;
  #frameLength = 0;
  #partial: Uint8Array | null = null;
  #partialFill = 0;

  /** @param maxFrameBytes Largest length a frame may claim (type byte and body). */
  constructor(maxFrameBytes = DEFAULT_MAX_FRAME_BYTES) {
    this.maxFrameBytes = maxFrameBytes;
  }

  /** What the parser is waiting for now. */
  get state(): ParserState {
    return this.#state;
  }

  /**
   * Feeds bytes and yields every frame they complete.
   *
   * @throws {FrameError} for a zero length or a length over `maxFrameBytes`,
   * before any of that frame is buffered. The parser is unusable afterwards.
   */
  *push(chunk: Uint8Array): Generator<RawFrame> {
    let offset = 0;
    const end = chunk.length;
    while (offset < end) {
      if (this.#state === "length") {
        if (this.#lengthFill === 0 && end - offset >= LENGTH_PREFIX_BYTES) {
          this.#frameLength = readU32(chunk, offset);
          offset += LENGTH_PREFIX_BYTES;
        } else {
          this.#lengthBytes[this.#lengthFill++] = chunk[offset++]!;
          if (this.#lengthFill < LENGTH_PREFIX_BYTES) continue;
          this.#frameLength = readU32(this.#lengthBytes, 0);
          this.#lengthFill = 0;
        }
        this.#checkLength();
        this.#state = "body";
        // Fast path: the whole frame is inside this chunk.
        if (end - offset >= this.#frameLength) {
          const frameEnd = offset + this.#frameLength;
          this.#state = "length";
          yield { type: chunk[offset]!, body: chunk.subarray(offset + 1, frameEnd) };
          offset = frameEnd;
          continue;
        }
        this.#partial = new Uint8Array(this.#frameLength);
        this.#partialFill = 0;
      }
      // State "body": copy what this chunk holds of the straddling frame.
      const partial = this.#partial!;
      const take = Math.min(partial.length - this.#partialFill, end - offset);
      partial.set(chunk.subarray(offset, offset + take), this.#partialFill);
      this.#partialFill += take;
      offset += take;
      if (this.#partialFill === partial.length) {
        this.#partial = null;
        this.#state = "length";
        yield { type: partial[0]!, body: partial.subarray(1) };
      }
    }
  }

  #checkLength(): void {
    const length = this.#frameLength;
    if (length === 0) {
      throw new FrameError(ErrorCode.PROTOCOL, "Frame refused: zero length (parser state: length)");
    }
    if (length > this.maxFrameBytes) {
      throw new FrameError(
        ErrorCode.FRAME_TOO_LARGE,
        `Frame refused: length ${length} exceeds the limit of ${this.maxFrameBytes} bytes (parser state: length)`,
      );
    }
  }
}

function readU32(bytes: Uint8Array, offset: number): number {
  return ((bytes[offset]! << 24) >>> 0) + (bytes[offset + 1]! << 16) +
    (bytes[offset + 2]! << 8) + bytes[offset + 3]!;
}
