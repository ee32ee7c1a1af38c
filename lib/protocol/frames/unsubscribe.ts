/** UNSUB, removing subscriptions by id: `u32 requestId, u16 count, u32 sid*`. */

import { FrameType } from "../constants.ts";
import { allocate, BODY, BodyReader } from "./_body.ts";

/**
 * Encodes UNSUB.
 *
 * @throws {RangeError} for more than 65535 ids.
 */
export function encodeUnsubscribe(requestId: number, sids: readonly number[]): Uint8Array {
  if (sids.length > 0xffff) {
    throw new RangeError(`Too many subscription ids in one frame: ${sids.length}`);
  }
  const { frame, view } = allocate(FrameType.UNSUB, 6 + 4 * sids.length);
  view.setUint32(BODY, requestId);
  view.setUint16(BODY + 4, sids.length);
  for (let i = 0; i < sids.length; i++) view.setUint32(BODY + 6 + 4 * i, sids[i]!);
  return frame;
}

/**
 * Decodes an UNSUB body.
 *
 * @throws {FrameError} when it is truncated or malformed.
 */
export function decodeUnsubscribe(body: Uint8Array): { requestId: number; sids: number[] } {
  const r = new BodyReader(body, "UNSUB");
  const requestId = r.u32();
  const count = r.u16();
  const sids: number[] = new Array(count);
  for (let i = 0; i < count; i++) sids[i] = r.u32();
  r.end();
  return { requestId, sids };
}
