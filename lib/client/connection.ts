/**
 * One client connection: handshake, batched writes, request/reply by id, and
 * a read loop that hands events to its owner and waits when the owner is full.
 */

import { clientProof, makeNonce, verifyServerProof } from "../protocol/auth.ts";
import {
  CodecTag,
  ErrorCode,
  FrameType,
  MAX_SUBJECTS_PER_FRAME,
  PROTOCOL_VERSION,
} from "../protocol/constants.ts";
import {
  decodeBye,
  decodeErr,
  decodeEvent,
  decodeHello,
  decodeReady,
  decodeRequest,
  encodeConnect,
  encodeListRequest,
  encodePub,
  encodeRequest,
  PING_FRAME,
  PONG_FRAME,
  utf8,
  type WireEvent,
} from "../protocol/frames.ts";
import { FrameParser, type RawFrame } from "../protocol/parser.ts";
import { FrameError } from "../protocol/errors.ts";
import { checkSubject, toList } from "../protocol/subjects.ts";
import { closeQuietly, type Transport, writeAll } from "../protocol/transport.ts";
import { encodeMessage, encodeMessageShared } from "../protocol/codec.ts";
import { OutBuffer, pubFrameBytes } from "./out_buffer.ts";
import { AuthenticationError, ConnectionClosedError, EsError, ProtocolError } from "./errors.ts";
import { parseEndpoint } from "./options.ts";
import { openTransport } from "./transport.ts";
import { VERSION } from "../version.ts";
import { startHeartbeat } from "./heartbeat.ts";

/** Bytes waiting to be written past which `publish()` waits. */
const HIGH_WATER_BYTES = 1024 * 1024;
const READ_BYTES = 64 * 1024;
/** Subjects whose UTF-8 encoding is remembered. */
const SUBJECT_CACHE_LIMIT = 1024;
/** Longest subject the client lets through; the server has its own limit. */
const MAX_SUBJECT_BYTES = 1024;

/** What to do with an event: return a promise to make the read loop wait. */
export type EventSink = (event: WireEvent) => Promise<unknown> | undefined;

/** Options of `ClientConnection.open()`. */
export interface ConnectionOptions {
  ident?: string | undefined;
  clientName?: string;
  connectTimeoutMs?: number | undefined;
  caCerts?: string[];
}

interface PendingRequest {
  resolve: (body: Uint8Array) => void;
  reject: (error: Error) => void;
}

/** A connection to an event server or name server. */
export class ClientConnection {
  readonly uri: string;
  /** The server's limit on frame size, from its HELLO. */
  maxFrameBytes = 1024 * 1024;
  heartbeatMs = 30_000;
  /** Called with every event; set by the owner. */
  onEvent: EventSink = () => undefined;
  /** Called with errors no request is waiting for (a refused publish, a dropped connection). */
  onError: (error: Error) => void = () => {};

  #transport: Transport;
  #pending = new Map<number, PendingRequest>();
  #nextRequestId = 1;
  #out = new OutBuffer();
  #writing = false;
  #drainWaiters: (() => void)[] = [];
  #idle: PromiseWithResolvers<void> = Promise.withResolvers();
  #closedError: Error | undefined;
  #closed: PromiseWithResolvers<Error | undefined> = Promise.withResolvers();
  #subjectCache = new Map<string, Uint8Array>();
  #parser = new FrameParser();
  #lastReceived = Date.now();
  #readPaused = false;
  #stopHeartbeat: () => void = () => {};

  private constructor(transport: Transport, uri: string) {
    this.#transport = transport;
    this.uri = uri;
  }

  /**
   * Connects and completes the handshake.
   *
   * @throws {ConnectionClosedError} when the server cannot be reached.
   * @throws {AuthenticationError} when the passphrase is missing or wrong.
   */
  static async open(uri: string, options: ConnectionOptions = {}): Promise<ClientConnection> {
    const endpoint = parseEndpoint(uri, uri.toLowerCase().startsWith("ns") ? "ns" : "es");
    const timeoutMs = options.connectTimeoutMs ?? 10_000;
    const transport = await openTransport(endpoint, uri, {
      signal: AbortSignal.timeout(timeoutMs),
      ...(options.caCerts ? { caCerts: options.caCerts } : {}),
    });
    const connection = new ClientConnection(transport, uri);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      closeQuietly(transport);
    }, timeoutMs);
    try {
      await connection.#handshake(options);
    } catch (error) {
      closeQuietly(transport);
      // Closing the transport on time-out makes the handshake fail as if the server hung up.
      if (timedOut) {
        throw new ConnectionClosedError(
          `Cannot connect to ${uri}: no answer to the handshake within ${timeoutMs} ms`,
          { cause: error },
        );
      }
      // Bytes that do not even frame: whatever answered is not an es server.
      if (error instanceof FrameError) {
        throw new ProtocolError(`${uri} is not an es server: ${error.message}`, { cause: error });
      }
      throw error;
    } finally {
      clearTimeout(timer);
    }
    void connection.#readLoop();
    connection.#stopHeartbeat = startHeartbeat({
      lastReceived: () => connection.#lastReceived,
      paused: () => connection.#readPaused,
      ping: () => void connection.send(PING_FRAME),
      timedOut: (silentMs) =>
        connection.#end(
          new ConnectionClosedError(
            `Connection to ${uri} lost: no heartbeat from the server for ${silentMs} ms`,
            { code: ErrorCode.TIMEOUT },
          ),
        ),
    }, connection.heartbeatMs);
    return connection;
  }

  /** Resolves when the connection has ended, with the reason if it was not `close()`. */
  get closed(): Promise<Error | undefined> {
    return this.#closed.promise;
  }

  /** Why the connection ended, once it has. */
  get closedReason(): Error | undefined {
    return this.#closedError;
  }

  get isClosed(): boolean {
    return this.#closedError !== undefined;
  }

  // ---- Handshake: read HELLO, send CONNECT, read READY ----

  async #handshake(options: ConnectionOptions): Promise<void> {
    const buffer = new Uint8Array(4096);
    const frames: RawFrame[] = [];
    const next = async (): Promise<RawFrame> => {
      while (frames.length === 0) {
        let failure: Error | undefined;
        const n = await this.#transport.read(buffer).catch((e: Error) => (failure = e, null));
        if (n === null) {
          // A TLS failure (untrusted certificate, …) shows up here, on the first read.
          throw new ConnectionClosedError(
            `Cannot connect to ${this.uri}: ${
              failure?.message ?? "the server closed the connection during the handshake"
            }`,
            { cause: failure },
          );
        }
        for (const f of this.#parser.push(buffer.subarray(0, n))) {
          frames.push({ type: f.type, body: f.body.slice() });
        }
      }
      return frames.shift()!;
    };
    const helloFrame = await next();
    if (helloFrame.type === FrameType.BYE) {
      const { code, reason } = decodeBye(helloFrame.body);
      throw new ConnectionClosedError(`${this.uri} refused the connection: ${reason}`, { code });
    }
    if (helloFrame.type !== FrameType.HELLO) {
      throw new ProtocolError(
        `${this.uri} is not an es server (first frame 0x${helloFrame.type.toString(16)})`,
      );
    }
    const hello = decodeHello(helloFrame.body);
    this.maxFrameBytes = hello.maxFrameBytes;
    this.heartbeatMs = hello.heartbeatMs;
    const clientNonce = makeNonce();
    const ident = options.ident;
    const proof = hello.authRequired && ident !== undefined
      ? await clientProof(ident, hello.serverNonce, clientNonce)
      : new Uint8Array(0);
    await writeAll(
      this.#transport,
      encodeConnect({
        version: PROTOCOL_VERSION,
        clientNonce,
        proof,
        clientName: options.clientName ?? `es-client/${VERSION}`,
      }),
    );
    const reply = await next();
    if (reply.type === FrameType.ERR || reply.type === FrameType.BYE) {
      const err = reply.type === FrameType.ERR ? decodeErr(reply.body) : decodeBye(reply.body);
      const message = "message" in err ? err.message : err.reason;
      if (err.code === ErrorCode.AUTH) {
        throw new AuthenticationError(
          ident === undefined
            ? `${this.uri} requires a passphrase: set ident (or ES_IDENT)`
            : `${this.uri} refused the passphrase: ${message}`,
        );
      }
      throw new ProtocolError(`${this.uri} refused the connection: ${message}`, { code: err.code });
    }
    if (reply.type !== FrameType.READY) throw new ProtocolError(`Expected READY from ${this.uri}`);
    if (hello.authRequired && ident !== undefined) {
      const serverProof = decodeReady(reply.body);
      if (!await verifyServerProof(ident, clientNonce, hello.serverNonce, serverProof)) {
        throw new AuthenticationError(`${this.uri} could not prove it knows the passphrase`);
      }
    }
    // Frames that came with READY (events cannot yet, but keep the rule simple).
    for (const f of frames) this.#dispatch(f);
  }

  // ---- Writing ----

  /**
   * Queues a frame for writing. Writes go out at once when the connection is
   * idle; while a write is in flight, frames gather into the next one.
   *
   * @returns A promise when too much is waiting: wait for it before sending more.
   */
  send(frame: Uint8Array): Promise<void> | undefined {
    if (this.#closedError) throw this.#closedError;
    this.#out.push(frame);
    return this.#queued();
  }

  /** Starts the writer; a promise means "over the high-water mark, wait". */
  #queued(): Promise<void> | undefined {
    if (!this.#writing) void this.#drain();
    if (this.#out.size < HIGH_WATER_BYTES) return undefined;
    return new Promise((resolve) => this.#drainWaiters.push(resolve));
  }

  async #drain(): Promise<void> {
    this.#writing = true;
    this.#idle = Promise.withResolvers();
    try {
      while (this.#out.size > 0) {
        const bytes = this.#out.take();
        this.#releaseDrainWaiters();
        await writeAll(this.#transport, bytes);
        this.#out.recycle(bytes);
      }
    } catch (cause) {
      this.#end(
        new ConnectionClosedError(`Connection to ${this.uri} lost while writing`, { cause }),
      );
    } finally {
      this.#writing = false;
      this.#idle.resolve();
    }
  }

  #releaseDrainWaiters(): void {
    const waiters = this.#drainWaiters;
    this.#drainWaiters = [];
    for (const resolve of waiters) resolve();
  }

  /** Resolves once every queued frame is handed to the transport. */
  async written(): Promise<void> {
    while (this.#writing) await this.#idle.promise;
    if (this.#closedError) throw this.#closedError;
  }

  // ---- Publishing ----

  #subjectBytes(subject: string): Uint8Array {
    let bytes = this.#subjectCache.get(subject);
    if (bytes === undefined) {
      checkSubject(subject, MAX_SUBJECT_BYTES);
      bytes = utf8(subject);
      if (this.#subjectCache.size >= SUBJECT_CACHE_LIMIT) this.#subjectCache.clear();
      this.#subjectCache.set(subject, bytes);
    }
    return bytes;
  }

  #subjectList(subjects: string | readonly string[]): Uint8Array[] {
    const list = typeof subjects === "string"
      ? [this.#subjectBytes(subjects)]
      : toList(subjects).map((s) => this.#subjectBytes(s));
    if (list.length === 0) throw new TypeError("Cannot publish: no subject given");
    if (list.length > MAX_SUBJECTS_PER_FRAME) {
      throw new RangeError(
        `Cannot publish on ${list.length} subjects at once: a frame carries at most ${MAX_SUBJECTS_PER_FRAME}`,
      );
    }
    return list;
  }

  #checkFrameBytes(frameBytes: number): void {
    if (frameBytes - 4 > this.maxFrameBytes) {
      throw new RangeError(
        `Cannot publish: the message makes a frame of ${
          frameBytes - 4
        } bytes, over the server's limit of ${this.maxFrameBytes}`,
      );
    }
  }

  /**
   * Encodes and queues one publish, straight into the out buffer.
   *
   * @throws {TypeError} for a message the codec cannot carry, or bad subjects.
   * @throws {RangeError} for a frame over the server's limit.
   */
  publish(subjects: string | readonly string[], message: unknown): Promise<void> | undefined {
    const list = this.#subjectList(subjects);
    if (this.#closedError) throw this.#closedError;
    // Encoded into the encoder's own buffer, then copied once into the out buffer.
    const payload = encodeMessageShared(message);
    this.#checkFrameBytes(pubFrameBytes(list, payload));
    this.#out.pushPub(CodecTag.MSGPACK, list, payload);
    return this.#queued();
  }

  /**
   * Encodes one publish as a frame of its own, without sending it (to keep
   * while disconnected); checks as `publish()` does.
   *
   * @throws {TypeError} for a message the codec cannot carry, or bad subjects.
   * @throws {RangeError} for a frame over the server's limit.
   */
  encodePublish(subjects: string | readonly string[], message: unknown): Uint8Array {
    const frame = encodePub(CodecTag.MSGPACK, this.#subjectList(subjects), encodeMessage(message));
    this.#checkFrameBytes(frame.length);
    return frame;
  }

  // ---- Requests ----

  /** Sends a request frame built for a fresh id and waits for its OK body. */
  request(build: (requestId: number) => Uint8Array): Promise<Uint8Array> {
    if (this.#closedError) return Promise.reject(this.#closedError);
    const requestId = this.#nextRequestId++;
    if (this.#nextRequestId > 0xffff_fff0) this.#nextRequestId = 1;
    const frame = build(requestId);
    if (frame.length - 4 > this.maxFrameBytes) {
      return Promise.reject(
        new RangeError(
          `Request of ${
            frame.length - 4
          } bytes is over the server's limit of ${this.maxFrameBytes}`,
        ),
      );
    }
    const { promise, resolve, reject } = Promise.withResolvers<Uint8Array>();
    this.#pending.set(requestId, { resolve, reject });
    void this.send(frame);
    return promise;
  }

  /** A request whose body is a list of strings (SUB, SUBMATCH, UNSUB). */
  listRequest(type: FrameType, items: string[]): Promise<Uint8Array> {
    return this.request((id) => encodeListRequest(type, id, items));
  }

  /** A request with an opaque body (FLUSH, STATS, NS_*). */
  bodyRequest(type: FrameType, body?: Uint8Array): Promise<Uint8Array> {
    return this.request((id) => encodeRequest(type, id, body));
  }

  /** Resolves once the server has processed everything sent before it. */
  async flush(): Promise<void> {
    await this.bodyRequest(FrameType.FLUSH);
  }

  // ---- Reading ----

  async #readLoop(): Promise<void> {
    const buffer = new Uint8Array(READ_BYTES);
    try {
      while (!this.#closedError) {
        const n = await this.#transport.read(buffer);
        if (n === null) break;
        this.#lastReceived = Date.now();
        for (const frame of this.#parser.push(buffer.subarray(0, n))) {
          const wait = this.#dispatch(frame);
          if (wait === undefined) continue;
          this.#readPaused = true;
          await wait;
          this.#readPaused = false;
        }
      }
      this.#end(new ConnectionClosedError(`Connection to ${this.uri} closed by the server`));
    } catch (cause) {
      this.#end(
        cause instanceof EsError ? cause : new ConnectionClosedError(
          `Connection to ${this.uri} lost: ${(cause as Error).message}`,
          { cause },
        ),
      );
    }
  }

  #dispatch(frame: RawFrame): Promise<unknown> | undefined {
    switch (frame.type) {
      case FrameType.EVENT:
        return this.onEvent(decodeEvent(frame.body));
      case FrameType.OK: {
        const { requestId, body } = decodeRequest(frame.body, "OK");
        const pending = this.#pending.get(requestId);
        if (pending) {
          this.#pending.delete(requestId);
          pending.resolve(body.slice());
        }
        return;
      }
      case FrameType.ERR: {
        const err = decodeErr(frame.body);
        const error = new ProtocolError(err.message, { code: err.code });
        const pending = this.#pending.get(err.requestId);
        if (pending) {
          this.#pending.delete(err.requestId);
          pending.reject(error);
        } else {
          this.onError(error);
        }
        return;
      }
      case FrameType.PING:
        void this.send(PONG_FRAME);
        return;
      case FrameType.PONG:
        return;
      case FrameType.BYE: {
        const { code, reason } = decodeBye(frame.body);
        throw code === ErrorCode.AUTH
          ? new AuthenticationError(reason)
          : new ConnectionClosedError(`Connection to ${this.uri} closed by the server: ${reason}`, {
            code,
          });
      }
      default:
        return;
    }
  }

  // ---- Ending ----

  #end(error: Error, byUser = false): void {
    if (this.#closedError) return;
    this.#closedError = error;
    this.#stopHeartbeat();
    closeQuietly(this.#transport);
    for (const pending of this.#pending.values()) pending.reject(error);
    this.#pending.clear();
    this.#releaseDrainWaiters();
    this.#closed.resolve(byUser ? undefined : error);
    if (!byUser) this.onError(error);
  }

  /** Sends what is queued, then closes. Idempotent. */
  async close(): Promise<void> {
    if (this.#closedError) return;
    try {
      // A server that holds us back (block mode) must not hold close() for ever.
      const timeout = Promise.withResolvers<void>();
      const timer = setTimeout(timeout.resolve, 1000);
      await Promise.race([this.written(), timeout.promise]).finally(() => clearTimeout(timer));
    } catch {
      // Already lost: nothing left to send.
    }
    this.#end(new ConnectionClosedError(`Connection to ${this.uri} is closed`), true);
  }
}
