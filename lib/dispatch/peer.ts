/**
 * The link from this worker's node to one other node over a MessagePort:
 * event frames go out in batches (transferred ArrayBuffers) under a credit
 * window, come in to the local subscribers in order, and interest changes are
 * acknowledged so a subscription is in force everywhere before its reply.
 */

import type { Broker } from "../broker/broker.ts";
import type { Target } from "../broker/subscriber_queue.ts";
import { whenAllHaveRoom } from "../broker/broker.ts";
import { SubjectCache } from "../protocol/subject_cache.ts";
import type { SubjectIndex } from "../broker/subject_index.ts";

/** Bytes of one outgoing batch buffer (a larger frame gets a buffer of its own). */
const BATCH_BYTES = 64 * 1024;
/** Events a node may send a peer before the peer has processed them. */
export const CREDIT_WINDOW = 8192;
/** Offsets in an EVENT frame: u32 length, u8 type, f64 time, u8 codec, u16 subject length. */
const SUBJECT_LENGTH_AT = 14;
const SUBJECT_AT = 16;

/** Subjects of events arriving from peers on this thread. */
const inboundSubjects = new SubjectCache();

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
  readonly broker: Broker;
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
  #batch: Uint8Array | undefined;
  #at = 0;
  #count = 0;
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
  #inbound: { seq: number; bytes: Uint8Array; n: number }[] = [];
  #processing = false;
  #blocked: Target[] = [];

  constructor(id: number, port: MessagePort, host: PeerHost) {
    this.id = id;
    this.#port = port;
    this.#host = host;
    port.onmessage = (e: MessageEvent<PeerMessage>) => this.#receive(e.data);
    port.start();
  }

  // ---- Target: the broker hands this peer frames for its subscribers ----

  deliver(frame: Uint8Array): boolean {
    if (this.#closed) return true;
    const size = frame.length;
    if (this.#batch === undefined || this.#at + size > this.#batch.length) {
      this.#flush();
      this.#batch = new Uint8Array(Math.max(BATCH_BYTES, size));
    }
    this.#batch.set(frame, this.#at);
    this.#at += size;
    this.#count++;
    this.sent++;
    if (!this.#flushQueued) {
      this.#flushQueued = true;
      queueMicrotask(() => this.#flush());
    }
    return --this.#credits > 0;
  }

  whenRoom(): Promise<void> {
    if (this.#closed || this.#credits > 0) return Promise.resolve();
    return new Promise((resolve) => this.#roomWaiters.push(resolve));
  }

  /** Sends the current batch now. */
  #flush(): void {
    this.#flushQueued = false;
    const batch = this.#batch;
    if (batch === undefined || this.#count === 0 || this.#closed) return;
    const message: PeerMessage = {
      t: "ev",
      seq: ++this.#sentSeq,
      buf: batch.buffer as ArrayBuffer,
      len: this.#at,
      n: this.#count,
    };
    this.#batch = undefined;
    this.#at = 0;
    this.#count = 0;
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
          bytes: new Uint8Array(message.buf, 0, message.len),
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
          index.subscribe(this, [item]);
          break;
        case InterestCode.REMOVE_EXACT:
          index.unsubscribeExact(this, [item]);
          break;
        case InterestCode.ADD_PATTERN:
          index.subscribeMatch(this, [item]);
          break;
        case InterestCode.REMOVE_PATTERN:
          index.unsubscribePatterns(this, [item]);
          break;
      }
    }
  }

  /** Delivers incoming batches to local subscribers, waiting for room in block mode. */
  async #process(): Promise<void> {
    this.#processing = true;
    const broker = this.#host.broker;
    const blocked = this.#blocked;
    try {
      while (!this.#closed && this.#inbound.length > 0) {
        const { seq, bytes, n } = this.#inbound.shift()!;
        const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
        let at = 0;
        while (at < bytes.length) {
          const end = at + 4 + view.getUint32(at);
          const subjectEnd = at + SUBJECT_AT + view.getUint16(at + SUBJECT_LENGTH_AT);
          const cached = inboundSubjects.lookup(bytes, at + SUBJECT_AT, subjectEnd);
          broker.deliverFrame(cached.key, bytes.subarray(at, end), blocked);
          at = end;
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
