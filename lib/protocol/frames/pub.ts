/**
 * PUB, one message on one or more subjects:
 * `u8 codec, u16 count, (u16 length, subject)*, payload`.
 * The client writes it straight into its out buffer; the server reads it in
 * place, each distinct subject decoded once through its `SubjectCache`.
 */

import { ErrorCode, FrameType, LENGTH_PREFIX_BYTES } from "../constants.ts";
import { FrameError } from "../../errors.ts";
import type { CachedSubject, SubjectCache } from "../subject_cache.ts";
import { allocate, BODY, BodyReader, stringListBytes, writeStringList } from "./_body.ts";

/**
 * Size of a whole PUB frame, length prefix included, without checking counts
 * or lengths; `head` is written just before the payload (a codec header).
 */
export function pubFrameBytes(
  subjects: readonly Uint8Array[],
  payload: Uint8Array,
  head?: Uint8Array,
): number {
  let size = LENGTH_PREFIX_BYTES + 4 + payload.length + (head?.length ?? 0);
  for (let i = 0; i < subjects.length; i++) size += 2 + subjects[i]!.length;
  return size;
}

/**
 * Writes a whole PUB frame at `at` of `buffer` (which must have room for
 * `pubFrameBytes()`); returns the offset after it.
 *
 * @param subjects Subjects already encoded as UTF-8 (at most 65535, each under 64 KiB).
 */
export function writePub(
  buffer: Uint8Array,
  view: DataView,
  at: number,
  codec: number,
  subjects: readonly Uint8Array[],
  payload: Uint8Array,
  head?: Uint8Array,
): number {
  const size = pubFrameBytes(subjects, payload, head);
  view.setUint32(at, size - LENGTH_PREFIX_BYTES);
  buffer[at + 4] = FrameType.PUB;
  buffer[at + 5] = codec;
  view.setUint16(at + 6, subjects.length);
  let p = at + 8;
  for (let i = 0; i < subjects.length; i++) {
    const s = subjects[i]!;
    view.setUint16(p, s.length);
    copy(s, buffer, p + 2);
    p += 2 + s.length;
  }
  if (head !== undefined) {
    copy(head, buffer, p);
    p += head.length;
  }
  copy(payload, buffer, p);
  return p + payload.length;
}

/** `to.set(from, at)`, by hand for the short subjects and payloads the hot path mostly sees. */
function copy(from: Uint8Array, to: Uint8Array, at: number): void {
  const n = from.length;
  if (n > 64) {
    to.set(from, at);
    return;
  }
  for (let i = 0; i < n; i++) to[at + i] = from[i]!;
}

/**
 * Encodes a PUB frame of its own.
 *
 * @throws {RangeError} for more than 65535 subjects or one over 65535 bytes.
 */
export function encodePub(
  codec: number,
  subjects: readonly Uint8Array[],
  payload: Uint8Array,
): Uint8Array {
  const { frame, view } = allocate(
    FrameType.PUB,
    1 + stringListBytes(subjects, "subjects") + payload.length,
  );
  frame[BODY] = codec;
  frame.set(payload, writeStringList(frame, view, BODY + 1, subjects));
  return frame;
}

/** A PUB as the server reads it; one object reused for every frame of a connection. */
export interface PubFrame {
  codec: number;
  /** A view of the frame body: copy it before the next read. */
  payload: Uint8Array;
  /** The subjects, from the reader's cache; the array is reused. */
  subjects: CachedSubject[];
}

/** A fresh `PubFrame` to pass to `decodePub()`. */
export function newPubFrame(): PubFrame {
  return { codec: 0, payload: new Uint8Array(0), subjects: [] };
}

/**
 * Reads a PUB body into `out`, every subject through `cache`.
 *
 * @throws {FrameError} code BAD_SUBJECT for a subject of 0 or more than
 * `maxSubjectBytes` bytes, PROTOCOL for a frame that is truncated or names no
 * subject or invalid UTF-8.
 */
export function decodePub(
  body: Uint8Array,
  cache: SubjectCache,
  maxSubjectBytes: number,
  out: PubFrame,
): void {
  const subjects = out.subjects;
  // Fast path: one subject, the common case, read by fixed offsets.
  if (body.length >= 5 && body[1] === 0 && body[2] === 1) {
    const end = 5 + ((body[3]! << 8) | body[4]!);
    if (end > 5 && end - 5 <= maxSubjectBytes && end <= body.length) {
      out.codec = body[0]!;
      out.payload = body.subarray(end);
      subjects.length = 1;
      subjects[0] = cache.lookup(body, 5, end);
      return;
    }
  }
  const r = new BodyReader(body, "PUB");
  out.codec = r.u8();
  const count = r.u16();
  if (count === 0) throw new FrameError(ErrorCode.PROTOCOL, "Malformed PUB frame: no subject");
  subjects.length = count;
  for (let i = 0; i < count; i++) {
    const bytes = r.bytes(r.u16());
    if (bytes.length === 0 || bytes.length > maxSubjectBytes) {
      subjects.length = 0;
      throw new FrameError(
        ErrorCode.BAD_SUBJECT,
        `Publish refused: subject of ${bytes.length} bytes (must be 1 to ${maxSubjectBytes})`,
      );
    }
    subjects[i] = cache.lookup(bytes, 0, bytes.length);
  }
  out.payload = r.rest();
}
