/**
 * The bounded, per-subscriber queue on the server. Events wait here until the
 * subscriber's connection can take them; control frames (replies, pongs) go
 * ahead of events and never count against the bound.
 */

/** Where a queue's bytes go: a connection's `writeAll`, or a test's array. */
export type WriteFn = (bytes: Uint8Array) => Promise<void>;

/** The queue's options. */
export interface QueueOptions {
  /** Most events waiting at once. */
  capacity: number;
  /** Full queue: true = hold publishers (nothing lost); false = drop new events. */
  block: boolean;
  /** Largest write, in bytes, that the writer assembles from queued frames. */
  maxBatchBytes?: number;
}

/** Anything the broker can deliver an event frame to. */
export interface Target {
  /**
   * Queues one event frame.
   *
   * @returns false when the target is now full in block mode: the caller must
   * wait for `whenRoom()` before it offers more.
   */
  deliver(frame: Uint8Array): boolean;
  /** Resolves once the target has room again. */
  whenRoom(): Promise<void>;
}

const DEFAULT_MAX_BATCH_BYTES = 256 * 1024;

/** A subscriber's queue and the loop that writes it to the connection. */
export class SubscriberQueue implements Target {
  readonly capacity: number;
  readonly block: boolean;
  /** Events handed to the connection. */
  delivered = 0;
  /** Events refused because the queue was full (drop mode). */
  dropped = 0;
  /** Moment (ms) the queue last became full, or 0 while it has room. */
  fullSince = 0;

  #events: Uint8Array[] = [];
  #head = 0;
  #controls: Uint8Array[] = [];
  #write: WriteFn;
  #writing = false;
  #closed = false;
  /** Publishers waiting for room (made when the first one waits). */
  #roomWaiters: (() => void)[] | undefined;
  #maxBatchBytes: number;
  #failure: ((error: unknown) => void) | undefined;

  /**
   * @param write Writes bytes to the subscriber; the queue awaits each write.
   * @param onWriteError Called once if a write fails (the connection is gone).
   */
  constructor(write: WriteFn, options: QueueOptions, onWriteError?: (error: unknown) => void) {
    this.#write = write;
    this.capacity = options.capacity;
    this.block = options.block;
    this.#maxBatchBytes = options.maxBatchBytes ?? DEFAULT_MAX_BATCH_BYTES;
    this.#failure = onWriteError;
  }

  /** Events waiting in the queue. */
  get depth(): number {
    return this.#events.length - this.#head;
  }

  deliver(frame: Uint8Array): boolean {
    if (this.#closed) return true;
    const depth = this.depth;
    if (depth >= this.capacity) {
      if (!this.block) {
        this.dropped++;
        return true;
      }
    }
    this.#events.push(frame);
    if (!this.#writing) this.#drain();
    if (depth + 1 >= this.capacity) {
      if (this.fullSince === 0) this.fullSince = Date.now();
      return !this.block;
    }
    return true;
  }

  whenRoom(): Promise<void> {
    if (this.#closed || this.depth < this.capacity) return Promise.resolve();
    return new Promise((resolve) => (this.#roomWaiters ??= []).push(resolve));
  }

  /** Queues a control frame: ahead of events, outside the bound. */
  control(frame: Uint8Array): void {
    if (this.#closed) return;
    this.#controls.push(frame);
    if (!this.#writing) this.#drain();
  }

  /** Stops the queue: pending frames are forgotten and waiting publishers released. */
  close(): void {
    this.#closed = true;
    this.#events = [];
    this.#head = 0;
    this.#controls = [];
    this.#releaseWaiters();
  }

  /** Resolves once everything queued so far has been written (or the queue closed). */
  async drained(timeoutMs = Infinity): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!this.#closed && (this.#writing || this.depth > 0 || this.#controls.length > 0)) {
      if (Date.now() >= deadline) return false;
      await new Promise((r) => setTimeout(r, 5));
    }
    return true;
  }

  #releaseWaiters(): void {
    this.fullSince = 0;
    const waiters = this.#roomWaiters;
    if (waiters === undefined) return;
    this.#roomWaiters = undefined;
    for (const resolve of waiters) resolve();
  }

  /** Takes frames off the queue into one buffer, up to the batch size. */
  #takeBatch(): Uint8Array | null {
    const controls = this.#controls;
    const events = this.#events;
    if (controls.length === 0 && this.#head === events.length) return null;
    // One frame alone needs no copy.
    if (controls.length === 0 && events.length - this.#head === 1) {
      const only = events[this.#head]!;
      this.#taken(1);
      return only;
    }
    if (controls.length === 1 && this.#head === events.length) {
      // A fresh array: the old one's grown backing store would stay with an idle connection.
      this.#controls = [];
      return controls[0]!;
    }
    let bytes = 0;
    for (const c of controls) bytes += c.length;
    let end = this.#head;
    while (end < events.length) {
      const next = events[end]!.length;
      if (bytes + next > this.#maxBatchBytes && bytes > 0) break;
      bytes += next;
      end++;
    }
    const batch = new Uint8Array(bytes);
    let at = 0;
    for (const c of controls) {
      batch.set(c, at);
      at += c.length;
    }
    this.#controls = [];
    for (let i = this.#head; i < end; i++) {
      const frame = events[i]!;
      batch.set(frame, at);
      at += frame.length;
    }
    this.#taken(end - this.#head);
    return batch;
  }

  #taken(count: number): void {
    this.#head += count;
    this.delivered += count;
    const events = this.#events;
    if (this.#head === events.length) {
      events.length = 0;
      this.#head = 0;
    } else if (this.#head > 4096 && this.#head * 2 > events.length) {
      this.#events = events.slice(this.#head);
      this.#head = 0;
    }
    if (this.#roomWaiters !== undefined && this.depth < this.capacity) this.#releaseWaiters();
    else if (this.depth < this.capacity) this.fullSince = 0;
  }

  async #drain(): Promise<void> {
    this.#writing = true;
    try {
      let batch: Uint8Array | null;
      while (!this.#closed && (batch = this.#takeBatch()) !== null) {
        await this.#write(batch);
      }
    } catch (error) {
      this.close();
      this.#failure?.(error);
    } finally {
      this.#writing = false;
    }
  }
}
