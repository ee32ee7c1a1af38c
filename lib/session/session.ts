/**
 * One client connection on a server, whatever the server is: the handshake
 * (HELLO, CONNECT, passphrase proofs both ways, READY), the frame loop,
 * heartbeats and flow control, replies and refusals, and BYE. What the frames
 * mean is the handler's business: the event server's and the name server's
 * handlers share this one session.
 */

import { getLogger } from "@logtape/logtape";
import type { QueueBudget } from "../broker/queue_budget.ts";
import { type QueueLimits, SubscriberQueue } from "../broker/subscriber_queue.ts";
import { FrameError, RequestError } from "../errors.ts";
import { makeNonce, serverProof, verifyClientProof } from "../protocol/auth.ts";
import {
  ErrorCode,
  FrameType,
  HANDSHAKE_MAX_FRAME_BYTES,
  PROTOCOL_VERSION,
} from "../protocol/constants.ts";
import { encodeBye } from "../protocol/frames/bye.ts";
import { type Connect, decodeConnect } from "../protocol/frames/connect.ts";
import { decodeCredit, PONG_FRAME } from "../protocol/frames/control.ts";
import { encodeErr } from "../protocol/frames/err.ts";
import { encodeHello } from "../protocol/frames/hello.ts";
import { encodeReady } from "../protocol/frames/ready.ts";
import { encodeOk, requestIdOf } from "../protocol/frames/request.ts";
import { FrameParser, type RawFrame } from "../protocol/parser.ts";
import { type Transport, writeAll } from "../transport/transport.ts";
import type { AuthThrottle } from "./auth_throttle.ts";
import type { ReliabilityCounters } from "./counters.ts";
import type { LogLimiter } from "./log_limiter.ts";
import type { Watchdog } from "./watchdog.ts";

const log = getLogger(["es", "server"]);

/** Read buffers start small (idle connections are cheap) and grow with traffic. */
const MIN_READ_BYTES = 512;
const MAX_READ_BYTES = 256 * 1024;
/** Time the queue gets to drain before a BYE, and the BYE itself. */
const FINAL_DRAIN_MS = 1000;
const BYE_DRAIN_MS = 250;

/** What a server hands each of its sessions. */
export interface SessionContext {
  /** Passphrase the client must prove; undefined: none. */
  readonly ident: string | undefined;
  readonly heartbeatMs: number;
  /** Largest frame accepted once the handshake is done. */
  readonly maxFrameBytes: number;
  /** Bytes of replies waiting for a client that does not read before its requests are not read. */
  readonly maxReplyBytes: number;
  /** Sent in HELLO, e.g. `es/0.2.0`. */
  readonly serverName: string;
  /** Queue sizes and policy until the handler chooses its own. */
  readonly queue: QueueLimits;
  /** The server's total of queued bytes, if it bounds it. */
  readonly budget?: QueueBudget;
  readonly watchdog: Watchdog;
  readonly throttle: AuthThrottle;
  readonly counters: ReliabilityCounters;
  readonly logLimiter: LogLimiter;
  /** Makes the handler for a session whose handshake succeeded. */
  handler(session: Session, connect: Connect): SessionHandler;
  /** Called once when the session has ended. */
  ended(session: Session): void;
}

/** What a server does with the frames of one session after its handshake. */
export interface SessionHandler {
  /**
   * Acts on one frame; returns a promise when the session must wait before
   * it reads on. Throw (or reject with) `FrameError` or `RequestError` to
   * refuse it with an ERR; the stream goes on.
   */
  handle(frame: RawFrame): Promise<unknown> | undefined;
  /** The session has ended: forget its subscriptions, names, … */
  closed(): void;
}

let nextSessionId = 1;

/** A client connection: handshake, frame loop, queue. */
export class Session {
  /** Unique in this process. */
  readonly id: number = nextSessionId++;
  readonly remote: string;
  /** Where replies and events wait for the client. */
  readonly queue: SubscriberQueue;
  readonly connectedAt: number = Date.now();
  /** How the client introduced itself in CONNECT. */
  clientName = "";
  /** Last time any frame arrived (ms), for heartbeats. */
  lastSeen: number = this.connectedAt;
  /** Last time the watchdog pinged the client (ms), 0 if never. */
  lastPing = 0;
  /** True while the loop waits for room to publish into (the watchdog then spares it). */
  held = false;
  /**
   * When the session last began working without a break (a read arrived, or it
   * came back from waiting), in `performance.now()` milliseconds: a handler
   * that has worked long since then lets other connections have their turn.
   */
  turnStart = 0;

  #transport: Transport;
  #ctx: SessionContext;
  #handler: SessionHandler | undefined;
  #closed = false;
  #finishing: Promise<void> | undefined;
  /** Needed until the handshake is done, then dropped. */
  #serverNonce: Uint8Array | undefined = makeNonce();
  /** Aborted when the session ends: stops a handshake waiting in the throttle. */
  #stop = new AbortController();

  constructor(transport: Transport, ctx: SessionContext) {
    this.#transport = transport;
    this.#ctx = ctx;
    this.remote = transport.remote;
    this.queue = new SubscriberQueue(
      (bytes) => writeAll(transport, bytes),
      ctx.queue,
      () => this.close(),
      ctx.budget,
    );
  }

  /** True once the handshake is done. */
  get ready(): boolean {
    return this.#handler !== undefined;
  }

  /** The handler, once the handshake is done. */
  get handler(): SessionHandler | undefined {
    return this.#handler;
  }

  /** Runs the session until the peer leaves or `close()` is called. */
  async serve(): Promise<void> {
    const ctx = this.#ctx;
    this.queue.control(encodeHello({
      version: PROTOCOL_VERSION,
      authRequired: ctx.ident !== undefined,
      serverNonce: this.#serverNonce!,
      heartbeatMs: ctx.heartbeatMs,
      maxFrameBytes: ctx.maxFrameBytes,
      serverName: ctx.serverName,
    }));
    ctx.watchdog.add(this);
    // Until READY a stranger gets a small parser and read buffer: a few KiB at most.
    const parser = new FrameParser(HANDSHAKE_MAX_FRAME_BYTES);
    let buffer: Uint8Array = new Uint8Array(MIN_READ_BYTES);
    try {
      while (!this.#closed && !this.#finishing) {
        const n = await this.#transport.read(buffer);
        if (n === null) return;
        this.lastSeen = Date.now();
        this.turnStart = performance.now();
        for (const frame of parser.push(buffer.subarray(0, n))) {
          if (this.#handler === undefined) {
            if (!await this.#handshake(frame)) return;
            parser.maxFrameBytes = ctx.maxFrameBytes;
            continue;
          }
          const pending = this.#handle(frame);
          if (pending !== undefined) {
            this.held = true;
            await pending;
            this.held = false;
            this.lastSeen = Date.now();
            this.turnStart = performance.now();
          }
          if (this.#closed || this.#finishing) return;
        }
        // A client that does not read its replies stops being read.
        if (this.queue.controlBytes > ctx.maxReplyBytes) await this.queue.drained();
        buffer = resize(buffer, n, this.ready ? MAX_READ_BYTES : HANDSHAKE_MAX_FRAME_BYTES);
      }
    } catch (error) {
      if (error instanceof FrameError) {
        this.#logRefusal("Dropping {remote}: {message}", error.message);
        await this.#finish(error.code, error.message);
      } else if (!this.#closed) {
        log.debug("Connection {remote} ended: {error}", {
          remote: this.remote,
          error: String(error),
        });
      }
    } finally {
      // A BYE on its way (close with a code) goes out before the session ends.
      await this.#finishing;
      ctx.watchdog.delete(this);
      this.#end();
    }
  }

  /** Sends an OK reply to request `requestId`. */
  reply(requestId: number, body?: Uint8Array): void {
    this.queue.control(encodeOk(requestId, body));
  }

  /** Sends an ERR for request `requestId` (0: no request) and logs it, rate-limited. */
  refuse(requestId: number, code: number, message: string): void {
    this.#ctx.counters.refusedFrames++;
    this.#logRefusal("Refused a frame from {remote}: {message}", message);
    this.queue.control(encodeErr({ requestId, code, message }));
  }

  /** Refuses a client that did not finish the handshake in time (called by the watchdog). */
  handshakeTimedOut(): void {
    if (!this.ready) void this.#finish(ErrorCode.PROTOCOL, "Handshake timed out");
  }

  /** Ends the connection, telling the client why (BYE) when a code is given. */
  close(code?: number, reason = ""): void {
    if (this.#closed) return;
    if (code !== undefined) {
      void this.#finish(code, reason);
      return;
    }
    this.#closed = true;
    this.#stop.abort();
    this.queue.close();
    this.#transport.close();
  }

  #logRefusal(template: string, message: string): void {
    const allowed = this.#ctx.logLimiter.allow(
      Date.now(),
      (suppressed) => log.info("{suppressed} more refusals were not logged", { suppressed }),
    );
    if (allowed) log.info(template, { remote: this.remote, message });
  }

  /** Sends BYE after what is queued (briefly), then closes; reads nothing more meanwhile. */
  #finish(code: number, reason: string): Promise<void> {
    if (this.#closed) return Promise.resolve();
    return this.#finishing ??= this.#sendBye(code, reason);
  }

  async #sendBye(code: number, reason: string): Promise<void> {
    // A slow consumer will not take its events: do not wait for them.
    if (code !== ErrorCode.SLOW_CONSUMER) await this.queue.drained(FINAL_DRAIN_MS);
    this.queue.control(encodeBye(code, reason));
    await this.queue.drained(BYE_DRAIN_MS);
    this.close();
  }

  /** The handshake: true once READY is sent; false when the client was refused. */
  async #handshake(frame: RawFrame): Promise<boolean> {
    const ctx = this.#ctx;
    if (frame.type !== FrameType.CONNECT) {
      throw new FrameError(ErrorCode.PROTOCOL, "Expected CONNECT as the first frame");
    }
    // A host with many refusals waits before any verdict, right or wrong: no early READY.
    if (!await ctx.throttle.admit(this.remote, this.#stop.signal)) return false;
    if (this.#closed || this.#finishing) return false;
    const connect = decodeConnect(frame.body, PROTOCOL_VERSION);
    if (connect.version !== PROTOCOL_VERSION) {
      await this.#refuseHandshake(
        ErrorCode.VERSION,
        `Protocol version ${connect.version} is not supported (this server speaks ${PROTOCOL_VERSION})`,
      );
      return false;
    }
    let proof: Uint8Array = new Uint8Array(0);
    if (ctx.ident !== undefined) {
      const ok = connect.proof.length > 0 &&
        await verifyClientProof(ctx.ident, this.#serverNonce!, connect.clientNonce, connect.proof);
      if (!ok) {
        const why = connect.proof.length === 0 ? "no passphrase given" : "wrong passphrase";
        this.#logRefusal("Refused {remote}: {message}", why);
        await this.#refuseHandshake(
          ErrorCode.AUTH,
          "Authentication failed: wrong or missing passphrase",
        );
        return false;
      }
      proof = await serverProof(ctx.ident, connect.clientNonce, this.#serverNonce!);
    }
    ctx.throttle.accepted(this.remote);
    this.clientName = connect.clientName;
    this.#serverNonce = undefined;
    try {
      this.#handler = ctx.handler(this, connect);
    } catch (error) {
      // The passphrase was right: what the client asked for (its queue) is refused, unthrottled.
      if (!(error instanceof RequestError)) throw error;
      this.queue.control(encodeErr({ requestId: 0, code: error.code, message: error.message }));
      await this.#finish(error.code, error.message);
      return false;
    }
    this.queue.control(encodeReady(proof));
    this.#transport.authenticated?.();
    return true;
  }

  /** A refused handshake ends the connection, and counts against its host (auth_throttle.ts). */
  async #refuseHandshake(code: number, message: string): Promise<void> {
    this.#ctx.counters.refusedHandshakes++;
    this.#ctx.throttle.refused(this.remote, Date.now());
    this.queue.control(encodeErr({ requestId: 0, code, message }));
    await this.#finish(code, message);
  }

  /** Frames every session knows; the rest go to the handler. */
  #handle(frame: RawFrame): Promise<unknown> | undefined {
    switch (frame.type) {
      case FrameType.PING:
        this.queue.control(PONG_FRAME);
        return;
      case FrameType.PONG:
        return;
      case FrameType.CREDIT: {
        try {
          const { events, bytes } = decodeCredit(frame.body);
          this.queue.credit(events, bytes);
        } catch (error) {
          this.#refuseFrame(error, 0);
        }
        return;
      }
    }
    let pending: Promise<unknown> | undefined;
    try {
      pending = this.#handler!.handle(frame);
    } catch (error) {
      this.#refuseFrame(error, requestIdOfFrame(frame));
      return;
    }
    return pending?.catch((error) => this.#refuseFrame(error, requestIdOfFrame(frame)));
  }

  /** A frame the handler refused: ERR, and the stream goes on. Anything else is a bug. */
  #refuseFrame(error: unknown, requestId: number): void {
    if (error instanceof FrameError || error instanceof RequestError) {
      this.refuse(requestId, error.code, error.message);
      return;
    }
    log.error("Closing {remote} after an internal error: {error}", {
      remote: this.remote,
      error: error instanceof Error ? error.stack ?? error.message : String(error),
    });
    this.close(ErrorCode.INTERNAL, "Internal error on the server");
  }

  #end(): void {
    const wasClosed = this.#closed;
    this.#closed = true;
    this.#stop.abort();
    this.#handler?.closed();
    this.queue.close();
    if (!wasClosed) this.#transport.close();
    this.#ctx.ended(this);
  }
}

/** PUB carries no request id; every other request starts with one. */
function requestIdOfFrame(frame: RawFrame): number {
  return frame.type === FrameType.PUB ? 0 : requestIdOf(frame.body);
}

/** A read that filled the buffer asks for a bigger one; a small read after growth, a smaller one. */
function resize(buffer: Uint8Array, n: number, max: number): Uint8Array {
  if (n === buffer.length && buffer.length < max) return new Uint8Array(buffer.length * 2);
  if (n < buffer.length / 64 && buffer.length >= 16 * 1024) {
    return new Uint8Array(buffer.length / 2);
  }
  return buffer;
}
