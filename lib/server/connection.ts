/**
 * One client connection on the event server: the handshake, then a loop that
 * reads frames and acts on them. The connection is also the subscriber: its
 * `SubscriberQueue` is what the broker delivers to.
 */

import { getLogger } from "@logtape/logtape";
import { type Broker, whenAllHaveRoom } from "../broker/broker.ts";
import { SubscriberQueue, type Target } from "../broker/subscriber_queue.ts";
import { makeNonce, serverProof, verifyClientProof } from "../protocol/auth.ts";
import { ErrorCode, FrameType, PROTOCOL_VERSION } from "../protocol/constants.ts";
import { FrameError } from "../protocol/errors.ts";
import {
  BodyReader,
  decodeConnect,
  decodeListRequest,
  decodeRequest,
  encodeBye,
  encodeErr,
  encodeHello,
  encodeOk,
  encodeReady,
  PONG_FRAME,
} from "../protocol/frames.ts";
import { FrameParser, type RawFrame } from "../protocol/parser.ts";
import { type CachedSubject, SubjectCache } from "../protocol/subject_cache.ts";
import { closeQuietly, type Transport, writeAll } from "../protocol/transport.ts";
import { checkSubject, utf8Length } from "../protocol/subjects.ts";
import type { ResolvedOptions } from "./options.ts";
import { checkSubscriptionLimit, type ReliabilityCounters } from "./limits.ts";
import { watchdogFor } from "./watchdog.ts";
import { VERSION } from "../version.ts";

const log = getLogger(["es", "server"]);

/** Read buffers start small (idle connections are cheap) and grow with traffic. */
const MIN_READ_BYTES = 512;
const MAX_READ_BYTES = 256 * 1024;

/** What a connection needs from the server that owns it. */
export interface ServerContext {
  readonly options: ResolvedOptions;
  readonly broker: Broker<SubscriberQueue>;
  /** Counters and lists for STATS, as JSON-able data. */
  stats(): Promise<unknown>;
  /** Called once a subscription change is in the local index; resolves when it is in force everywhere. */
  interestChanged?(): Promise<void>;
  /** With workers: resolves once events handed to other workers are processed (for FLUSH). */
  settled?(): Promise<void> | undefined;
  /** Handles name-server frames, if this server embeds or is a name server. */
  handleNaming?(
    connection: ServerConnection,
    type: number,
    requestId: number,
    body: Uint8Array,
  ): Promise<Uint8Array>;
  /** Called when the connection ends. */
  connectionClosed(connection: ServerConnection): void;
  /** True on a name server: publish and subscription frames are refused. */
  readonly nameServerOnly?: boolean;
  /** Counters of refusals and drops by limits and heartbeats. */
  reliability?: ReliabilityCounters;
  /** Judges new patterns off the main thread before the index checks them. */
  patternSafety?: { prepare(patterns: readonly string[]): Promise<void> };
}

let nextConnectionId = 1;
/** What `subjects` and `patterns` are before the first subscription. */
const NO_ITEMS: ReadonlySet<string> = new Set<string>();
/** Subjects seen in PUB frames on this thread. */
const publishSubjects = new SubjectCache();

/** Thrown for requests the server refuses; becomes an ERR frame. */
class RequestError extends Error {
  constructor(readonly code: number, message: string) {
    super(message);
  }
}

/** A client connection: handshake, frame loop and subscriber queue. */
export class ServerConnection {
  readonly id: number = nextConnectionId++;
  readonly remote: string;
  readonly queue: SubscriberQueue;
  readonly connectedAt = Date.now();
  // Subscription sets are made on first use: idle connections stay small.
  #subjects: Set<string> | undefined;
  #patterns: Set<string> | undefined;
  clientName = "";
  /** Publish frames received. */
  published = 0;
  /** Last time any frame arrived (for heartbeats). */
  lastSeen = this.connectedAt;
  /** Last time the watchdog pinged the client (ms), 0 if never. */
  lastPing = 0;

  #transport: Transport;
  #ctx: ServerContext;
  #ready = false;
  #closed = false;
  /** Needed until the handshake is done, then dropped. */
  #serverNonce: Uint8Array | undefined = makeNonce();
  /** Targets (local queues or peer workers) that were full at the last publish (made on first publish). */
  #blocked: Target[] | undefined;

  constructor(transport: Transport, ctx: ServerContext, remote: string) {
    this.#transport = transport;
    this.#ctx = ctx;
    this.remote = remote;
    const { queueSize, blockQueue } = ctx.options;
    this.queue = new SubscriberQueue(
      (bytes) => writeAll(transport, bytes),
      { capacity: queueSize, block: blockQueue },
      () => this.close(),
    );
  }

  /** Exact subscriptions as the client spelled them. */
  get subjects(): ReadonlySet<string> {
    return this.#subjects ?? NO_ITEMS;
  }

  /** Pattern subscriptions. */
  get patterns(): ReadonlySet<string> {
    return this.#patterns ?? NO_ITEMS;
  }

  /** Runs the connection until the peer leaves or `close()` is called. */
  async serve(): Promise<void> {
    const { options } = this.#ctx;
    this.queue.control(encodeHello({
      version: PROTOCOL_VERSION,
      authRequired: options.ident !== undefined,
      serverNonce: this.#serverNonce!,
      heartbeatMs: options.heartbeatMs,
      maxFrameBytes: options.maxFrameBytes,
      serverName: `es/${VERSION}`,
    }));
    // One shared timer per server watches handshakes, heartbeats and slow consumers.
    const watchdog = watchdogFor(this.#ctx, {
      heartbeatMs: options.heartbeatMs,
      slowConsumerMs: options.slowConsumerMs,
      counters: this.#ctx.reliability,
    });
    watchdog.add(this);
    try {
      // The read loop, inline (one suspended async frame per idle connection, not two).
      const parser = new FrameParser(options.maxFrameBytes);
      let buffer = new Uint8Array(MIN_READ_BYTES);
      while (!this.#closed) {
        const n = await this.#transport.read(buffer);
        if (n === null) return;
        this.lastSeen = Date.now();
        for (const frame of parser.push(buffer.subarray(0, n))) {
          const pending = this.#handle(frame);
          if (pending !== undefined) await pending;
          if (this.#closed) return;
        }
        // A full read means more is waiting: read bigger next time.
        if (n === buffer.length && buffer.length < MAX_READ_BYTES) {
          buffer = new Uint8Array(buffer.length * 2);
        }
      }
    } catch (error) {
      if (error instanceof FrameError) {
        log.warn("Dropping {remote}: {message}", { remote: this.remote, message: error.message });
        await this.#sendFinal(error.code, error.message);
      } else if (!this.#closed) {
        log.debug("Connection {remote} ended: {error}", {
          remote: this.remote,
          error: String(error),
        });
      }
    } finally {
      watchdog.delete(this);
      this.#cleanup();
    }
  }

  /** True once the handshake is done. */
  get ready(): boolean {
    return this.#ready;
  }

  /** Refuses a client that did not finish the handshake in time (called by the watchdog). */
  handshakeTimedOut(): void {
    if (!this.#ready) this.#refuse(ErrorCode.PROTOCOL, "Handshake timed out");
  }

  /** Ends the connection, telling the client why when a code is given. */
  close(code?: number, reason = ""): void {
    if (this.#closed) return;
    if (code !== undefined) {
      void this.#sendFinal(code, reason);
      return;
    }
    this.#closed = true;
    this.queue.close();
    closeQuietly(this.#transport);
  }

  /** Sends a BYE after what is queued, waits briefly for it to leave, then closes. */
  async #sendFinal(code: number, reason: string, drainMs = 1000): Promise<void> {
    if (this.#closed) return;
    // Control frames jump the queue: let queued events go first (a slow consumer will not take them).
    if (code !== ErrorCode.SLOW_CONSUMER) await this.queue.drained(drainMs);
    this.queue.control(encodeBye(code, reason));
    await this.queue.drained(250);
    this.close();
  }

  #refuse(code: number, message: string): void {
    this.queue.control(encodeErr({ requestId: 0, code, message }));
    void this.#sendFinal(code, message);
  }

  /** Acts on one frame; returns a promise when the loop must wait before reading on. */
  #handle(frame: RawFrame): Promise<unknown> | undefined {
    if (!this.#ready) return this.#handshake(frame);
    try {
      if (this.#ctx.nameServerOnly && this.#refusedOnNameServer(frame)) return;
      switch (frame.type) {
        case FrameType.PUB:
          return this.#publish(frame.body);
        case FrameType.SUB:
        case FrameType.SUBMATCH:
        case FrameType.UNSUB:
          return this.#subscription(frame.type, frame.body);
        case FrameType.FLUSH: {
          const { requestId } = decodeRequest(frame.body, "FLUSH");
          const settled = this.#ctx.settled?.();
          if (settled !== undefined) {
            return settled.then(() => this.queue.control(encodeOk(requestId)));
          }
          this.queue.control(encodeOk(requestId));
          return;
        }
        case FrameType.STATS:
          return this.#stats(frame.body).catch((error) => this.#reportFrameError(error, 0));
        case FrameType.PING:
          this.queue.control(PONG_FRAME);
          return;
        case FrameType.PONG:
          return;
        case FrameType.NS_REGISTER:
        case FrameType.NS_RESOLVE:
        case FrameType.NS_UNREGISTER:
        case FrameType.NS_LIST:
          return this.#naming(frame.type, frame.body);
        default:
          throw new FrameError(
            ErrorCode.PROTOCOL,
            `Unknown or unexpected frame type 0x${frame.type.toString(16).padStart(2, "0")}`,
          );
      }
    } catch (error) {
      this.#reportFrameError(error, 0);
    }
  }

  /** On a name server, events have no place: refuse PUB and subscriptions with a clear ERR. */
  #refusedOnNameServer(frame: RawFrame): boolean {
    const t = frame.type;
    if (
      t !== FrameType.PUB && t !== FrameType.SUB && t !== FrameType.SUBMATCH &&
      t !== FrameType.UNSUB
    ) {
      return false;
    }
    const requestId = t === FrameType.PUB ? 0 : decodeRequest(frame.body, "request").requestId;
    const error = new RequestError(
      ErrorCode.PROTOCOL,
      'Refused: this is a name server, not an event server (resolve ":EventService" for that)',
    );
    this.#reportFrameError(error, requestId);
    return true;
  }

  /** A malformed frame whose length was fine: report it, keep the stream. */
  #reportFrameError(error: unknown, requestId: number): void {
    if (error instanceof FrameError || error instanceof RequestError) {
      log.info("Refused a frame from {remote}: {message}", {
        remote: this.remote,
        message: error.message,
      });
      this.queue.control(encodeErr({ requestId, code: error.code, message: error.message }));
      return;
    }
    throw error;
  }

  async #handshake(frame: RawFrame): Promise<void> {
    if (frame.type !== FrameType.CONNECT) {
      throw new FrameError(ErrorCode.PROTOCOL, "Expected CONNECT as the first frame");
    }
    const connect = decodeConnect(frame.body);
    if (connect.version !== PROTOCOL_VERSION) {
      this.#refuse(
        ErrorCode.VERSION,
        `Protocol version ${connect.version} is not supported (this server speaks ${PROTOCOL_VERSION})`,
      );
      return;
    }
    const ident = this.#ctx.options.ident;
    let proof: Uint8Array = new Uint8Array(0);
    if (ident !== undefined) {
      const ok = connect.proof.length > 0 &&
        await verifyClientProof(ident, this.#serverNonce!, connect.clientNonce, connect.proof);
      if (!ok) {
        log.warn("Refused {remote}: {why}", {
          remote: this.remote,
          why: connect.proof.length === 0 ? "no passphrase given" : "wrong passphrase",
        });
        this.#refuse(ErrorCode.AUTH, "Authentication failed: wrong or missing passphrase");
        return;
      }
      proof = await serverProof(ident, connect.clientNonce, this.#serverNonce!);
    }
    this.clientName = connect.clientName;
    this.#ready = true;
    this.#serverNonce = undefined;
    this.queue.control(encodeReady(proof));
  }

  /**
   * PUB, the hot path: parsed in place, subjects checked before any is
   * routed, one timestamp for the whole publish.
   */
  #publish(body: Uint8Array): Promise<unknown> | undefined {
    // Fast path: one well-formed subject, looked up in the subject cache (no
    // decoding, no per-event objects but the payload view and the event frame).
    if (body.length >= 5 && body[1] === 0 && body[2] === 1) {
      const end = 5 + ((body[3]! << 8) | body[4]!);
      const { broker, options } = this.#ctx;
      if (end > 5 && end - 5 <= options.maxSubjectBytes && end <= body.length) {
        const cached = publishSubjects.lookup(body, 5, end);
        const blocked = this.#blocked ??= [];
        blocked.length = 0;
        this.published++;
        broker.totals.publishes++;
        broker.route(
          cached.subject,
          cached.bytes,
          Date.now(),
          body[0]!,
          body.subarray(end),
          blocked,
          cached.key,
        );
        return blocked.length === 0 ? undefined : whenAllHaveRoom(blocked);
      }
    }
    return this.#publishChecked(body);
  }

  /** PUB with several subjects, or malformed: every field checked. */
  #publishChecked(body: Uint8Array): Promise<unknown> | undefined {
    const { broker, options } = this.#ctx;
    const r = new BodyReader(body, "PUB");
    const codec = r.u8();
    const count = r.u16();
    if (count === 0) throw new FrameError(ErrorCode.PROTOCOL, "Malformed PUB frame: no subject");
    const subjects: CachedSubject[] = new Array(count);
    for (let i = 0; i < count; i++) {
      const bytes = r.bytes(r.u16());
      if (bytes.length === 0 || bytes.length > options.maxSubjectBytes) {
        throw new RequestError(
          ErrorCode.BAD_SUBJECT,
          `Publish refused: subject of ${bytes.length} bytes (must be 1 to ${options.maxSubjectBytes})`,
        );
      }
      subjects[i] = publishSubjects.lookup(bytes, 0, bytes.length);
    }
    const payload = r.rest();
    const time = Date.now();
    const blocked = this.#blocked ??= [];
    blocked.length = 0;
    this.published++;
    broker.totals.publishes++;
    for (const { subject, bytes, key } of subjects) {
      broker.route(subject, bytes, time, codec, payload, blocked, key);
    }
    if (blocked.length === 0) return undefined;
    return whenAllHaveRoom(blocked);
  }

  async #stats(body: Uint8Array): Promise<void> {
    const { requestId } = decodeRequest(body, "STATS");
    const json = new TextEncoder().encode(JSON.stringify(await this.#ctx.stats()));
    this.queue.control(encodeOk(requestId, json));
  }

  async #subscription(type: number, body: Uint8Array): Promise<void> {
    const what = type === FrameType.SUB
      ? "SUB"
      : type === FrameType.SUBMATCH
      ? "SUBMATCH"
      : "UNSUB";
    const { broker, options } = this.#ctx;
    // A body that does not decode is refused like any bad request, under its id when it has
    // one, so the stream and the client's pending request both go on.
    const requestId = body.length >= 4
      ? new DataView(body.buffer, body.byteOffset).getUint32(0)
      : 0;
    try {
      const { items } = decodeListRequest(body, what);
      if (items.length === 0) throw new RequestError(ErrorCode.PROTOCOL, `${what} with no subject`);
      if (type === FrameType.SUB) {
        for (const s of items) this.#checkItem(s, "subject", options.maxSubjectBytes);
        checkSubscriptionLimit(
          this.subjects,
          this.patterns,
          items,
          options.maxSubscriptions,
          this.#ctx.reliability,
        );
        broker.index.subscribe(this.queue, items);
        const subjects = this.#subjects ??= new Set();
        for (const s of items) subjects.add(s);
      } else if (type === FrameType.SUBMATCH) {
        for (const p of items) this.#checkItem(p, "pattern", options.maxPatternBytes);
        checkSubscriptionLimit(
          this.patterns,
          this.subjects,
          items,
          options.maxSubscriptions,
          this.#ctx.reliability,
        );
        await this.#ctx.patternSafety?.prepare(items);
        try {
          broker.index.subscribeMatch(this.queue, items);
        } catch (error) {
          throw new RequestError(ErrorCode.BAD_PATTERN, (error as Error).message);
        }
        const patterns = this.#patterns ??= new Set();
        for (const p of items) patterns.add(p);
      } else {
        broker.index.unsubscribe(this.queue, items);
        const subjects = this.#subjects;
        for (const item of items) {
          this.#patterns?.delete(item);
          if (subjects === undefined) continue;
          subjects.delete(item);
          // Exact subjects are case-insensitive: forget every spelling of this one.
          const key = item.toLowerCase();
          for (const s of subjects) if (s.toLowerCase() === key) subjects.delete(s);
        }
      }
      await this.#ctx.interestChanged?.();
      this.queue.control(encodeOk(requestId));
    } catch (error) {
      this.#reportFrameError(error, requestId);
    }
  }

  #checkItem(item: string, what: string, maxBytes: number): void {
    try {
      checkSubject(item, maxBytes, what);
    } catch (error) {
      const code = what === "pattern" ? ErrorCode.BAD_PATTERN : ErrorCode.BAD_SUBJECT;
      throw new RequestError(code, `Cannot subscribe: ${(error as Error).message}`);
    }
    if (utf8Length(item) === 0) throw new RequestError(ErrorCode.BAD_SUBJECT, `Empty ${what}`);
  }

  async #naming(type: number, body: Uint8Array): Promise<void> {
    const { requestId, body: request } = decodeRequest(body, "name service");
    try {
      const handler = this.#ctx.handleNaming;
      if (!handler) throw new RequestError(ErrorCode.PROTOCOL, "This server has no name service");
      const reply = await handler(this, type, requestId, request);
      this.queue.control(encodeOk(requestId, reply));
    } catch (error) {
      if (error instanceof RequestError || error instanceof FrameError) {
        this.#reportFrameError(error, requestId);
      } else {
        const code = (error as { code?: unknown }).code;
        this.#reportFrameError(
          new RequestError(
            typeof code === "number" ? code : ErrorCode.INTERNAL,
            (error as Error).message,
          ),
          requestId,
        );
      }
    }
  }

  #cleanup(): void {
    const wasClosed = this.#closed;
    this.#closed = true;
    this.#ctx.broker.index.unsubscribe(this.queue, [...this.subjects, ...this.patterns]);
    if (this.subjects.size + this.patterns.size > 0) void this.#ctx.interestChanged?.();
    this.queue.close();
    if (!wasClosed) closeQuietly(this.#transport);
    this.#ctx.connectionClosed(this);
  }
}

export { RequestError };
