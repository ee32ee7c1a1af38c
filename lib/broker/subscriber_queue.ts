/**
 * The bounded per-subscriber queue on the server, and the writer that drains
 * it to the connection. Events are copied into the queue's own buffer as
 * whole EVENT frames, so a queue holds exactly its bytes and nothing else;
 * they leave in batches, within the credit the client has granted. Control
 * frames (replies, pongs, BYE) go ahead of events and outside the bound.
 */

import { until, WaitList } from "../async/wait_list.ts";
import { eventFrameBytes, writeEventFrame } from "../protocol/frames/event.ts";
import { MISSED_FRAME_BYTES, missedAt, writeMissed } from "../protocol/frames/control.ts";
import { UNLIMITED } from "../protocol/constants.ts";
import type { QueueBudget } from "./queue_budget.ts";
import { LatestStore } from "./latest_store.ts";
import { ControlFrames } from "./control_frames.ts";
import type { QueueLimits, Target, WriteFn } from "./target.ts";

export type { Blocker, OverflowPolicy, QueueLimits, Target, WriteFn } from "./target.ts";

const EMPTY = new Uint8Array(0);
/** Smallest buffer a queue allocates. */
const MIN_BUFFER_BYTES = 4096;
/** Largest write assembled from queued events. */
const MAX_BATCH_BYTES = 64 * 1024;

/**
 * A subscriber's queue and the loop that writes it.
 *
 * @example
 * ```ts
 * const queue = new SubscriberQueue((bytes) => writeAll(conn, bytes),
 *   { capacity: 1000, maxBytes: 8 << 20, policy: "block" });
 * if (!queue.deliver(sids, body)) await queue.whenRoom();
 * ```
 */
export class SubscriberQueue implements Target {
  /** Events handed to the connection. */
  delivered = 0;
  /** Events dropped because the queue was full (drop policies). */
  dropped = 0;
  /**
   * Moment (ms) the queue became full in block mode, or 0: it is reset only
   * once the queue drains to half, so a subscriber that takes one event at a
   * time from a full queue counts as full (the slow-consumer timeout).
   */
  fullSince = 0;

  #limits!: QueueLimits;
  #budget: QueueBudget | undefined;
  #write: WriteFn;
  #onWriteError: ((error: unknown) => void) | undefined;
  // Queued EVENT frames: bytes [head, tail) of buf; ends[i] is where event i ends.
  #buf: Uint8Array = EMPTY;
  #head = 0;
  #tail = 0;
  #ends: number[] = [];
  #endsHead = 0;
  /** Drops to report before the next event queued (drop-new) or sent (drop-old). */
  #missedTail = 0;
  #missedHead = 0;
  /** Under the latest policy, the events wait here instead (one per subject). */
  #latest: LatestStore | undefined;
  #controls = new ControlFrames();
  #creditEvents = Infinity;
  #creditBytes = Infinity;
  /** The buffer a write in flight is reading from: it must not move. */
  #inFlight: Uint8Array | undefined;
  /**
   * The previous buffer, kept once its write completes: a busy queue swaps
   * between two buffers instead of allocating one each time it wraps while
   * a write is in flight (garbage outside the heap, which V8 collects late).
   */
  #spare: Uint8Array | undefined;
  /** An event arrived since the last `trim()`. */
  #used = false;
  #writing = false;
  #closed = false;
  #room = new WaitList();
  #idle = new WaitList();

  /**
   * @param write Writes bytes to the subscriber; the queue awaits each write.
   * @param onWriteError Called once if a write fails (the connection is gone).
   * @param budget The node's total of queued bytes, which this queue counts in.
   */
  constructor(
    write: WriteFn,
    limits: QueueLimits,
    onWriteError?: (error: unknown) => void,
    budget?: QueueBudget,
  ) {
    this.#write = write;
    this.#onWriteError = onWriteError;
    this.#budget = budget;
    this.configure(limits);
  }

  /** Current sizes and policy. */
  get limits(): Readonly<QueueLimits> {
    return this.#limits;
  }

  /** Changes sizes and policy (the client chooses them in its handshake, before any event). */
  configure(limits: QueueLimits): void {
    this.#limits = { ...limits };
    if (limits.policy === "latest") this.#latest ??= new LatestStore(this.#budget);
  }

  /** Events waiting. */
  get depth(): number {
    return this.#ends.length - this.#endsHead + (this.#latest?.depth ?? 0);
  }

  /** Bytes of events waiting. */
  get bytes(): number {
    return this.#tail - this.#head + (this.#latest?.bytes ?? 0);
  }

  /** Bytes of control frames waiting. */
  get controlBytes(): number {
    return this.#controls.bytes;
  }

  /** True once closed. */
  get closed(): boolean {
    return this.#closed;
  }

  #full(extraBytes: number): boolean {
    const { capacity, maxBytes } = this.#limits;
    const bytes = this.#tail - this.#head;
    return this.#ends.length - this.#endsHead >= capacity || bytes + extraBytes > maxBytes ||
      (this.#budget !== undefined && this.#budget.refuses(bytes, extraBytes));
  }

  /** The queue's bytes moved by `delta` (in the node's total too). */
  #counted(delta: number): void {
    if (this.#budget !== undefined) this.#budget.used += delta;
  }

  deliver(sids: Uint8Array, body: Uint8Array, key?: string): boolean {
    if (this.#closed) return true;
    const policy = this.#limits.policy;
    if (policy === "latest") {
      this.dropped += this.#latest!.put(key, sids, body, this.#limits);
      if (!this.#writing) void this.#drain();
      return true;
    }
    const size = eventFrameBytes(sids, body);
    if (policy !== "block" && this.#full(size)) {
      if (policy === "drop-new" || !this.#dropOldest(size)) {
        this.dropped++;
        this.#missedTail++;
        if (this.#budget?.refuses(this.#tail - this.#head, size)) this.#budget.dropped++;
        return true;
      }
    }
    const notice = this.#missedTail > 0 ? MISSED_FRAME_BYTES : 0;
    this.#counted(size + notice);
    let at = this.#reserve(size + notice);
    if (notice > 0) {
      at = writeMissed(this.#buf, at, this.#missedTail);
      this.#missedTail = 0;
    }
    this.#tail = writeEventFrame(this.#buf, at, sids, body);
    this.#ends.push(this.#tail);
    this.#used = true;
    if (!this.#writing) void this.#drain();
    if (policy === "block" && this.#full(0)) {
      if (this.fullSince === 0) this.fullSince = Date.now();
      return false;
    }
    return true;
  }

  deliverOrDrop(sids: Uint8Array, body: Uint8Array, key?: string): boolean {
    if (this.#limits.policy !== "block" || !this.#full(eventFrameBytes(sids, body))) {
      const before = this.dropped;
      this.deliver(sids, body, key);
      return this.dropped === before;
    }
    if (this.#closed) return true;
    this.dropped++;
    this.#missedTail++;
    return false;
  }

  /** drop-old: drops queued events from the head until `size` more bytes fit; false if they cannot. */
  #dropOldest(size: number): boolean {
    if (size > this.#limits.maxBytes) return false;
    while (this.depth > 0 && this.#full(size)) {
      // A notice in front of the dropped event is not lost: its count moves to the head.
      this.#missedHead += 1 + missedAt(this.#buf, this.#head, this.#tail);
      const end = this.#ends[this.#endsHead++]!;
      this.#counted(this.#head - end);
      this.#head = end;
      this.dropped++;
    }
    return !this.#full(size);
  }

  hasRoom(): boolean {
    const latest = this.#latest;
    return !this.#closed && (latest ? latest.depth < this.#limits.capacity : !this.#full(0));
  }

  whenRoom(): Promise<void> {
    if (this.#closed || !this.#full(0)) return Promise.resolve();
    return this.#room.wait();
  }

  /** Queues a control frame: ahead of events, outside the bound and the credit. */
  control(frame: Uint8Array): void {
    if (this.#closed) return;
    this.#controls.push(frame);
    if (!this.#writing) void this.#drain();
  }

  /**
   * Sets the client's flow-control window (`UNLIMITED` for none): how many
   * events and bytes may be sent before it grants more with `credit()`.
   */
  setWindow(events: number, bytes: number): void {
    this.#creditEvents = events === UNLIMITED ? Infinity : events;
    this.#creditBytes = bytes === UNLIMITED ? Infinity : bytes;
  }

  /** The client took events off its buffer: that many more may be sent. */
  credit(events: number, bytes: number): void {
    this.#creditEvents += events;
    this.#creditBytes += bytes;
    if (!this.#writing && this.depth > 0) void this.#drain();
  }

  /**
   * Lets the buffers go if no event arrived since the previous call and none
   * waits: the watchdog calls it every tick, so a busy queue keeps its
   * buffers (no allocation per burst) and an idle one holds none.
   */
  trim(): void {
    if (!this.#used && !this.#writing && this.#head === this.#tail) {
      this.#buf = EMPTY;
      this.#spare = undefined;
      this.#head = this.#tail = 0;
    }
    this.#used = false;
  }

  /** Stops the queue: pending frames are forgotten and waiting publishers released. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#counted(this.#head - this.#tail);
    this.#buf = EMPTY;
    this.#spare = undefined;
    this.#head = this.#tail = 0;
    this.#ends = [];
    this.#endsHead = 0;
    this.#latest?.clear();
    this.#controls.clear();
    this.fullSince = 0;
    this.#room.release();
    this.#idle.release();
  }

  /**
   * Resolves true once everything queued has been written (events as far as
   * the client's credit allows), false after `timeoutMs`.
   */
  drained(timeoutMs = Infinity): Promise<boolean> {
    return until(this.#idle, () => this.#settled(), timeoutMs);
  }

  /** Closed, or not writing with nothing that may be written. */
  #settled(): boolean {
    return this.#closed || (!this.#writing && !this.#controls.pending &&
      !(this.depth > 0 && this.#creditEvents > 0 && this.#creditBytes > 0));
  }

  /** Room for `n` more bytes at the tail; returns where they go. */
  #reserve(n: number): number {
    const buf = this.#buf;
    if (this.#tail + n <= buf.length) return this.#tail;
    const live = this.#tail - this.#head;
    const shift = this.#head;
    if (this.#inFlight !== buf && live + n <= buf.length && shift > 0) {
      buf.copyWithin(0, this.#head, this.#tail);
    } else {
      let size = Math.max(MIN_BUFFER_BYTES, buf.length);
      while (size < live + n) size *= 2;
      const spare = this.#spare;
      const next = spare !== undefined && spare.length === size ? spare : new Uint8Array(size);
      this.#spare = undefined;
      next.set(buf.subarray(this.#head, this.#tail));
      this.#buf = next;
    }
    const ends = this.#ends;
    for (let i = this.#endsHead; i < ends.length; i++) ends[i]! -= shift;
    this.#head = 0;
    this.#tail = live;
    return live;
  }

  /** Takes what may be written now: every control frame, else events within credit. */
  #take(): Uint8Array | null {
    const controls = this.#controls.take();
    if (controls !== null) return controls;
    if (this.#latest !== undefined) return this.#takeLatest();
    if (this.depth === 0 || this.#creditEvents <= 0 || this.#creditBytes <= 0) return null;
    const ends = this.#ends;
    const start = this.#head;
    const limit = Math.min(MAX_BATCH_BYTES, this.#creditBytes);
    let i = this.#endsHead;
    let end = ends[i++]!;
    let count = 1;
    while (i < ends.length && count < this.#creditEvents && ends[i]! - start <= limit) {
      end = ends[i++]!;
      count++;
    }
    let batch = this.#buf.subarray(start, end);
    if (this.#missedHead > 0) {
      const withNotice = new Uint8Array(MISSED_FRAME_BYTES + batch.length);
      withNotice.set(batch, writeMissed(withNotice, 0, this.#missedHead));
      this.#missedHead = 0;
      batch = withNotice;
    } else {
      this.#inFlight = this.#buf;
    }
    this.#counted(start - end);
    this.#head = end;
    this.#endsHead = i;
    this.#creditEvents -= count;
    this.#creditBytes -= end - start;
    this.delivered += count;
    if (this.#endsHead === ends.length) {
      ends.length = 0;
      this.#endsHead = 0;
    } else if (this.#endsHead > 4096 && this.#endsHead * 2 > ends.length) {
      this.#ends = ends.slice(this.#endsHead);
      this.#endsHead = 0;
    }
    if (!this.#full(0)) this.#room.release();
    // A queue that drains a little and fills again is still full: only below half is it not.
    if (this.depth <= this.#limits.capacity / 2 && this.bytes <= this.#limits.maxBytes / 2) {
      this.fullSince = 0;
    }
    return batch;
  }

  #takeLatest(): Uint8Array | null {
    const limit = Math.min(MAX_BATCH_BYTES, this.#creditBytes);
    const batch = this.#latest!.take(this.#creditEvents, limit);
    if (batch === undefined) return null;
    this.#creditEvents -= batch.count;
    this.#creditBytes -= batch.eventBytes;
    this.delivered += batch.count;
    return batch.bytes;
  }

  async #drain(): Promise<void> {
    this.#writing = true;
    try {
      let batch: Uint8Array | null;
      while (!this.#closed && (batch = this.#take()) !== null) {
        await this.#write(batch);
        const sent = this.#inFlight;
        this.#inFlight = undefined;
        if (sent !== undefined && sent !== this.#buf && sent.length === this.#buf.length) {
          this.#spare = sent;
        }
        // Empty: start over at the front. The buffers stay for the next events; trim() lets them go.
        if (this.#head === this.#tail) this.#head = this.#tail = 0;
      }
    } catch (error) {
      this.close();
      this.#onWriteError?.(error);
    } finally {
      this.#writing = false;
      this.#inFlight = undefined;
      this.#idle.release();
    }
  }
}
