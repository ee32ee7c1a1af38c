/**
 * The link from this worker's node to one other node over a MessagePort:
 * event frames go out in batches (transferred ArrayBuffers) under a credit
 * window, come in to the local subscribers in order, and interest changes are
 * acknowledged so a subscription is in force everywhere before its reply.
 */

import { whenAllHaveRoom } from "../broker/router.ts";
import type { SubjectIndex } from "../broker/subject_index.ts";
import type { Target } from "../broker/subscriber_queue.ts";
import { compilePattern } from "../broker/pattern.ts";
import type { BackplaneNode } from "../node/backplane.ts";
import { eventBodySubject } from "../protocol/frames/event.ts";
import { SubjectCache } from "../protocol/subject_cache.ts";
import { BatchReader, BatchWriter } from "./batch.ts";

/** Events a node may send a peer before the peer has processed them. */
export const CREDIT_WINDOW = 8192;

/** One change of a node's interest: [op, subject key or pattern]. */
export type InterestOp = [op: InterestCode, item: string];

/** What an interest op does. */
export const enum InterestCode {
  ADD_EXACT = 0,
  REMOVE_EXACT = 1,
  ADD_PATTERN = 2,
  REMOVE_PATTERN = 3,
}

/** Messages between two nodes. */
export type PeerMessage =
  | { t: "ev"; seq: number; buf: ArrayBuffer; len: number; n: number }
  | { t: "credit"; seq: number; n: number }
  | { t: "int"; seq: number; ops: InterestOp[] }
  | { t: "iack"; seq: number };

/** The node-side things a peer link needs. */
export interface PeerHost {
  /** The node this link belongs to, for events coming in. */
  readonly node: BackplaneNode;
  /** Which peers want which subjects and patterns; this link keeps its peer's entries. */
  readonly peerIndex: SubjectIndex<Target>;
}

interface SeqWaiter {
  seq: number;
  resolve: () => void;
}

/** Another node, as a delivery target for the local broker. */
export class Peer implements Target {
  /** The other node's number (0 = main thread). */
  readonly id: number;
  /** Events sent to the peer. */
  sent = 0;
  /** Events received from the peer. */
  received = 0;

  #port: MessagePort;
  #host: PeerHost;
  #closed = false;
  // Outgoing events.
  #batch = new BatchWriter();
  #flushQueued = false;
  #credits = CREDIT_WINDOW;
  #sentSeq = 0;
  #doneSeq = 0;
  #roomWaiters: (() => void)[] = [];
  #doneWaiters: SeqWaiter[] = [];
  // Interest changes.
  #interestSeq = 0;
  #ackWaiters: SeqWaiter[] = [];
  // Incoming events, processed in order.
  #inbound: { seq: number; batch: BatchReader; n: number }[] = [];
  #processing = false;
  #blocked: Target[] = [];
  /** Subjects of events coming in from this peer. */
  #subjects = new SubjectCache(1024);

  constructor(id: number, port: MessagePort, host: PeerHost) {
    this.id = id;
    this.#port = port;
    this.#host = host;
    port.onmessage = (e: MessageEvent<PeerMessage>) => this.#receive(e.data);
    port.start();
  }

  // ---- Target: the broker hands this peer frames for its subscribers ----

  deliver(_sids: Uint8Array, body: Uint8Array): boolean {
    if (this.#closed) return true;
    // The peer routes the body to its own subscribers, with their own ids.
    if (this.#batch.count > 0 && !this.#batch.fits(body.length)) this.#flush();
    this.#batch.add(body);
    this.sent++;
    if (!this.#flushQueued) {
      this.#flushQueued = true;
      queueMicrotask(() => this.#flush());
    }
    return --this.#credits > 0;
  }

  /** Events forwarded between nodes are never forwarded again: this is not called. */
  deliverOrDrop(sids: Uint8Array, body: Uint8Array): boolean {
    return this.deliver(sids, body);
  }

  whenRoom(): Promise<void> {
    if (this.#closed || this.#credits > 0) return Promise.resolve();
    return new Promise((resolve) => this.#roomWaiters.push(resolve));
  }

  /** Sends the current batch now. */
  #flush(): void {
    this.#flushQueued = false;
    if (this.#closed) return;
    const taken = this.#batch.take();
    if (taken === undefined) return;
    const message: PeerMessage = {
      t: "ev",
      seq: ++this.#sentSeq,
      buf: taken.buffer,
      len: taken.length,
      n: taken.count,
    };
    this.#port.postMessage(message, [message.buf]);
  }

  /** Resolves once the peer has processed every event sent to it so far. */
  settled(): Promise<void> | undefined {
    this.#flush();
    const seq = this.#sentSeq;
    if (this.#closed || this.#doneSeq >= seq) return undefined;
    return new Promise((resolve) => this.#doneWaiters.push({ seq, resolve }));
  }

  /** Sends interest changes; resolves once the peer has applied them. */
  sendInterest(ops: InterestOp[]): Promise<void> {
    if (this.#closed) return Promise.resolve();
    const seq = ++this.#interestSeq;
    this.#port.postMessage({ t: "int", seq, ops } satisfies PeerMessage);
    return new Promise((resolve) => this.#ackWaiters.push({ seq, resolve }));
  }

  // ---- Incoming ----

  #receive(message: PeerMessage): void {
    switch (message.t) {
      case "ev":
        this.#inbound.push({
          seq: message.seq,
          batch: new BatchReader(message.buf, message.len),
          n: message.n,
        });
        if (!this.#processing) void this.#process();
        return;
      case "credit":
        this.#credits += message.n;
        this.#doneSeq = message.seq;
        if (this.#credits > 0) release(this.#roomWaiters);
        releaseUpTo(this.#doneWaiters, message.seq);
        return;
      case "int":
        this.#applyInterest(message.ops);
        this.#port.postMessage({ t: "iack", seq: message.seq } satisfies PeerMessage);
        return;
      case "iack":
        releaseUpTo(this.#ackWaiters, message.seq);
        return;
    }
  }

  #applyInterest(ops: InterestOp[]): void {
    const index = this.#host.peerIndex;
    for (const [op, item] of ops) {
      switch (op) {
        case InterestCode.ADD_EXACT:
          index.subscribe(this, 0, item);
          break;
        case InterestCode.REMOVE_EXACT:
          index.unsubscribe(this, 0, item);
          break;
        case InterestCode.ADD_PATTERN:
          // The peer compiled it already: it cannot fail here.
          index.subscribeMatch(this, 0, index.knownPattern(item) ?? compilePattern(item));
          break;
        case InterestCode.REMOVE_PATTERN:
          index.unsubscribeMatch(this, 0, item);
          break;
      }
    }
  }

  /** Delivers incoming batches to local subscribers, waiting for room in block mode. */
  async #process(): Promise<void> {
    this.#processing = true;
    const node = this.#host.node;
    const blocked = this.#blocked;
    try {
      while (!this.#closed && this.#inbound.length > 0) {
        const { seq, batch, n } = this.#inbound.shift()!;
        for (let body = batch.next(); body !== undefined; body = batch.next()) {
          node.deliverForwarded(eventBodySubject(body, this.#subjects), body, blocked);
          if (blocked.length > 0) {
            await whenAllHaveRoom(blocked);
            blocked.length = 0;
            if (this.#closed) return;
          }
        }
        this.received += n;
        this.#port.postMessage({ t: "credit", seq, n } satisfies PeerMessage);
      }
    } finally {
      this.#processing = false;
    }
  }

  /** Stops the link; everyone waiting on it is released. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#inbound = [];
    release(this.#roomWaiters);
    releaseUpTo(this.#doneWaiters, Infinity);
    releaseUpTo(this.#ackWaiters, Infinity);
    this.#port.onmessage = null;
    this.#port.close();
  }
}

function release(waiters: (() => void)[]): void {
  const all = waiters.splice(0);
  for (const resolve of all) resolve();
}

function releaseUpTo(waiters: SeqWaiter[], seq: number): void {
  let i = 0;
  while (i < waiters.length && waiters[i]!.seq <= seq) waiters[i++]!.resolve();
  if (i > 0) waiters.splice(0, i);
}
