/** READY, the server's acceptance of CONNECT: its own proof of the passphrase (empty without one). */

import { FrameType } from "../constants.ts";
import { allocate, BODY } from "./_body.ts";

/** Encodes READY with the server's proof. */
export function encodeReady(serverProof: Uint8Array): Uint8Array {
  const { frame } = allocate(FrameType.READY, serverProof.length);
  frame.set(serverProof, BODY);
  return frame;
}

/** Decodes a READY body: the server's proof, copied. */
export function decodeReady(body: Uint8Array): Uint8Array {
  return body.slice();
}
