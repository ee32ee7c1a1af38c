/** ERR, a refused request: `u32 requestId (0: the connection), u16 code, message`. */

import { FrameType } from "../constants.ts";
import { allocate, BODY, BodyReader, utf8 } from "./_body.ts";

/** A decoded ERR. */
export interface ErrFrame {
  requestId: number;
  code: number;
  message: string;
}

/** Encodes ERR (request id 0 when no request is meant). */
export function encodeErr(err: ErrFrame): Uint8Array {
  const message = utf8(err.message);
  const { frame, view } = allocate(FrameType.ERR, 6 + message.length);
  view.setUint32(BODY, err.requestId);
  view.setUint16(BODY + 4, err.code);
  frame.set(message, BODY + 6);
  return frame;
}

/**
 * Decodes an ERR body.
 *
 * @throws {FrameError} when it is truncated or its message is not UTF-8.
 */
export function decodeErr(body: Uint8Array): ErrFrame {
  const r = new BodyReader(body, "ERR");
  return { requestId: r.u32(), code: r.u16(), message: r.restString() };
}
