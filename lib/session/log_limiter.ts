/**
 * Rate-limited logging for what peers can cause at will (refused frames,
 * refused handshakes): a client sending a million bad frames must not write a
 * million log lines.
 */

/** Lets through at most `perSecond` lines a second and counts the rest. */
export class LogLimiter {
  #perSecond: number;
  #windowStart = 0;
  #used = 0;
  #suppressed = 0;

  /** @param perSecond Lines allowed each second. */
  constructor(perSecond = 10) {
    this.#perSecond = perSecond;
  }

  /**
   * Whether to log one more line now. When a new second begins after
   * suppressed lines, `report` is called first with how many were dropped.
   */
  allow(now: number, report: (suppressed: number) => void): boolean {
    if (now - this.#windowStart >= 1000) {
      if (this.#suppressed > 0) report(this.#suppressed);
      this.#windowStart = now;
      this.#used = 0;
      this.#suppressed = 0;
    }
    if (this.#used < this.#perSecond) {
      this.#used++;
      return true;
    }
    this.#suppressed++;
    return false;
  }
}
