/**
 * SUB and SUBMATCH, a subscription request:
 * `u32 requestId, u32 firstSid, u16 groupLength, group, u16 count, (u16 length, item)*`.
 * Item `i` becomes subscription id `firstSid + i`; an empty group means none.
 */

import type { FrameType } from "../constants.ts";
import { allocate, BODY, BodyReader, stringListBytes, utf8, writeStringList } from "./_body.ts";

/** A decoded SUB or SUBMATCH. */
export interface SubscribeRequest {
  requestId: number;
  /** The id of the first item; the others follow one by one. */
  firstSid: number;
  /** The queue group, or "" for none. */
  group: string;
  /** Subjects (SUB) or patterns (SUBMATCH). */
  items: string[];
}

/**
 * Encodes SUB or SUBMATCH.
 *
 * @throws {RangeError} for more than 65535 items, or an item or group over 65535 bytes.
 */
export function encodeSubscribe(
  type: typeof FrameType.SUB | typeof FrameType.SUBMATCH,
  request: SubscribeRequest,
): Uint8Array {
  const group = utf8(request.group);
  if (group.length > 0xffff) throw new RangeError("Queue group name over 65535 bytes");
  const items = request.items.map(utf8);
  const { frame, view } = allocate(
    type,
    10 + group.length + stringListBytes(items, "subjects or patterns"),
  );
  view.setUint32(BODY, request.requestId);
  view.setUint32(BODY + 4, request.firstSid);
  view.setUint16(BODY + 8, group.length);
  frame.set(group, BODY + 10);
  writeStringList(frame, view, BODY + 10 + group.length, items);
  return frame;
}

/**
 * Decodes a SUB or SUBMATCH body.
 *
 * @param what "SUB" or "SUBMATCH", for error messages.
 * @throws {FrameError} when it is truncated or malformed.
 */
export function decodeSubscribe(body: Uint8Array, what: string): SubscribeRequest {
  const r = new BodyReader(body, what);
  const requestId = r.u32();
  const firstSid = r.u32();
  const group = r.shortString();
  const items = r.stringList();
  r.end();
  return { requestId, firstSid, group, items };
}
