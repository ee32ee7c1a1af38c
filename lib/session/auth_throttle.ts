/**
 * Slows down guessing the passphrase. After a few refused handshakes from one
 * host, every further handshake from it, right or wrong, waits before it is
 * judged (longer with each refusal, up to a limit), and only a few of them
 * wait at a time while the rest queue behind. So an early READY does not give
 * a right guess away, and opening many connections at once does not multiply
 * the guesses. The memory it takes is bounded by the number of hosts it
 * remembers.
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
const FORGET_MS = 10 * 60_000;
/** Most hosts remembered; past it the oldest is forgotten. */
const MAX_HOSTS = 10_000;

interface HostRecord {
  refusals: number;
  /** Time of the last refusal (ms). */
  last: number;
  /** Handshakes waiting out their delay now. */
  waiting: number;
  /** Handshakes queued behind those. */
  line: WaitList;
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
  #hosts = new Map<string, HostRecord>();

  /** The host part of `host:port` (IPv6 in brackets included). */
  static host(remote: string): string {
    const at = remote.lastIndexOf(":");
    return at > 0 && !remote.endsWith("]") ? remote.slice(0, at) : remote;
  }

  /** The record of `remote`'s host, unless there is none or it is forgotten by `now`. */
  #record(remote: string, now: number): HostRecord | undefined {
    const host = AuthThrottle.host(remote);
    const record = this.#hosts.get(host);
    if (record !== undefined && now - record.last > FORGET_MS) {
      this.#hosts.delete(host);
      return undefined;
    }
    return record;
  }

  /** How long a handshake from `remote` would wait now before it is judged, in milliseconds. */
  delayMs(remote: string, now: number = Date.now()): number {
    return delayAfter(this.#record(remote, now)?.refusals ?? 0);
  }

  /**
   * Waits until a handshake from `remote` may be judged: at once for a host
   * with few refusals, else after its delay, queued behind the host's other
   * waiting handshakes.
   *
   * @returns false when `signal` aborted the wait (the connection ended).
   */
  async admit(remote: string, signal: AbortSignal, now: number = Date.now()): Promise<boolean> {
    const record = this.#record(remote, now);
    if (record === undefined || delayAfter(record.refusals) === 0) return !signal.aborted;
    while (record.waiting >= MAX_WAITING) {
      if (!await unlessAborted(record.line.wait(), signal)) return false;
    }
    record.waiting++;
    try {
      return await sleep(delayAfter(record.refusals), signal);
    } finally {
      record.waiting--;
      record.line.release();
    }
  }

  /** Records a refused handshake from `remote` at `now`; returns the host's refusals so far. */
  refused(remote: string, now: number): number {
    const host = AuthThrottle.host(remote);
    const record = this.#record(remote, now) ??
      { refusals: 0, last: now, waiting: 0, line: new WaitList() };
    // Most recently refused last, so that the first in the map is the one to forget.
    this.#hosts.delete(host);
    record.refusals++;
    record.last = now;
    this.#hosts.set(host, record);
    if (this.#hosts.size > MAX_HOSTS) this.#hosts.delete(this.#hosts.keys().next().value!);
    return record.refusals;
  }

  /** A successful handshake from `remote` clears its record. */
  accepted(remote: string): void {
    this.#hosts.delete(AuthThrottle.host(remote));
  }
}
