/**
 * Encoders and decoders for the bodies of protocol v1 frames. Every encoder
 * returns one whole frame, length prefix included, ready to be written.
 */

import { ErrorCode, FrameType, LENGTH_PREFIX_BYTES, NONCE_BYTES } from "./constants.ts";
import { FrameError } from "./errors.ts";
import { SubjectCache } from "./subject_cache.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

/** Encodes a string as UTF-8. */
export function utf8(text: string): Uint8Array {
  return encoder.encode(text);
}

/** Decodes UTF-8, throwing a `FrameError` for invalid bytes. */
export function fromUtf8(bytes: Uint8Array, what = "text"): string {
  try {
    return decoder.decode(bytes);
  } catch (cause) {
    throw new FrameError(ErrorCode.PROTOCOL, `Invalid UTF-8 in ${what}`, { cause });
  }
}

/** Allocates a frame of `bodyBytes` bytes after the type byte and writes its header. */
function allocate(type: FrameType, bodyBytes: number): { frame: Uint8Array; view: DataView } {
  const frame = new Uint8Array(LENGTH_PREFIX_BYTES + 1 + bodyBytes);
  const view = new DataView(frame.buffer);
  view.setUint32(0, 1 + bodyBytes);
  frame[LENGTH_PREFIX_BYTES] = type;
  return { frame, view };
}

/** Offset of the first body byte in a frame from `allocate`. */
const BODY = LENGTH_PREFIX_BYTES + 1;

/** A cursor over a frame body; every read checks the bounds. */
export class BodyReader {
  #bytes: Uint8Array;
  #view: DataView;
  #offset = 0;
  #what: string;

  constructor(body: Uint8Array, what: string) {
    this.#bytes = body;
    this.#view = new DataView(body.buffer, body.byteOffset, body.byteLength);
    this.#what = what;
  }

  #need(bytes: number): number {
    const at = this.#offset;
    if (at + bytes > this.#bytes.length) {
      throw new FrameError(
        ErrorCode.PROTOCOL,
        `Truncated ${this.#what} frame: needed ${bytes} bytes at offset ${at} of ${this.#bytes.length}`,
      );
    }
    this.#offset = at + bytes;
    return at;
  }

  u8(): number {
    return this.#view.getUint8(this.#need(1));
  }
  u16(): number {
    return this.#view.getUint16(this.#need(2));
  }
  u32(): number {
    return this.#view.getUint32(this.#need(4));
  }
  f64(): number {
    return this.#view.getFloat64(this.#need(8));
  }
  bytes(length: number): Uint8Array {
    const at = this.#need(length);
    return this.#bytes.subarray(at, at + length);
  }
  /** A u16-length-prefixed UTF-8 string. */
  shortString(): string {
    return fromUtf8(this.bytes(this.u16()), `${this.#what} frame`);
  }
  /** Everything not read yet. */
  rest(): Uint8Array {
    const at = this.#offset;
    this.#offset = this.#bytes.length;
    return this.#bytes.subarray(at);
  }
  restString(): string {
    return fromUtf8(this.rest(), `${this.#what} frame`);
  }
  /** A u16 count, then that many u16-length-prefixed strings. */
  stringList(): string[] {
    const count = this.u16();
    const list: string[] = new Array(count);
    for (let i = 0; i < count; i++) list[i] = this.shortString();
    return list;
  }
  /** Refuses bytes left over after the last field. */
  end(): void {
    if (this.#offset !== this.#bytes.length) {
      throw new FrameError(
        ErrorCode.PROTOCOL,
        `Malformed ${this.#what} frame: ${
          this.#bytes.length - this.#offset
        } unexpected trailing bytes`,
      );
    }
  }
}

// ---- Handshake ----

/** HELLO: the server's opening frame. */
export interface Hello {
  version: number;
  authRequired: boolean;
  serverNonce: Uint8Array;
  heartbeatMs: number;
  maxFrameBytes: number;
  serverName: string;
}

/** Encodes HELLO: the server's first frame. */
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

/** CONNECT: the client's answer to HELLO. */
export interface Connect {
  version: number;
  clientNonce: Uint8Array;
  /** HMAC proof of the passphrase; empty without one. */
  proof: Uint8Array;
  clientName: string;
}

/** Encodes CONNECT: the client's answer to HELLO. */
export function encodeConnect(connect: Connect): Uint8Array {
  const name = utf8(connect.clientName);
  const { frame, view } = allocate(
    FrameType.CONNECT,
    1 + NONCE_BYTES + 1 + connect.proof.length + name.length,
  );
  view.setUint8(BODY, connect.version);
  frame.set(connect.clientNonce, BODY + 1);
  view.setUint8(BODY + 1 + NONCE_BYTES, connect.proof.length);
  frame.set(connect.proof, BODY + 2 + NONCE_BYTES);
  frame.set(name, BODY + 2 + NONCE_BYTES + connect.proof.length);
  return frame;
}

/**
 * Decodes a CONNECT body.
 *
 * @throws {FrameError} when it is truncated or malformed.
 */
export function decodeConnect(body: Uint8Array): Connect {
  const r = new BodyReader(body, "CONNECT");
  const version = r.u8();
  const clientNonce = r.bytes(NONCE_BYTES).slice();
  const proof = r.bytes(r.u8()).slice();
  return { version, clientNonce, proof, clientName: r.restString() };
}

/** READY carries the server's proof (empty when no passphrase is set). */
export function encodeReady(serverProof: Uint8Array): Uint8Array {
  const { frame } = allocate(FrameType.READY, serverProof.length);
  frame.set(serverProof, BODY);
  return frame;
}

/** Decodes a READY body: the server's proof (empty without a passphrase), copied. */
export function decodeReady(body: Uint8Array): Uint8Array {
  return body.slice();
}

// ---- Publish and events (the hot path) ----

/**
 * Bytes of a string list: a u16 count, then each string with a u16 length.
 * Counts and lengths are checked, since past 65535 they would wrap silently
 * and the server would read a different frame.
 *
 * @param what The items, in the plural, for the error message.
 * @throws {RangeError} for more than 65535 items, or one over 65535 bytes.
 */
function stringListBytes(items: Uint8Array[], what: string): number {
  if (items.length > 0xffff) {
    throw new RangeError(
      `Too many ${what} in one frame: ${items.length}, the protocol allows at most 65535`,
    );
  }
  let size = 2;
  for (const item of items) {
    if (item.length > 0xffff) {
      throw new RangeError(
        `One of the ${what} is ${item.length} bytes long, over the protocol's limit of 65535`,
      );
    }
    size += 2 + item.length;
  }
  return size;
}

/** Writes a string list (see `stringListBytes()`) at `at`; returns the offset after it. */
function writeStringList(
  frame: Uint8Array,
  view: DataView,
  at: number,
  items: Uint8Array[],
): number {
  view.setUint16(at, items.length);
  at += 2;
  for (const item of items) {
    view.setUint16(at, item.length);
    frame.set(item, at + 2);
    at += 2 + item.length;
  }
  return at;
}

/**
 * PUB: `u8 codec, u16 count, (u16 length, subject)*, payload`.
 *
 * @param subjects Subjects already encoded as UTF-8.
 */
export function encodePub(codec: number, subjects: Uint8Array[], payload: Uint8Array): Uint8Array {
  const size = 1 + stringListBytes(subjects, "subjects") + payload.length;
  const { frame, view } = allocate(FrameType.PUB, size);
  frame[BODY] = codec;
  frame.set(payload, writeStringList(frame, view, BODY + 1, subjects));
  return frame;
}

/** A decoded PUB: subjects as raw UTF-8 views, so the server can copy them into events. */
export interface Pub {
  codec: number;
  subjects: Uint8Array[];
  payload: Uint8Array;
}

/**
 * Decodes a PUB body.
 *
 * @throws {FrameError} when it is truncated or names no subject.
 */
export function decodePub(body: Uint8Array): Pub {
  const r = new BodyReader(body, "PUB");
  const codec = r.u8();
  const count = r.u16();
  if (count === 0) throw new FrameError(ErrorCode.PROTOCOL, "Malformed PUB frame: no subject");
  const subjects: Uint8Array[] = new Array(count);
  for (let i = 0; i < count; i++) subjects[i] = r.bytes(r.u16());
  return { codec, subjects, payload: r.rest() };
}

/** EVENT: `f64 time, u8 codec, u16 length, subject, payload`. */
export function encodeEvent(
  time: number,
  codec: number,
  subject: Uint8Array,
  payload: Uint8Array,
): Uint8Array {
  // Events are carved out of shared slabs: one small view each instead of an
  // ArrayBuffer each, which is what costs on the hot path.
  const size = LENGTH_PREFIX_BYTES + 12 + subject.length + payload.length;
  let at = slabAt;
  if (at + size > slab.length) {
    slab = new Uint8Array(Math.max(SLAB_BYTES, size));
    slabView = new DataView(slab.buffer);
    at = 0;
  }
  slabAt = at + size;
  slabView.setUint32(at, size - LENGTH_PREFIX_BYTES);
  slab[at + 4] = FrameType.EVENT;
  slabView.setFloat64(at + 5, time);
  slab[at + 13] = codec;
  slabView.setUint16(at + 14, subject.length);
  slab.set(subject, at + 16);
  slab.set(payload, at + 16 + subject.length);
  return slab.subarray(at, at + size);
}

/** Size of the slabs EVENT frames are carved from. */
const SLAB_BYTES = 64 * 1024;
let slab = new Uint8Array(0);
let slabView = new DataView(slab.buffer);
let slabAt = 0;

/** A decoded EVENT with its payload still encoded. */
export interface WireEvent {
  time: number;
  codec: number;
  subject: string;
  payload: Uint8Array;
}

/**
 * Decodes an EVENT body; the payload stays encoded (a view of `body`).
 *
 * @throws {FrameError} when it is truncated or its subject is not UTF-8.
 */
export function decodeEvent(body: Uint8Array): WireEvent {
  // Hot path: fixed offsets, and each distinct subject decoded once.
  if (body.length < 11) return decodeEventChecked(body);
  const subjectEnd = 11 + ((body[9]! << 8) | body[10]!);
  if (subjectEnd > body.length) return decodeEventChecked(body);
  const view = new DataView(body.buffer, body.byteOffset, 8);
  return {
    time: view.getFloat64(0),
    codec: body[8]!,
    subject: eventSubjects.lookup(body, 11, subjectEnd).subject,
    payload: body.subarray(subjectEnd),
  };
}

const eventSubjects = new SubjectCache();

/** The bounds-checked decoder, which explains a malformed EVENT. */
function decodeEventChecked(body: Uint8Array): WireEvent {
  const r = new BodyReader(body, "EVENT");
  const time = r.f64();
  const codec = r.u8();
  const subject = r.shortString();
  return { time, codec, subject, payload: r.rest() };
}

// ---- Requests and replies ----

/** A request frame: `u32 request id`, then a list of strings (SUB, SUBMATCH, UNSUB). */
export function encodeListRequest(type: FrameType, requestId: number, items: string[]): Uint8Array {
  const encoded = items.map(utf8);
  const { frame, view } = allocate(type, 4 + stringListBytes(encoded, "subjects or patterns"));
  view.setUint32(BODY, requestId);
  writeStringList(frame, view, BODY + 4, encoded);
  return frame;
}

/**
 * Decodes a SUB, SUBMATCH or UNSUB body.
 *
 * @throws {FrameError} when it is truncated or malformed.
 */
export function decodeListRequest(
  body: Uint8Array,
  what: string,
): { requestId: number; items: string[] } {
  const r = new BodyReader(body, what);
  const requestId = r.u32();
  const items = r.stringList();
  r.end();
  return { requestId, items };
}

/** A request frame that is a request id and an opaque body (FLUSH, STATS, NS_*). */
export function encodeRequest(
  type: FrameType,
  requestId: number,
  body: Uint8Array = new Uint8Array(0),
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

/** OK: `u32 request id`, then an optional body. */
export function encodeOk(requestId: number, body: Uint8Array = new Uint8Array(0)): Uint8Array {
  return encodeRequest(FrameType.OK, requestId, body);
}

/** ERR: `u32 request id (0: the connection), u16 code, message`. */
export interface ErrFrame {
  requestId: number;
  code: number;
  message: string;
}

/** Encodes ERR: a refused request (request id 0 when no request is meant). */
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

/** BYE: `u16 code, reason`. */
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

/** A frame with no body (PING, PONG). */
export function encodeEmpty(type: FrameType): Uint8Array {
  return allocate(type, 0).frame;
}

/** PING and PONG never change, so they are made once. */
export const PING_FRAME: Uint8Array = encodeEmpty(FrameType.PING);
export const PONG_FRAME: Uint8Array = encodeEmpty(FrameType.PONG);
