/**
 * What a subscriber connection does with each event: count it, check its
 * publisher's sequence, time the first and last measured delivery and, in W3,
 * the one-way latency. Kept cheap because it runs once per delivery, the same
 * code for every system.
 */

import {
  AT_PHASE,
  AT_PUBLISHER,
  AT_SENT,
  AT_SEQ,
  AT_SLOT,
  type LatencyReport,
  nowMs,
  type SubReport,
} from "./protocol.ts";

/** Reading the clock costs ~80 ns in Deno, so the running "last" is stamped this often. */
const STAMP_EVERY = 1024;

/** Counts one connection's deliveries. */
export class Sink {
  readonly expected: number;
  count = 0;
  warm = 0;
  disorder = 0;
  firstMs = 0;
  lastMs = 0;
  countAtLast = 0;
  /** Last sequence number per publisher (high byte) and subject slot (low byte). */
  readonly #lastSeq = new Int32Array(256 * 256).fill(-1);
  readonly #latencies: Float64Array | undefined;
  readonly #onComplete: () => void;

  constructor(expected: number, latency: boolean, onComplete: () => void) {
    this.expected = expected;
    this.#latencies = latency ? new Float64Array(expected) : undefined;
    this.#onComplete = onComplete;
  }

  readonly on = (p: Uint8Array): void => {
    const seq = ((p[AT_SEQ]! << 24) | (p[AT_SEQ + 1]! << 16) | (p[AT_SEQ + 2]! << 8) |
      p[AT_SEQ + 3]!) >>> 0;
    const stream = (p[AT_PUBLISHER]! << 8) | p[AT_SLOT]!;
    if (seq <= this.#lastSeq[stream]!) this.disorder++;
    this.#lastSeq[stream] = seq;
    if (p[AT_PHASE] === 0) {
      this.warm++;
      return;
    }
    const n = ++this.count;
    if (this.#latencies !== undefined && n <= this.expected) {
      const sent = new DataView(p.buffer, p.byteOffset, p.length).getFloat64(AT_SENT);
      this.#latencies[n - 1] = nowMs() - sent;
    }
    if (n === 1) {
      this.firstMs = nowMs();
    } else if (n === this.expected || (n & (STAMP_EVERY - 1)) === 0) {
      this.lastMs = nowMs();
      this.countAtLast = n;
    }
    if (n === this.expected) this.#onComplete();
  };

  get complete(): boolean {
    return this.count >= this.expected;
  }

  report(): SubReport {
    return {
      count: this.count,
      warm: this.warm,
      disorder: this.disorder,
      firstMs: this.firstMs,
      lastMs: this.lastMs,
      countAtLast: this.countAtLast,
    };
  }

  latency(): LatencyReport | undefined {
    if (this.#latencies === undefined) return undefined;
    const n = Math.min(this.count, this.expected);
    const sorted = this.#latencies.slice(0, n).sort();
    const at = (q: number) => (sorted[Math.min(n - 1, Math.floor(q * n))] ?? NaN) * 1000;
    return { samples: n, p50Us: at(0.5), p99Us: at(0.99), maxUs: (sorted[n - 1] ?? NaN) * 1000 };
  }
}
