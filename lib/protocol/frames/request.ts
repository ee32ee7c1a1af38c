/**
 * The request layout, `u32 requestId, body`: FLUSH, STATS, EXPLAIN, the NS_*
 * frames, and OK, the reply that carries the same id back.
 */

import { FrameType } from "../constants.ts";
import { allocate, BODY, BodyReader } from "./_body.ts";

const EMPTY = new Uint8Array(0);

/** Encodes a request frame with an opaque body. */
export function encodeRequest(
  type: FrameType,
  requestId: number,
  body: Uint8Array = EMPTY,
): Uint8Array {
  const { frame, view } = allocate(type, 4 + body.length);
  view.setUint32(BODY, requestId);
  frame.set(body, BODY + 4);
  return frame;
}

/**
 * Decodes a request (or OK) body into its id and the rest (a view of `body`).
 *
 * @throws {FrameError} when it is shorter than a request id.
 */
export function decodeRequest(
  body: Uint8Array,
  what: string,
): { requestId: number; body: Uint8Array } {
  const r = new BodyReader(body, what);
  return { requestId: r.u32(), body: r.rest() };
}

/** The request id at the start of a request body, or 0 when it is too short to have one. */
export function requestIdOf(body: Uint8Array): number {
  return body.length >= 4
    ? ((body[0]! << 24) >>> 0) + (body[1]! << 16) + (body[2]! << 8) + body[3]!
    : 0;
}

/** OK: `u32 requestId`, then an optional body. */
export function encodeOk(requestId: number, body: Uint8Array = EMPTY): Uint8Array {
  return encodeRequest(FrameType.OK, requestId, body);
}
