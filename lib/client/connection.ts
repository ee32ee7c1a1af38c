/**
 * One client connection after its handshake: batched writes, request/reply by
 * id, and a read loop that never stops reading. Events go to the owner with
 * their subscription ids; the owner hands back credit as the application
 * takes them, so the server holds back what the client has no room for and
 * replies always get through. Browser compatible.
 */

import { ConnectionClosedError, EsError, ProtocolError } from "../errors.ts";
import {
  ErrorCode,
  FrameType,
  MAX_ITEMS_PER_FRAME,
  OverflowCode,
  UNLIMITED,
} from "../protocol/constants.ts";
import { decodeBye } from "../protocol/frames/bye.ts";
import { decodeMissed, encodeCredit, PING_FRAME, PONG_FRAME } from "../protocol/frames/control.ts";
import { decodeErr } from "../protocol/frames/err.ts";
import { decodeEvent, type EventFrame, newEventFrame } from "../protocol/frames/event.ts";
import { encodePub, pubFrameBytes } from "../protocol/frames/pub.ts";
import { decodeRequest, encodeRequest } from "../protocol/frames/request.ts";
import { encodeSubscribe } from "../protocol/frames/subscribe.ts";
import { encodeUnsubscribe } from "../protocol/frames/unsubscribe.ts";
import { utf8 } from "../protocol/frames/_body.ts";
import type { FrameParser, RawFrame } from "../protocol/parser.ts";
import { SubjectCache } from "../protocol/subject_cache.ts";
import { checkSubject, isReserved, toList } from "../protocol/subjects.ts";
import { type Transport, writeAll } from "../transport/transport.ts";
import { handshake } from "./handshake.ts";
import { startHeartbeat } from "./heartbeat.ts";
import { parseEndpoint } from "./options.ts";
import { OutBuffer } from "./out_buffer.ts";
import { openTransport } from "./transport.ts";
import { VERSION } from "../version.ts";

/** Bytes waiting to be written past which `publish()` waits. */
const HIGH_WATER_BYTES = 1024 * 1024;
const READ_BYTES = 64 * 1024;
/** Below this much room left, a read goes to a fresh buffer. */
const MIN_READ_ROOM = 4 * 1024;
/** Subjects whose UTF-8 encoding is remembered. */
const SUBJECT_CACHE_LIMIT = 1024;
/** Longest subject the client lets through; the server has its own limit. */
const MAX_SUBJECT_BYTES = 1024;
/** Default flow-control window: events and bytes the client buffers for its application. */
export const DEFAULT_WINDOW_EVENTS = 4096;
export const DEFAULT_WINDOW_BYTES = 4 * 1024 * 1024;

/** Options of `ClientConnection.open()`. */
export interface ConnectionOptions {
  ident?: string | undefined;
  clientName?: string;
  connectTimeoutMs?: number | undefined;
  caCerts?: string[];
  /** Events the client buffers before the server holds them back. Default 4096. */
  windowEvents?: number;
  /** Bytes the client buffers before the server holds them back. Default 4 MiB. */
  windowBytes?: number;
  /** Size of this client's queue on the server; 0 (default): the server's. */
  queueSize?: number;
  overflow?: OverflowCode;
}

interface PendingRequest {
  resolve: (body: Uint8Array) => void;
  reject: (error: Error) => void;
}

/** A connection to an event server or name server. */
export class ClientConnection {
  readonly uri: string;
  /** The server's limit on frame size, from its HELLO. */
  readonly maxFrameBytes: number;
  readonly heartbeatMs: number;
  /**
   * Called with every event (the frame is reused: read it now) and its cost
   * in bytes; the owner calls `consumed(cost)` once the application has it.
   */
  onEvent: (frame: EventFrame, cost: number) => void = (_, cost) => this.consumed(cost);
  /** Called when the server says events for this connection were dropped. */
  onMissed: (count: number) => void = () => {};
  /** Called with errors no request is waiting for (a refused publish, a dropped connection). */
  onError: (error: Error) => void = () => {};

  #transport: Transport;
  #parser: FrameParser;
  #pending = new Map<number, PendingRequest>();
  #nextRequestId = 1;
  #out = new OutBuffer();
  #writing = false;
  #drainWaiters: (() => void)[] = [];
  #idle: PromiseWithResolvers<void> = Promise.withResolvers();
  #closedError: Error | undefined;
  #closed: PromiseWithResolvers<Error | undefined> = Promise.withResolvers();
  #subjectBytes = new Map<string, Uint8Array>();
  #single = new Map<string, readonly Uint8Array[]>();
  #subjects = new SubjectCache(4096);
  #event = newEventFrame();
  #lastReceived = Date.now();
  #stopHeartbeat: () => void = () => {};
  #window: { events: number; bytes: number };
  #credit = { events: 0, bytes: 0 };

  private constructor(
    transport: Transport,
    uri: string,
    parser: FrameParser,
    hello: { maxFrameBytes: number; heartbeatMs: number },
    window: { events: number; bytes: number },
  ) {
    this.#transport = transport;
    this.uri = uri;
    this.#parser = parser;
    this.maxFrameBytes = hello.maxFrameBytes;
    this.heartbeatMs = hello.heartbeatMs;
    this.#window = window;
  }

  /**
   * Connects and completes the handshake.
   *
   * @throws {ConnectionClosedError} when the server cannot be reached or hangs up.
   * @throws {AuthenticationError} when the passphrase is missing, empty or wrong, or
   * the server cannot prove it knows it.
   * @throws {ProtocolError} when what answered is not an es server of this version.
   */
  static async open(uri: string, options: ConnectionOptions = {}): Promise<ClientConnection> {
    const endpoint = parseEndpoint(uri, uri.toLowerCase().startsWith("ns") ? "ns" : "es");
    const timeoutMs = options.connectTimeoutMs ?? 10_000;
    const transport = await openTransport(endpoint, uri, {
      signal: AbortSignal.timeout(timeoutMs),
      ...(options.caCerts ? { caCerts: options.caCerts } : {}),
    });
    const window = {
      events: options.windowEvents ?? DEFAULT_WINDOW_EVENTS,
      bytes: options.windowBytes ?? DEFAULT_WINDOW_BYTES,
    };
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      transport.close();
    }, timeoutMs);
    let connection: ClientConnection;
    try {
      const done = await handshake(transport, uri, {
        ident: options.ident,
        clientName: options.clientName ?? `es-client/${VERSION}`,
        windowEvents: window.events,
        windowBytes: window.bytes,
        queueSize: options.queueSize ?? 0,
        overflow: options.overflow ?? OverflowCode.DEFAULT,
      });
      connection = new ClientConnection(transport, uri, done.parser, done.hello, window);
      for (const frame of done.early) connection.#dispatch(frame);
    } catch (error) {
      transport.close();
      // Closing the transport on time-out makes the handshake fail as if the server hung up.
      if (timedOut) {
        throw new ConnectionClosedError(
          `Cannot connect to ${uri}: no answer to the handshake within ${timeoutMs} ms`,
          { cause: error },
        );
      }
      throw error;
    } finally {
      clearTimeout(timer);
    }
    void connection.#readLoop();
    connection.#stopHeartbeat = startHeartbeat({
      lastReceived: () => connection.#lastReceived,
      ping: () => void connection.#sendQuietly(PING_FRAME),
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

  // ---- Writing ----

  /**
   * Queues a frame for writing. Writes go out at once when the connection is
   * idle; while a write is in flight, frames gather into the next one.
   *
   * @returns A promise when too much is waiting: wait for it before sending more.
   * @throws {ConnectionClosedError} once the connection has ended.
   */
  send(frame: Uint8Array): Promise<void> | undefined {
    if (this.#closedError) throw this.#closedError;
    this.#out.push(frame);
    return this.#queued();
  }

  #sendQuietly(frame: Uint8Array): void {
    if (!this.#closedError) void this.send(frame);
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
    if (waiters.length === 0) return;
    this.#drainWaiters = [];
    for (const resolve of waiters) resolve();
  }

  /** Resolves once every queued frame is handed to the transport. */
  async written(): Promise<void> {
    while (this.#writing) await this.#idle.promise;
    if (this.#closedError) throw this.#closedError;
  }

  // ---- Publishing ----

  #subjectList(subjects: string | readonly string[]): readonly Uint8Array[] {
    // One subject, the common case: its list is cached with its bytes.
    if (typeof subjects === "string") {
      const known = this.#single.get(subjects);
      if (known !== undefined) return known;
      const list = [this.#subjectBytesOf(subjects)];
      if (this.#single.size >= SUBJECT_CACHE_LIMIT) this.#single.clear();
      this.#single.set(subjects, list);
      return list;
    }
    const list = toList(subjects);
    if (list.length === 0) throw new TypeError("Cannot publish: no subject given");
    if (list.length > MAX_ITEMS_PER_FRAME) {
      throw new RangeError(
        `Cannot publish on ${list.length} subjects at once: a frame carries at most ${MAX_ITEMS_PER_FRAME}`,
      );
    }
    return list.map((subject) => this.#subjectBytesOf(subject));
  }

  #subjectBytesOf(subject: string): Uint8Array {
    {
      let bytes = this.#subjectBytes.get(subject);
      if (bytes === undefined) {
        checkSubject(subject, MAX_SUBJECT_BYTES);
        if (isReserved(subject)) {
          throw new RangeError(
            `Cannot publish on ${
              JSON.stringify(subject)
            }: subjects beginning with "$es." are the server's`,
          );
        }
        bytes = utf8(subject);
        if (this.#subjectBytes.size >= SUBJECT_CACHE_LIMIT) this.#subjectBytes.clear();
        this.#subjectBytes.set(subject, bytes);
      }
      return bytes;
    }
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
   * Queues one publish of an encoded payload, written straight into the out
   * buffer (the payload may be the encoder's own buffer: it is copied now).
   *
   * @throws {TypeError} for bad subjects.
   * @throws {RangeError} for a frame over the server's limit, or a reserved subject.
   */
  publish(
    subjects: string | readonly string[],
    codec: number,
    payload: Uint8Array,
    head?: Uint8Array,
  ): Promise<void> | undefined {
    const list = this.#subjectList(subjects);
    if (this.#closedError) throw this.#closedError;
    this.#checkFrameBytes(pubFrameBytes(list, payload, head));
    this.#out.pushPub(codec, list, payload, head);
    return this.#queued();
  }

  /**
   * One publish as a frame of its own, without sending it (to keep while
   * disconnected); checks as `publish()` does.
   *
   * @throws {TypeError} for bad subjects.
   * @throws {RangeError} for a frame over the server's limit.
   */
  encodePublish(
    subjects: string | readonly string[],
    codec: number,
    payload: Uint8Array,
  ): Uint8Array {
    const frame = encodePub(codec, this.#subjectList(subjects), payload);
    this.#checkFrameBytes(frame.length);
    return frame;
  }

  // ---- Requests ----

  /** Sends a request frame built for a fresh id and waits for its OK body. */
  request(build: (requestId: number) => Uint8Array): Promise<Uint8Array> {
    if (this.#closedError) return Promise.reject(this.#closedError);
    const requestId = this.#nextRequestId++;
    if (this.#nextRequestId > 0xffff_fff0) this.#nextRequestId = 1;
    let frame: Uint8Array;
    try {
      frame = build(requestId);
    } catch (error) {
      return Promise.reject(error);
    }
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

  /**
   * Subscribes items `i` under ids `firstSid + i`; resolves once the server has them.
   *
   * @throws {ProtocolError} (rejects) when the server refuses them.
   */
  async subscribe(
    pattern: boolean,
    firstSid: number,
    group: string,
    items: readonly string[],
  ): Promise<void> {
    const type = pattern ? FrameType.SUBMATCH : FrameType.SUB;
    await this.request((requestId) =>
      encodeSubscribe(type, { requestId, firstSid, group, items: [...items] })
    );
  }

  /** Removes subscriptions by id; resolves once the server has removed them. */
  async unsubscribe(sids: readonly number[]): Promise<void> {
    await this.request((requestId) => encodeUnsubscribe(requestId, sids));
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

  /**
   * The application took an event of `cost` bytes (or its `share` when it went
   * to several subscriptions): the server may send that much more.
   */
  consumed(cost: number, share = 1): void {
    const credit = this.#credit;
    credit.events += share;
    credit.bytes += cost * share;
    const window = this.#window;
    if (window.events === UNLIMITED) return;
    if (credit.events * 2 >= window.events || credit.bytes * 2 >= window.bytes) {
      const events = Math.floor(credit.events);
      const bytes = Math.floor(credit.bytes);
      this.#sendQuietly(encodeCredit(events, bytes));
      credit.events -= events;
      credit.bytes -= bytes;
    }
  }

  async #readLoop(): Promise<void> {
    // Bytes once read are never overwritten: events hand out views of them (a binary
    // message is a view, not a copy), so each read goes after the last, in a fresh
    // buffer when this one is nearly used up.
    let buffer = new Uint8Array(READ_BYTES);
    let used = 0;
    try {
      while (!this.#closedError) {
        if (buffer.length - used < MIN_READ_ROOM) {
          buffer = new Uint8Array(READ_BYTES);
          used = 0;
        }
        const room = buffer.subarray(used);
        const n = await this.#transport.read(room);
        if (n === null) break;
        used += n;
        this.#lastReceived = Date.now();
        for (const frame of this.#parser.push(room.subarray(0, n))) this.#dispatch(frame);
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

  #dispatch(frame: RawFrame): void {
    switch (frame.type) {
      case FrameType.EVENT: {
        decodeEvent(frame.body, this.#subjects, this.#event);
        this.onEvent(this.#event, frame.body.length + 5);
        return;
      }
      case FrameType.MISSED:
        this.onMissed(decodeMissed(frame.body));
        return;
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
        this.#sendQuietly(PONG_FRAME);
        return;
      case FrameType.BYE: {
        const { code, reason } = decodeBye(frame.body);
        throw new ConnectionClosedError(
          `Connection to ${this.uri} closed by the server: ${reason}`,
          { code },
        );
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
    this.#transport.close();
    for (const pending of this.#pending.values()) pending.reject(error);
    this.#pending.clear();
    this.#releaseDrainWaiters();
    this.#closed.resolve(byUser ? undefined : error);
    if (!byUser) this.onError(error);
  }

  /** Sends what is queued (waiting at most a second), then closes. Idempotent. */
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
