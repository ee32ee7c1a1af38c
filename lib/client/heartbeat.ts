/**
 * The client's side of liveness: PING the server when nothing arrived for one
 * heartbeat interval, give up on it when nothing arrived for two. Time spent
 * with reading paused by our own back-pressure does not count as silence.
 * Browser compatible.
 */

/** Longest heartbeat interval honoured (a quarter of the longest timer delay). */
const MAX_INTERVAL_MS = 2 ** 29;

/** What the heartbeat needs from its connection. */
export interface HeartbeatHost {
  /** Last time bytes arrived from the server (ms). */
  lastReceived(): number;
  /** True while the read loop waits for the application (back-pressure). */
  paused(): boolean;
  /** Sends a PING frame. */
  ping(): void;
  /** Called once when the server has been silent for two intervals. */
  timedOut(silentMs: number): void;
}

/**
 * Starts the heartbeat timer.
 *
 * @param intervalMs The heartbeat interval (the server's, from HELLO).
 * @returns A function that stops the timer; call it when the connection ends.
 */
export function startHeartbeat(host: HeartbeatHost, intervalMs: number): () => void {
  // Timers take at most 2^31-1 ms; an interval that long means "practically never".
  if (!(intervalMs > 0) || intervalMs > MAX_INTERVAL_MS) return () => {};
  let lastPing = 0;
  let pausedUntil = 0;
  const timer = setInterval(() => {
    const now = Date.now();
    if (host.paused()) {
      // Silence while we are not reading is ours, not the server's; but the
      // server must still hear from us, or it would take us for dead.
      pausedUntil = now;
      if (now - lastPing >= intervalMs) {
        lastPing = now;
        host.ping();
      }
      return;
    }
    const silentMs = now - Math.max(host.lastReceived(), pausedUntil);
    if (silentMs >= 2 * intervalMs) {
      clearInterval(timer);
      host.timedOut(silentMs);
      return;
    }
    if (silentMs >= intervalMs && now - lastPing >= intervalMs) {
      lastPing = now;
      host.ping();
    }
  }, Math.max(Math.floor(intervalMs / 4), 10));
  return () => clearInterval(timer);
}
