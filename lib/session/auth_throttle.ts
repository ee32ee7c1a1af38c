/**
 * Slows down guessing: after a few refused handshakes from one host, each
 * further refusal from it waits before it is sent, doubling up to a limit.
 * The memory it takes is bounded by the number of hosts it remembers.
 */

/** Refusals from one host before they are slowed. */
const FREE_REFUSALS = 3;
/** First delay, doubled with each further refusal, up to `MAX_DELAY_MS`. */
const BASE_DELAY_MS = 250;
const MAX_DELAY_MS = 10_000;
/** A host's refusals are forgotten this long after its last one. */
const FORGET_MS = 10 * 60_000;
/** Most hosts remembered; past it the oldest is forgotten. */
const MAX_HOSTS = 10_000;

/** Counts refused handshakes per host. */
export class AuthThrottle {
  #hosts = new Map<string, { refusals: number; last: number }>();

  /** The host part of `host:port` (IPv6 in brackets included). */
  static host(remote: string): string {
    const at = remote.lastIndexOf(":");
    return at > 0 && !remote.endsWith("]") ? remote.slice(0, at) : remote;
  }

  /**
   * Records a refusal from `remote` at `now`.
   *
   * @returns How long to wait before sending it, in milliseconds.
   */
  refused(remote: string, now: number): number {
    const host = AuthThrottle.host(remote);
    let entry = this.#hosts.get(host);
    if (entry === undefined || now - entry.last > FORGET_MS) entry = { refusals: 0, last: now };
    this.#hosts.delete(host);
    entry.refusals++;
    entry.last = now;
    this.#hosts.set(host, entry);
    if (this.#hosts.size > MAX_HOSTS) this.#hosts.delete(this.#hosts.keys().next().value!);
    const over = entry.refusals - FREE_REFUSALS;
    return over <= 0 ? 0 : Math.min(BASE_DELAY_MS * 2 ** (over - 1), MAX_DELAY_MS);
  }

  /** A successful handshake from `remote` clears its record. */
  accepted(remote: string): void {
    this.#hosts.delete(AuthThrottle.host(remote));
  }
}
