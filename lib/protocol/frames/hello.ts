/** HELLO, the server's first frame: `u8 version, u8 flags, nonce[16], u32 heartbeatMs, u32 maxFrameBytes, serverName`. */

import { FrameType, NONCE_BYTES } from "../constants.ts";
import { allocate, BODY, BodyReader, utf8 } from "./_body.ts";

/** What HELLO tells the client. */
export interface Hello {
  version: number;
  /** The server wants a passphrase proof in CONNECT. */
  authRequired: boolean;
  serverNonce: Uint8Array;
  heartbeatMs: number;
  maxFrameBytes: number;
  serverName: string;
}

/** Encodes HELLO. */
export function encodeHello(hello: Hello): Uint8Array {
  const name = utf8(hello.serverName);
  const { frame, view } = allocate(FrameType.HELLO, 2 + NONCE_BYTES + 8 + name.length);
  view.setUint8(BODY, hello.version);
  view.setUint8(BODY + 1, hello.authRequired ? 1 : 0);
  frame.set(hello.serverNonce, BODY + 2);
  view.setUint32(BODY + 2 + NONCE_BYTES, hello.heartbeatMs);
  view.setUint32(BODY + 6 + NONCE_BYTES, hello.maxFrameBytes);
  frame.set(name, BODY + 10 + NONCE_BYTES);
  return frame;
}

/**
 * Decodes a HELLO body.
 *
 * @throws {FrameError} when it is truncated or malformed.
 */
export function decodeHello(body: Uint8Array): Hello {
  const r = new BodyReader(body, "HELLO");
  const version = r.u8();
  const authRequired = (r.u8() & 1) === 1;
  const serverNonce = r.bytes(NONCE_BYTES).slice();
  const heartbeatMs = r.u32();
  const maxFrameBytes = r.u32();
  return {
    version,
    authRequired,
    serverNonce,
    heartbeatMs,
    maxFrameBytes,
    serverName: r.restString(),
  };
}
