/**
 * The one publish loop every system gets: never awaits a single publish,
 * yields to the event loop every 1,000 publishes (so the client can write and
 * read), then flushes. W3 uses the paced variant, which publishes at a fixed
 * rate with the send time in the payload.
 */

import { setImmediate } from "node:timers";
import type { BenchConnection } from "./clients.ts";
import {
  AT_PHASE,
  AT_PUBLISHER,
  AT_SENT,
  AT_SEQ,
  AT_SLOT,
  nowMs,
  PAYLOAD_BYTES,
} from "./protocol.ts";

/** Publishes between two yields to the event loop. */
export const YIELD_EVERY = 1000;
/** Timer tick of the paced loop; events that fell due during a tick go out together. */
const PACE_TICK_MS = 1;

/** setImmediate, not setTimeout(0): Deno clamps nested zero timeouts to milliseconds. */
function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * Hands out fresh 64-byte payloads: clients may keep a reference until they write,
 * so a payload is never reused. Slices of a shared chunk cost far less than
 * `new Uint8Array(64)` each.
 */
class Payloads {
  #chunk = new Uint8Array(0);
  #at = 0;
  readonly #publisherId: number;

  constructor(publisherId: number) {
    this.#publisherId = publisherId;
  }

  next(seq: number, measured: boolean, slot: number): Uint8Array {
    if (this.#at === this.#chunk.length) {
      this.#chunk = new Uint8Array(PAYLOAD_BYTES * YIELD_EVERY);
      this.#at = 0;
    }
    const p = this.#chunk.subarray(this.#at, this.#at + PAYLOAD_BYTES);
    this.#at += PAYLOAD_BYTES;
    p[AT_SEQ] = seq >>> 24;
    p[AT_SEQ + 1] = (seq >>> 16) & 0xff;
    p[AT_SEQ + 2] = (seq >>> 8) & 0xff;
    p[AT_SEQ + 3] = seq & 0xff;
    p[AT_PUBLISHER] = this.#publisherId;
    p[AT_PHASE] = measured ? 1 : 0;
    p[AT_SLOT] = slot & 0xff;
    return p;
  }
}

/** Publishes `warm` then `count` events round-robin over `subjects`, then flushes. */
export async function publishLoop(
  conn: BenchConnection,
  subjects: string[],
  warm: number,
  count: number,
  publisherId: number,
): Promise<void> {
  const payloads = new Payloads(publisherId);
  const k = subjects.length;
  const total = warm + count;
  for (let i = 0; i < total; i++) {
    const subject = i % k;
    conn.publish(subjects[subject]!, payloads.next(i, i >= warm, subject));
    if ((i + 1) % YIELD_EVERY === 0) await yieldToEventLoop();
  }
  await conn.flush();
}

/**
 * Publishes `warm` then `count` events at `ratePerSec`, each stamped with its send
 * time; on every timer tick it publishes the events that have fallen due.
 */
export async function pacedLoop(
  conn: BenchConnection,
  subject: string,
  warm: number,
  count: number,
  publisherId: number,
  ratePerSec: number,
): Promise<void> {
  const payloads = new Payloads(publisherId);
  const total = warm + count;
  const start = performance.now();
  let sent = 0;
  while (sent < total) {
    const due = Math.min(total, Math.floor((performance.now() - start) * ratePerSec / 1000) + 1);
    for (; sent < due; sent++) {
      const p = payloads.next(sent, sent >= warm, 0);
      new DataView(p.buffer, p.byteOffset, PAYLOAD_BYTES).setFloat64(AT_SENT, nowMs());
      conn.publish(subject, p);
    }
    await new Promise((resolve) => setTimeout(resolve, PACE_TICK_MS));
  }
  await conn.flush();
}
