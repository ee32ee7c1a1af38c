/**
 * The client's side of liveness: PING the server when nothing arrived for one
 * heartbeat interval, give up on it when nothing arrived for two. The client
 * always reads (flow control holds events back on the server instead), so
 * silence is always the server's. Browser compatible.
 */

/** Longest heartbeat interval honoured (a quarter of the longest timer delay). */
const MAX_INTERVAL_MS = 2 ** 29;

/** What the heartbeat needs from its connection. */
export interface HeartbeatHost {
  /** Last time bytes arrived from the server (ms). */
  lastReceived(): number;
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
  const timer = setInterval(() => {
    const now = Date.now();
    const silentMs = now - host.lastReceived();
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
