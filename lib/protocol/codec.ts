/**
 * Message codecs: how a published value becomes payload bytes and back. The
 * broker never calls these; only clients do.
 */

import { Decoder, Encoder } from "@msgpack/msgpack";
import { CodecTag } from "./constants.ts";

// Binaries decode as views of the payload, not copies: the es clients read
// into buffers they never write again (lib/client/connection.ts), so a view
// stays valid, and a 64-byte copy costs more than everything else per event.
const msgpackEncoder = new Encoder();
const msgpackDecoder = new Decoder();

/** Returned by `decodeSimple()` for anything it leaves to the full decoder. */
const NOT_SIMPLE = Symbol("not simple");

/**
 * The commonest whole messages (small integers, nil, booleans, float 64 and
 * binaries) without the full decoder's per-call setup.
 */
function decodeSimple(p: Uint8Array): unknown {
  const n = p.length;
  if (n === 0) return NOT_SIMPLE;
  const head = p[0]!;
  if (n === 1) {
    if (head <= 0x7f) return head;
    if (head >= 0xe0) return head - 0x100;
    if (head === 0xc0) return null;
    if (head === 0xc2) return false;
    if (head === 0xc3) return true;
    return NOT_SIMPLE;
  }
  if (head === 0xc4 && p[1]! + 2 === n) return p.subarray(2);
  if (head === 0xc5 && n >= 3 && ((p[1]! << 8) | p[2]!) + 3 === n) return p.subarray(3);
  if (head === 0xcb && n === 9) {
    return new DataView(p.buffer, p.byteOffset + 1, 8).getFloat64(0);
  }
  return NOT_SIMPLE;
}

const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder();

/**
 * Encodes a message with MessagePack.
 *
 * @returns The payload bytes (a fresh copy, safe to keep).
 * @throws {TypeError} for values MessagePack cannot carry: functions,
 * symbols, cyclic structures, BigInts out of range.
 */
export function encodeMessage(message: unknown): Uint8Array {
  refuseUnencodable(message, new Set());
  try {
    return msgpackEncoder.encode(message);
  } catch (cause) {
    throw new TypeError(`Cannot encode message: ${(cause as Error).message}`, { cause });
  }
}

/**
 * Like `encodeMessage()`, but returns a view of the encoder's own buffer,
 * valid only until the next encode: copy it before encoding anything else.
 *
 * @throws {TypeError} for values the codec cannot carry.
 */
export function encodeMessageShared(message: unknown): Uint8Array {
  refuseUnencodable(message, new Set());
  try {
    return msgpackEncoder.encodeSharedRef(message);
  } catch (cause) {
    throw new TypeError(`Cannot encode message: ${(cause as Error).message}`, { cause });
  }
}

/**
 * The MessagePack header of a binary of `length` bytes (bin8, bin16 or bin32):
 * a publish of a `Uint8Array` writes it and the bytes, with no encoder in between.
 */
export function binaryHeader(length: number): Uint8Array {
  if (length < 0x100) return BIN8[length]!;
  if (length < 0x10000) return new Uint8Array([0xc5, length >>> 8, length & 0xff]);
  return new Uint8Array([
    0xc6,
    length >>> 24,
    (length >>> 16) & 0xff,
    (length >>> 8) & 0xff,
    length & 0xff,
  ]);
}

/** The bin8 headers, made once. */
const BIN8: Uint8Array[] = Array.from({ length: 0x100 }, (_, n) => new Uint8Array([0xc4, n]));

/**
 * Decodes a payload by its codec tag. Binaries come back as views of
 * `payload`: it must not be written afterwards.
 *
 * @throws {TypeError} for an unknown codec tag or bytes that do not decode.
 */
export function decodeMessage(codec: number, payload: Uint8Array): unknown {
  switch (codec) {
    case CodecTag.MSGPACK: {
      const simple = decodeSimple(payload);
      return simple === NOT_SIMPLE ? msgpackDecoder.decode(payload) : simple;
    }
    case CodecTag.RAW:
      return payload;
    case CodecTag.JSON:
      return JSON.parse(textDecoder.decode(payload));
    default:
      throw new TypeError(`Cannot decode message: unknown codec tag ${codec}`);
  }
}

/** Encodes a value as JSON text (codec tag JSON), for peers that speak no MessagePack. */
export function encodeJson(message: unknown): Uint8Array {
  return textEncoder.encode(JSON.stringify(message));
}

/**
 * MessagePack would turn a function into `nil` (or recurse until its depth
 * limit on a cycle); we want a clear `TypeError` instead, before any byte is
 * sent.
 */
function refuseUnencodable(value: unknown, path: Set<object>): void {
  switch (typeof value) {
    case "function":
      throw new TypeError("Cannot encode message: functions cannot be published");
    case "symbol":
      throw new TypeError("Cannot encode message: symbols cannot be published");
    case "object": {
      if (value === null || ArrayBuffer.isView(value) || value instanceof Date) return;
      if (path.has(value)) {
        throw new TypeError("Cannot encode message: it contains a cycle");
      }
      path.add(value);
      const items = Array.isArray(value) ? value : Object.values(value);
      for (const item of items) refuseUnencodable(item, path);
      if (value instanceof Map) {
        for (const [k, v] of value) {
          refuseUnencodable(k, path);
          refuseUnencodable(v, path);
        }
      }
      path.delete(value);
      return;
    }
    default:
      return;
  }
}
