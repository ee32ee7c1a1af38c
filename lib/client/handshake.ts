/**
 * The client's half of the handshake: read HELLO, send CONNECT with a proof
 * of the passphrase and the flow-control window, read READY, and check that
 * the server proved it knows the passphrase too. A client that has a
 * passphrase refuses a server that does not prove it: no downgrade.
 * Browser compatible.
 */

import {
  AuthenticationError,
  ConnectionClosedError,
  FrameError,
  ProtocolError,
} from "../errors.ts";
import { clientProof, makeNonce, verifyServerProof } from "../protocol/auth.ts";
import {
  ErrorCode,
  FrameType,
  HANDSHAKE_MAX_FRAME_BYTES,
  OverflowCode,
  PROTOCOL_VERSION,
} from "../protocol/constants.ts";
import { decodeBye } from "../protocol/frames/bye.ts";
import { encodeConnect } from "../protocol/frames/connect.ts";
import { decodeErr } from "../protocol/frames/err.ts";
import { decodeHello, type Hello } from "../protocol/frames/hello.ts";
import { decodeReady } from "../protocol/frames/ready.ts";
import { FrameParser, type RawFrame } from "../protocol/parser.ts";
import { type Transport, writeAll } from "../transport/transport.ts";

/** Most bytes an EVENT adds to its PUB: 65535 subscription ids, time, codec, lengths. */
const EVENT_EXTRA_BYTES = 2 + 4 * 65535 + 16;

/** What the client asks for in CONNECT. */
export interface HandshakeOptions {
  /** The passphrase; undefined: none. An empty one is refused. */
  ident?: string | undefined;
  clientName: string;
  /** Events and bytes the server may send before credit is returned. */
  windowEvents: number;
  windowBytes: number;
  /** Size of this client's queue on the server; 0: the server's default. */
  queueSize: number;
  overflow: OverflowCode;
}

/** What the handshake leaves: the server's HELLO and frames that came after READY. */
export interface Handshaken {
  hello: Hello;
  /** Frames read together with READY (copied), to be handled before anything else. */
  early: RawFrame[];
  /** The parser, mid-stream, for the connection to read on with. */
  parser: FrameParser;
}

/**
 * Runs the handshake on a fresh transport.
 *
 * @param uri The server's URI, for error messages.
 * @throws {AuthenticationError} for an empty, missing or wrong passphrase, or
 * a server that cannot prove it knows ours.
 * @throws {ConnectionClosedError} when the server refuses or hangs up.
 * @throws {ProtocolError} when what answered is not an es server of this version.
 */
export async function handshake(
  transport: Transport,
  uri: string,
  options: HandshakeOptions,
): Promise<Handshaken> {
  const ident = options.ident;
  if (ident === "") {
    throw new AuthenticationError(
      `Cannot connect to ${uri}: the passphrase is empty (give a non-empty ident, or none)`,
    );
  }
  const parser = new FrameParser(HANDSHAKE_MAX_FRAME_BYTES);
  const buffer = new Uint8Array(4096);
  const frames: RawFrame[] = [];
  const next = async (): Promise<RawFrame> => {
    while (frames.length === 0) {
      let failure: Error | undefined;
      const n = await transport.read(buffer).catch((e: Error) => (failure = e, null));
      if (n === null) {
        // A TLS failure (untrusted certificate, …) shows up here, on the first read.
        throw new ConnectionClosedError(
          `Cannot connect to ${uri}: ${
            failure?.message ?? "the server closed the connection during the handshake"
          }`,
          { cause: failure },
        );
      }
      try {
        for (const f of parser.push(buffer.subarray(0, n))) {
          frames.push({ type: f.type, body: f.body.slice() });
        }
      } catch (error) {
        // Bytes that do not even frame: whatever answered is not an es server.
        if (error instanceof FrameError) {
          throw new ProtocolError(`${uri} is not an es server: ${error.message}`, { cause: error });
        }
        throw error;
      }
    }
    return frames.shift()!;
  };

  const first = await next();
  if (first.type === FrameType.BYE) {
    const { code, reason } = decodeBye(first.body);
    throw new ConnectionClosedError(`${uri} refused the connection: ${reason}`, { code });
  }
  if (first.type !== FrameType.HELLO) {
    throw new ProtocolError(
      `${uri} is not an es server (first frame 0x${first.type.toString(16)})`,
    );
  }
  const hello = decodeHello(first.body);
  if (hello.version !== PROTOCOL_VERSION) {
    throw new ProtocolError(
      `${uri} speaks protocol version ${hello.version}; this client speaks ${PROTOCOL_VERSION}`,
    );
  }
  if (ident !== undefined && !hello.authRequired) {
    throw new AuthenticationError(
      `${uri} does not ask for the passphrase, so it cannot prove it knows it: refusing a server that may not be the one you meant`,
    );
  }
  const clientNonce = makeNonce();
  const proof = ident !== undefined
    ? await clientProof(ident, hello.serverNonce, clientNonce)
    : new Uint8Array(0);
  await writeAll(
    transport,
    encodeConnect({
      version: PROTOCOL_VERSION,
      clientNonce,
      proof,
      windowEvents: options.windowEvents,
      windowBytes: options.windowBytes,
      queueSize: options.queueSize,
      overflow: options.overflow ?? OverflowCode.DEFAULT,
      clientName: options.clientName,
    }),
  );
  const reply = await next();
  if (reply.type === FrameType.ERR || reply.type === FrameType.BYE) {
    const { code, message } = reply.type === FrameType.ERR
      ? decodeErr(reply.body)
      : (({ code, reason }) => ({ code, message: reason }))(decodeBye(reply.body));
    if (code === ErrorCode.AUTH) {
      throw new AuthenticationError(
        ident === undefined
          ? `${uri} requires a passphrase: set ident (or ES_IDENT)`
          : `${uri} refused the passphrase: ${message}`,
      );
    }
    throw new ProtocolError(`${uri} refused the connection: ${message}`, { code });
  }
  if (reply.type !== FrameType.READY) throw new ProtocolError(`Expected READY from ${uri}`);
  if (ident !== undefined) {
    const serverProof = decodeReady(reply.body);
    if (!await verifyServerProof(ident, clientNonce, hello.serverNonce, serverProof)) {
      throw new AuthenticationError(`${uri} could not prove it knows the passphrase`);
    }
  }
  // An EVENT is longer than the PUB it comes from (subscription ids, time): room for those too.
  parser.maxFrameBytes = Math.max(hello.maxFrameBytes, HANDSHAKE_MAX_FRAME_BYTES) +
    EVENT_EXTRA_BYTES;
  return { hello, early: frames, parser };
}
