/** BYE, the server's last frame on a connection: `u16 code, reason`. */

import { FrameType } from "../constants.ts";
import { allocate, BODY, BodyReader, utf8 } from "./_body.ts";

/** Encodes BYE. */
export function encodeBye(code: number, reason: string): Uint8Array {
  const text = utf8(reason);
  const { frame, view } = allocate(FrameType.BYE, 2 + text.length);
  view.setUint16(BODY, code);
  frame.set(text, BODY + 2);
  return frame;
}

/**
 * Decodes a BYE body: why the server closes the connection.
 *
 * @throws {FrameError} when it is truncated or its reason is not UTF-8.
 */
export function decodeBye(body: Uint8Array): { code: number; reason: string } {
  const r = new BodyReader(body, "BYE");
  return { code: r.u16(), reason: r.restString() };
}
