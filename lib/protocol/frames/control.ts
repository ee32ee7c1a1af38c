/**
 * The small fixed frames: PING and PONG (no body), CREDIT (`u32 events,
 * u32 bytes`) and MISSED (`u32 count`).
 */

import { FrameType } from "../constants.ts";
import { allocate, BODY, BodyReader } from "./_body.ts";

/** PING, made once: it never changes. */
export const PING_FRAME: Uint8Array = allocate(FrameType.PING, 0).frame;
/** PONG, made once: it never changes. */
export const PONG_FRAME: Uint8Array = allocate(FrameType.PONG, 0).frame;

/** Encodes CREDIT: the client took this many events (and bytes of EVENT frames) off its buffer. */
export function encodeCredit(events: number, bytes: number): Uint8Array {
  const { frame, view } = allocate(FrameType.CREDIT, 8);
  view.setUint32(BODY, events);
  view.setUint32(BODY + 4, bytes);
  return frame;
}

/**
 * Decodes a CREDIT body.
 *
 * @throws {FrameError} when it is not 8 bytes.
 */
export function decodeCredit(body: Uint8Array): { events: number; bytes: number } {
  const r = new BodyReader(body, "CREDIT");
  const credit = { events: r.u32(), bytes: r.u32() };
  r.end();
  return credit;
}

/** Bytes of a MISSED frame. */
export const MISSED_FRAME_BYTES = BODY + 4;

/** Writes MISSED(`count`) at `at` of `buffer`; returns the offset after it. */
export function writeMissed(buffer: Uint8Array, at: number, count: number): number {
  const view = new DataView(buffer.buffer, buffer.byteOffset + at, MISSED_FRAME_BYTES);
  view.setUint32(0, 5);
  view.setUint8(4, FrameType.MISSED);
  view.setUint32(5, count);
  return at + MISSED_FRAME_BYTES;
}

/** The count of the MISSED frame at `at` of `buffer` (before `end`), or 0 when another frame is there. */
export function missedAt(buffer: Uint8Array, at: number, end: number): number {
  if (end - at < MISSED_FRAME_BYTES || buffer[at + 4] !== FrameType.MISSED) return 0;
  return new DataView(buffer.buffer, buffer.byteOffset + at + 5, 4).getUint32(0);
}

/** Encodes MISSED: this many events for the connection were dropped since the last one it got. */
export function encodeMissed(count: number): Uint8Array {
  const frame = new Uint8Array(MISSED_FRAME_BYTES);
  writeMissed(frame, 0, count);
  return frame;
}

/**
 * Decodes a MISSED body.
 *
 * @throws {FrameError} when it is not 4 bytes.
 */
export function decodeMissed(body: Uint8Array): number {
  const r = new BodyReader(body, "MISSED");
  const count = r.u32();
  r.end();
  return count;
}
