/**
 * The link from this worker's node to one other node over a MessagePort:
 * event frames go out in batches (transferred ArrayBuffers) under a credit
 * window, come in to the local subscribers in order, and interest changes are
 * acknowledged so a subscription is in force everywhere before its reply.
 *
 * The receiving node never waits: it delivers every batch at once and
 * returns its credit. When a local queue is full in block mode, it delivers
 * anyway and tells the sending node to hold the publisher whose event it was
 * (`hold`), until that queue has room (`release`). So a full queue holds only
 * the publishers whose events target it; the others, and the link, go on.
 * What a queue takes past its bound before the hold arrives is bounded by the
 * link's window.
 */

import { whenAllHaveRoom } from "../broker/router.ts";
import type { SubjectIndex } from "../broker/subject_index.ts";
import type { Blocker } from "../broker/subscriber_queue.ts";
import { compilePattern, loadPatternEngine, patternEngineLoaded } from "../broker/pattern.ts";
import type { BackplaneNode } from "../node/backplane.ts";
import { eventBodySubject } from "../protocol/frames/event.ts";
import { SubjectCache } from "../protocol/subject_cache.ts";
import { BatchReader, BatchWriter, namesBytes } from "./batch.ts";

/**
 * Events and bytes of event bodies a node may send a peer before the peer has
 * processed them. The peer processes at once, so this only covers the time
 * until its thread runs; it is also what a full queue on the peer may take
 * past its bound before the hold of its publisher arrives.
 */
export const CREDIT_WINDOW = 2048;
export const CREDIT_WINDOW_BYTES = 2 * 1024 * 1024;

/**
 * One change of a node's interest: [op, subject key or pattern, queue group]
 * (no group: the ungrouped subscriptions).
 */
export type InterestOp = [op: InterestCode, item: string, group?: string];

/** What an interest op does. */
export const enum InterestCode {
  ADD_EXACT = 0,
  REMOVE_EXACT = 1,
  ADD_PATTERN = 2,
  REMOVE_PATTERN = 3,
}

/** Messages between two nodes; `p` is a publisher (connection) id on the node that sent the events. */
export type PeerMessage =
  | { t: "ev"; seq: number; buf: ArrayBuffer; len: number; n: number }
  /** The batch was delivered; its buffer comes back for reuse. */
  | { t: "credit"; seq: number; n: number; bytes: number; buf: ArrayBuffer }
  | { t: "hold"; p: number }
  | { t: "release"; p: number }
  | { t: "int"; seq: number; ops: InterestOp[] }
  | { t: "iack"; seq: number };

/** The node-side things a peer link needs. */
export interface PeerHost {
  /** The node this link belongs to, for events coming in. */
  readonly node: BackplaneNode;
  /** Which peers want which subjects and patterns; this link keeps its peer's entries. */
  readonly peerIndex: SubjectIndex<Peer>;
}

interface SeqWaiter {
  seq: number;
  resolve: () => void;
}

/** Another node, as a place the local broker forwards events to. */
export class Peer {
  /** The other node's number (0 = main thread). */
  readonly id: number;
  /** Events sent to the peer. */
  sent = 0;
  /** Events received from the peer. */
  received = 0;

  #port: MessagePort;
  #host: PeerHost;
  #closed = false;
  /** Interest messages waiting for the pattern engine to load, applied in order after it. */
  #interestChain: Promise<void> | undefined;
  // Outgoing events.
  #batch = new BatchWriter();
  #flushQueued = false;
  #credits = CREDIT_WINDOW;
  #creditBytes = CREDIT_WINDOW_BYTES;
  #sentSeq = 0;
  #doneSeq = 0;
  #roomWaiters: (() => void)[] = [];
  #doneWaiters: SeqWaiter[] = [];
  /** Local publishers the peer asked to hold, and who waits for their release. */
  #held = new Map<number, (() => void)[]>();
  // Interest changes.
  #interestSeq = 0;
  #ackWaiters: SeqWaiter[] = [];
  // Incoming events.
  #blocked: Blocker[] = [];
  /** Publishers of the peer held here: how many full-queue waits each has pending. */
  #holding = new Map<number, number>();
  /** Subjects of events coming in from this peer. */
  #subjects = new SubjectCache(4096);

  constructor(id: number, port: MessagePort, host: PeerHost) {
    this.id = id;
    this.#port = port;
    this.#host = host;
    port.onmessage = (e: MessageEvent<PeerMessage>) => this.#receive(e.data);
    port.start();
  }

  // ---- Outgoing: the broker forwards event bodies for the peer's subscribers ----

  /**
   * Sends one event body of local publisher `publisher` on to the peer (which
   * routes it to its own plain subscribers, with their own ids, and to one
   * member of each of `groups` there).
   *
   * @returns false when the publisher must wait for `blocker(publisher)`: the
   * window is used up, or the peer holds this publisher for a full queue.
   */
  forward(body: Uint8Array, publisher: number, groups?: readonly string[]): boolean {
    if (this.#closed) return true;
    const size = body.length + (groups === undefined ? 0 : namesBytes(groups));
    if (this.#batch.count > 0 && !this.#batch.fits(size)) this.#flush();
    this.#batch.add(body, publisher, groups);
    this.sent++;
    if (!this.#flushQueued) {
      this.#flushQueued = true;
      queueMicrotask(() => this.#flush());
    }
    this.#creditBytes -= body.length;
    return --this.#credits > 0 && this.#creditBytes > 0 && !this.#held.has(publisher);
  }

  /** What `publisher` waits for after `forward()` returned false. */
  blocker(publisher: number): Blocker {
    return { whenRoom: () => this.#whenRoomFor(publisher) };
  }

  async #whenRoomFor(publisher: number): Promise<void> {
    while (!this.#closed && (this.#credits <= 0 || this.#creditBytes <= 0)) {
      await new Promise<void>((resolve) => this.#roomWaiters.push(resolve));
    }
    await this.whenReleased(publisher);
  }

  /** True while the peer holds local publisher `publisher`. */
  isHolding(publisher: number): boolean {
    return this.#held.has(publisher);
  }

  /** Resolves once the peer holds `publisher` no more (at once when it does not). */
  whenReleased(publisher: number): Promise<void> {
    const waiters = this.#held.get(publisher);
    if (this.#closed || waiters === undefined) return Promise.resolve();
    return new Promise((resolve) => waiters.push(resolve));
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
    this.#post({ t: "int", seq, ops });
    return new Promise((resolve) => this.#ackWaiters.push({ seq, resolve }));
  }

  #post(message: PeerMessage): void {
    if (!this.#closed) this.#port.postMessage(message);
  }

  // ---- Incoming ----

  #receive(message: PeerMessage): void {
    switch (message.t) {
      case "ev":
        this.#deliver(message.seq, new BatchReader(message.buf, message.len), message.n);
        return;
      case "credit":
        this.#batch.recycle(message.buf);
        this.#credits += message.n;
        this.#creditBytes += message.bytes;
        this.#doneSeq = message.seq;
        if (this.#credits > 0 && this.#creditBytes > 0) release(this.#roomWaiters);
        releaseUpTo(this.#doneWaiters, message.seq);
        return;
      case "hold":
        if (!this.#held.has(message.p)) this.#held.set(message.p, []);
        return;
      case "release": {
        const waiters = this.#held.get(message.p);
        this.#held.delete(message.p);
        if (waiters) release(waiters);
        return;
      }
      case "int": {
        const apply = () => {
          this.#applyInterest(message.ops);
          this.#post({ t: "iack", seq: message.seq });
        };
        // Interest is applied in order; the first pattern waits for the engine to load.
        const needsEngine = !patternEngineLoaded() &&
          message.ops.some(([op]) => op === InterestCode.ADD_PATTERN);
        if (this.#interestChain === undefined && !needsEngine) apply();
        else {
          const chain = (this.#interestChain ?? Promise.resolve())
            .then(() => needsEngine ? loadPatternEngine() : undefined)
            .then(apply);
          this.#interestChain = chain;
          void chain.finally(() => {
            if (this.#interestChain === chain) this.#interestChain = undefined;
          });
        }
        return;
      }
      case "iack":
        releaseUpTo(this.#ackWaiters, message.seq);
        return;
    }
  }

  #applyInterest(ops: InterestOp[]): void {
    const index = this.#host.peerIndex;
    for (const [op, item, group = ""] of ops) {
      switch (op) {
        case InterestCode.ADD_EXACT:
          index.subscribe(this, 0, item, group);
          break;
        case InterestCode.REMOVE_EXACT:
          index.unsubscribe(this, 0, item, group);
          break;
        case InterestCode.ADD_PATTERN:
          // The peer compiled it already: it cannot fail here.
          index.subscribeMatch(this, 0, index.knownPattern(item) ?? compilePattern(item), group);
          break;
        case InterestCode.REMOVE_PATTERN:
          index.unsubscribeMatch(this, 0, item, group);
          break;
      }
    }
  }

  /**
   * Delivers a batch to the local subscribers at once, in order. An event
   * that filled a block-mode queue holds its publisher on the peer until the
   * queue has room again; the credit goes back right away.
   */
  #deliver(seq: number, batch: BatchReader, n: number): void {
    if (this.#closed) return;
    const node = this.#host.node;
    const blocked = this.#blocked;
    let bytes = 0;
    for (let body = batch.next(); body !== undefined; body = batch.next()) {
      bytes += body.length;
      node.deliverForwarded(eventBodySubject(body, this.#subjects), body, blocked, batch.groups);
      if (blocked.length > 0) {
        this.#hold(batch.publisher, whenAllHaveRoom([...blocked]));
        blocked.length = 0;
      }
    }
    this.received += n;
    if (this.#closed) return;
    const credit: PeerMessage = { t: "credit", seq, n, bytes, buf: batch.buffer };
    this.#port.postMessage(credit, [credit.buf]);
  }

  /** Holds the peer's `publisher` until `room` resolves (and every earlier hold of it has). */
  #hold(publisher: number, room: Promise<unknown>): void {
    const pending = this.#holding.get(publisher) ?? 0;
    this.#holding.set(publisher, pending + 1);
    if (pending === 0) this.#post({ t: "hold", p: publisher });
    void room.then(() => {
      const left = this.#holding.get(publisher)! - 1;
      if (left > 0) {
        this.#holding.set(publisher, left);
        return;
      }
      this.#holding.delete(publisher);
      this.#post({ t: "release", p: publisher });
    });
  }

  /** Stops the link; everyone waiting on it is released. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    release(this.#roomWaiters);
    for (const waiters of this.#held.values()) release(waiters);
    this.#held.clear();
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
