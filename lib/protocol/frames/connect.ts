/**
 * CONNECT, the client's answer to HELLO: `u8 version, nonce[16], u8 proofLength,
 * proof, u32 windowEvents, u32 windowBytes, u32 queueSize, u8 overflow, clientName`.
 */

import { FrameType, NONCE_BYTES, type OverflowCode } from "../constants.ts";
import { allocate, BODY, BodyReader, utf8 } from "./_body.ts";

/** What CONNECT tells the server. */
export interface Connect {
  version: number;
  clientNonce: Uint8Array;
  /** HMAC proof of the passphrase; empty without one. */
  proof: Uint8Array;
  /** Events the server may send before the client returns credit (`UNLIMITED`: no flow control). */
  windowEvents: number;
  /** Bytes of EVENT frames the server may send before the client returns credit. */
  windowBytes: number;
  /** Size of this subscriber's queue on the server; 0 takes the server's default. */
  queueSize: number;
  /** What the queue does when full; `OverflowCode.DEFAULT` takes the server's default. */
  overflow: OverflowCode;
  clientName: string;
}

/** Encodes CONNECT. */
export function encodeConnect(connect: Connect): Uint8Array {
  const name = utf8(connect.clientName);
  const proofBytes = connect.proof.length;
  const { frame, view } = allocate(
    FrameType.CONNECT,
    1 + NONCE_BYTES + 1 + proofBytes + 13 + name.length,
  );
  let at = BODY;
  view.setUint8(at, connect.version);
  frame.set(connect.clientNonce, at + 1);
  at += 1 + NONCE_BYTES;
  view.setUint8(at, proofBytes);
  frame.set(connect.proof, at + 1);
  at += 1 + proofBytes;
  view.setUint32(at, connect.windowEvents);
  view.setUint32(at + 4, connect.windowBytes);
  view.setUint32(at + 8, connect.queueSize);
  view.setUint8(at + 12, connect.overflow);
  frame.set(name, at + 13);
  return frame;
}

/**
 * Decodes a CONNECT body. Only the version is read when it is not this
 * protocol's, so that an older client can be told what is wrong.
 *
 * @throws {FrameError} when it is truncated or malformed.
 */
export function decodeConnect(body: Uint8Array, expectedVersion: number): Connect {
  const r = new BodyReader(body, "CONNECT");
  const version = r.u8();
  const empty = new Uint8Array(0);
  if (version !== expectedVersion) {
    return {
      version,
      clientNonce: empty,
      proof: empty,
      windowEvents: 0,
      windowBytes: 0,
      queueSize: 0,
      overflow: 0,
      clientName: "",
    };
  }
  const clientNonce = r.bytes(NONCE_BYTES).slice();
  const proof = r.bytes(r.u8()).slice();
  const windowEvents = r.u32();
  const windowBytes = r.u32();
  const queueSize = r.u32();
  const overflow = r.u8() as OverflowCode;
  return {
    version,
    clientNonce,
    proof,
    windowEvents,
    windowBytes,
    queueSize,
    overflow,
    clientName: r.restString(),
  };
}
