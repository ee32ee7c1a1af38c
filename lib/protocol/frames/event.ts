/**
 * EVENT, one event for one connection:
 * `u16 sidCount, u32 sid*, f64 time, u8 codec, u16 subjectLength, subject, payload`.
 *
 * The part after the subscription ids (the event body) is the same for every
 * subscriber: the server encodes it once per subject of a publish and writes
 * `length, type, ids, body` into each subscriber's queue.
 */

import { ErrorCode, FrameType, LENGTH_PREFIX_BYTES } from "../constants.ts";
import { FrameError } from "../../errors.ts";
import type { CachedSubject, SubjectCache } from "../subject_cache.ts";
import { BodyReader, utf8 } from "./_body.ts";

/** Bytes of an event body before the subject: time, codec, subject length. */
const BODY_HEAD_BYTES = 11;

/**
 * A reusable buffer for event bodies: the server's router encodes into it,
 * copies the result into queues, and encodes the next one over it.
 */
export class EventBodyWriter {
  #buffer = new Uint8Array(4096);
  #view = new DataView(this.#buffer.buffer);

  /**
   * Encodes `time, codec, subject, payload`.
   *
   * @returns A view of this writer's buffer, valid until the next call.
   */
  write(time: number, codec: number, subject: Uint8Array, payload: Uint8Array): Uint8Array {
    const size = BODY_HEAD_BYTES + subject.length + payload.length;
    const length = this.#buffer.length;
    // Grown for a large event; given back at the next small one, so an idle router stays small.
    if (size > length || (length > 64 * 1024 && size <= 4096)) {
      this.#buffer = new Uint8Array(size > length ? Math.max(size, length * 2) : 4096);
      this.#view = new DataView(this.#buffer.buffer);
    }
    const b = this.#buffer;
    this.#view.setFloat64(0, time);
    b[8] = codec;
    this.#view.setUint16(9, subject.length);
    b.set(subject, BODY_HEAD_BYTES);
    b.set(payload, BODY_HEAD_BYTES + subject.length);
    return b.subarray(0, size);
  }
}

/** The subscription ids part of an EVENT for one connection: `u16 count, u32 sid*`. */
export function encodeSids(sids: readonly number[]): Uint8Array {
  if (sids.length > 0xffff) {
    throw new RangeError(`Too many subscription ids for one event: ${sids.length}`);
  }
  const bytes = new Uint8Array(2 + 4 * sids.length);
  const view = new DataView(bytes.buffer);
  view.setUint16(0, sids.length);
  for (let i = 0; i < sids.length; i++) view.setUint32(2 + 4 * i, sids[i]!);
  return bytes;
}

/** Bytes of the whole EVENT frame made of `sids` (from `encodeSids()`) and `body`. */
export function eventFrameBytes(sids: Uint8Array, body: Uint8Array): number {
  return LENGTH_PREFIX_BYTES + 1 + sids.length + body.length;
}

/**
 * Writes the EVENT frame `sids` + `body` at `at` of `buffer` (room for
 * `eventFrameBytes()` needed); returns the offset after it.
 */
export function writeEventFrame(
  buffer: Uint8Array,
  at: number,
  sids: Uint8Array,
  body: Uint8Array,
): number {
  const length = 1 + sids.length + body.length;
  buffer[at] = length >>> 24;
  buffer[at + 1] = (length >>> 16) & 0xff;
  buffer[at + 2] = (length >>> 8) & 0xff;
  buffer[at + 3] = length & 0xff;
  buffer[at + 4] = FrameType.EVENT;
  buffer.set(sids, at + 5);
  buffer.set(body, at + 5 + sids.length);
  return at + 5 + sids.length + body.length;
}

/** A whole EVENT frame of its own (tests, raw peers). */
export function encodeEvent(
  sids: readonly number[],
  time: number,
  codec: number,
  subject: string,
  payload: Uint8Array,
): Uint8Array {
  const head = encodeSids(sids);
  const body = new EventBodyWriter().write(time, codec, utf8(subject), payload);
  const frame = new Uint8Array(eventFrameBytes(head, body));
  writeEventFrame(frame, 0, head, body);
  return frame;
}

/** The subject of an event body (see `EventBodyWriter`), through `cache`. */
export function eventBodySubject(body: Uint8Array, cache: SubjectCache): CachedSubject {
  if (body.length < BODY_HEAD_BYTES) {
    throw new FrameError(ErrorCode.PROTOCOL, "Truncated event body");
  }
  const end = BODY_HEAD_BYTES + ((body[9]! << 8) | body[10]!);
  if (end > body.length) throw new FrameError(ErrorCode.PROTOCOL, "Truncated event body");
  return cache.lookup(body, BODY_HEAD_BYTES, end);
}

/** Scratch for reading an event's f64 time (big-endian on the wire) in the machine's order. */
const TIME = new Float64Array(1);
const TIME_BYTES = new Uint8Array(TIME.buffer);
const TIME_FLIP = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1 ? 7 : 0;

/** An EVENT as a client reads it; one object reused for every frame of a connection. */
export interface EventFrame {
  /** The subscription ids it is for; the array is reused. */
  sids: number[];
  time: number;
  codec: number;
  subject: string;
  /** A view of the frame body: decode or copy it before the next read. */
  payload: Uint8Array;
}

/** A fresh `EventFrame` to pass to `decodeEvent()`. */
export function newEventFrame(): EventFrame {
  return { sids: [], time: 0, codec: 0, subject: "", payload: new Uint8Array(0) };
}

/**
 * Reads an EVENT body into `out`, the subject through `cache`.
 *
 * @throws {FrameError} when it is truncated or its subject is not UTF-8.
 */
export function decodeEvent(body: Uint8Array, cache: SubjectCache, out: EventFrame): void {
  const n = body.length;
  if (n >= 2) {
    const count = (body[0]! << 8) | body[1]!;
    const head = 2 + 4 * count;
    if (n >= head + BODY_HEAD_BYTES) {
      const subjectEnd = head + BODY_HEAD_BYTES + ((body[head + 9]! << 8) | body[head + 10]!);
      if (subjectEnd <= n) {
        const sids = out.sids;
        sids.length = count;
        for (let i = 0, at = 2; i < count; i++, at += 4) {
          sids[i] = ((body[at]! << 24) >>> 0) + (body[at + 1]! << 16) + (body[at + 2]! << 8) +
            body[at + 3]!;
        }
        // The time read byte by byte into a scratch double: no DataView per event.
        for (let i = 0; i < 8; i++) TIME_BYTES[i ^ TIME_FLIP] = body[head + i]!;
        out.time = TIME[0]!;
        out.codec = body[head + 8]!;
        out.subject = cache.lookup(body, head + BODY_HEAD_BYTES, subjectEnd).subject;
        out.payload = body.subarray(subjectEnd);
        return;
      }
    }
  }
  // Something is short: the checked reader says what.
  const r = new BodyReader(body, "EVENT");
  const count = r.u16();
  for (let i = 0; i < count; i++) r.u32();
  r.f64();
  r.u8();
  r.shortString();
  throw new FrameError(ErrorCode.PROTOCOL, "Malformed EVENT frame");
}
