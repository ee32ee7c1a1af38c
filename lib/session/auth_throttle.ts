/**
 * Slows down guessing the passphrase. After a few refused handshakes from one
 * host, every further handshake from it, right or wrong, waits before it is
 * judged (longer with each refusal, up to a limit), and only a few of them
 * wait at a time while the rest queue behind. So an early READY does not give
 * a right guess away, and opening many connections at once does not multiply
 * the guesses. The refusals are counted in a fixed table of shared memory, so
 * that every dispatch thread of a server counts the same ones (a guesser's
 * connections land on any of them) and the memory is bounded.
 */

import { WaitList } from "../async/wait_list.ts";

/** Refusals from one host before its handshakes are slowed (a user may mistype a few times). */
const FREE_REFUSALS = 5;
/** First delay, doubled with each further refusal, up to `MAX_DELAY_MS`. */
const BASE_DELAY_MS = 250;
/** Below the handshake timeout and the clients' connect timeout (10 s), so a right passphrase still gets in. */
const MAX_DELAY_MS = 5_000;
/** Handshakes of one slowed host that wait out their delay at the same time; the rest queue. */
const MAX_WAITING = 4;
/** A host's refusals are forgotten this long after its last one. */
const FORGET_SECONDS = 10 * 60;
/** Hosts the table holds; a host whose slot another takes is forgotten. */
const SLOTS = 4096;
/** Int32 fields of a slot: the host's hash, its refusals, its last refusal (s since the epoch). */
const FIELDS = 3;

/** Handshakes of one host waiting on this thread. */
interface Waiting {
  /** All of them, queued or not. */
  members: number;
  /** Those waiting out their delay (the rest queue). */
  count: number;
  line: WaitList;
}

/** FNV-1a: a host's 32-bit hash, its key in the table. */
function hashOf(host: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < host.length; i++) {
    hash ^= host.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash | 0;
}

/** The wait before judging the handshake that follows `refusals` refusals. */
function delayAfter(refusals: number): number {
  const over = refusals + 1 - FREE_REFUSALS;
  return over <= 0 ? 0 : Math.min(BASE_DELAY_MS * 2 ** (over - 1), MAX_DELAY_MS);
}

/** Resolves true after `ms`, or false as soon as `signal` aborts. */
function sleep(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const abort = () => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", abort);
      resolve(true);
    }, ms);
    signal.addEventListener("abort", abort, { once: true });
  });
}

/** Resolves true when `promise` does, or false as soon as `signal` aborts. */
function unlessAborted(promise: Promise<void>, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const abort = () => resolve(false);
    signal.addEventListener("abort", abort, { once: true });
    void promise.then(() => {
      signal.removeEventListener("abort", abort);
      resolve(true);
    });
  });
}

/**
 * Counts refused handshakes per host and makes the handshakes of a host with
 * too many wait.
 *
 * @example
 * ```ts
 * const throttle = new AuthThrottle();
 * if (await throttle.admit(remote, signal)) {
 *   if (await proofIsRight()) throttle.accepted(remote);
 *   else throttle.refused(remote, Date.now());
 * }
 * ```
 */
export class AuthThrottle {
  /** The table: `SLOTS` slots of `FIELDS` Int32 fields, updated with `Atomics`. */
  readonly #slots: Int32Array;
  /** This thread's waiting handshakes, by host hash (entries live while some wait). */
  readonly #waiting = new Map<number, Waiting>();

  /**
   * @param memory From `AuthThrottle.memory()`, to share the counts with
   * throttles on other threads; by default this throttle's own.
   */
  constructor(memory: SharedArrayBuffer = AuthThrottle.memory()) {
    this.#slots = new Int32Array(memory);
  }

  /** Memory for the counts, to share between threads (96 KiB). */
  static memory(): SharedArrayBuffer {
    return new SharedArrayBuffer(SLOTS * FIELDS * Int32Array.BYTES_PER_ELEMENT);
  }

  /** The host part of `host:port` (IPv6 in brackets included). */
  static host(remote: string): string {
    const at = remote.lastIndexOf(":");
    return at > 0 && !remote.endsWith("]") ? remote.slice(0, at) : remote;
  }

  /** Where `hash` lives in the table. */
  #slot(hash: number): number {
    return ((hash >>> 0) % SLOTS) * FIELDS;
  }

  /** Refusals of the host with `hash` that are not forgotten by `now`. */
  #refusals(hash: number, now: number): number {
    const at = this.#slot(hash);
    if (Atomics.load(this.#slots, at) !== hash) return 0;
    if (now / 1000 - Atomics.load(this.#slots, at + 2) > FORGET_SECONDS) return 0;
    return Atomics.load(this.#slots, at + 1);
  }

  /** How long a handshake from `remote` would wait now before it is judged, in milliseconds. */
  delayMs(remote: string, now: number = Date.now()): number {
    return delayAfter(this.#refusals(hashOf(AuthThrottle.host(remote)), now));
  }

  /**
   * Waits until a handshake from `remote` may be judged: at once for a host
   * with few refusals, else after its delay, queued behind the host's other
   * handshakes waiting on this thread.
   *
   * @returns false when `signal` aborted the wait (the connection ended).
   */
  async admit(remote: string, signal: AbortSignal, now: number = Date.now()): Promise<boolean> {
    const hash = hashOf(AuthThrottle.host(remote));
    if (delayAfter(this.#refusals(hash, now)) === 0) return !signal.aborted;
    let waiting = this.#waiting.get(hash);
    if (waiting === undefined) {
      this.#waiting.set(hash, waiting = { members: 0, count: 0, line: new WaitList() });
    }
    waiting.members++;
    try {
      while (waiting.count >= MAX_WAITING) {
        if (!await unlessAborted(waiting.line.wait(), signal)) return false;
      }
      waiting.count++;
      try {
        return await sleep(delayAfter(this.#refusals(hash, Date.now())), signal);
      } finally {
        waiting.count--;
        waiting.line.release();
      }
    } finally {
      if (--waiting.members === 0) this.#waiting.delete(hash);
    }
  }

  /** Records a refused handshake from `remote` at `now`; returns the host's refusals so far. */
  refused(remote: string, now: number): number {
    const hash = hashOf(AuthThrottle.host(remote));
    const at = this.#slot(hash);
    // A new host, or one forgotten, starts afresh (and takes the slot from whoever had it).
    if (this.#refusals(hash, now) === 0) {
      Atomics.store(this.#slots, at, hash);
      Atomics.store(this.#slots, at + 1, 0);
    }
    Atomics.store(this.#slots, at + 2, Math.floor(now / 1000));
    return Atomics.add(this.#slots, at + 1, 1) + 1;
  }

  /** A successful handshake from `remote` clears its record. */
  accepted(remote: string): void {
    const hash = hashOf(AuthThrottle.host(remote));
    const at = this.#slot(hash);
    if (Atomics.load(this.#slots, at) === hash) Atomics.store(this.#slots, at + 1, 0);
  }
}
