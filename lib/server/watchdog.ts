/**
 * One timer per server connection for liveness and slow consumers: it pings a
 * quiet peer, drops a peer silent for two heartbeat intervals, and (block mode
 * with `slowConsumerMs`) drops a subscriber whose queue stayed full too long.
 */

import { getLogger } from "@logtape/logtape";
import { ErrorCode } from "../protocol/constants.ts";
import { PING_FRAME } from "../protocol/frames.ts";
import type { SubscriberQueue } from "../broker/subscriber_queue.ts";
import type { ReliabilityCounters } from "./limits.ts";

const log = getLogger(["es", "server"]);

/** What the watchdog needs from a connection. */
export interface Watched {
  readonly remote: string;
  readonly queue: SubscriberQueue;
  /** Last time a frame arrived from the peer (ms). */
  readonly lastSeen: number;
  /** True once the handshake is done (before it, the handshake timeout rules). */
  readonly ready: boolean;
  /** Ends the connection with a BYE of `code`. */
  close(code?: number, reason?: string): void;
}

/** The watchdog's settings. */
export interface WatchdogOptions {
  heartbeatMs: number;
  /** 0 = off. */
  slowConsumerMs: number;
  counters?: ReliabilityCounters | undefined;
}

/**
 * Starts watching `connection`.
 *
 * @returns A function that stops the timer; call it when the connection ends.
 */
export function startWatchdog(connection: Watched, options: WatchdogOptions): () => void {
  const { heartbeatMs, slowConsumerMs, counters } = options;
  const checks = [heartbeatMs / 2];
  if (slowConsumerMs > 0) checks.push(Math.max(slowConsumerMs / 4, 10));
  const tickMs = Math.max(Math.min(...checks), 10);
  let lastPing = 0;
  let stopped = false;
  const timer = setInterval(() => {
    if (stopped || !connection.ready) return;
    const now = Date.now();
    const queue = connection.queue;
    if (
      slowConsumerMs > 0 && queue.block && queue.fullSince > 0 &&
      now - queue.fullSince >= slowConsumerMs
    ) {
      stop();
      if (counters) counters.slowConsumers++;
      log.warn("Dropping slow consumer {remote}: queue full for {ms} ms", {
        remote: connection.remote,
        ms: now - queue.fullSince,
      });
      connection.close(
        ErrorCode.SLOW_CONSUMER,
        `Slow consumer: your queue of ${queue.capacity} events stayed full for more than ${slowConsumerMs} ms`,
      );
      return;
    }
    const silentMs = now - connection.lastSeen;
    if (silentMs >= 2 * heartbeatMs) {
      stop();
      if (counters) counters.heartbeatTimeouts++;
      log.warn("Dropping {remote}: silent for {ms} ms", {
        remote: connection.remote,
        ms: silentMs,
      });
      connection.close(
        ErrorCode.TIMEOUT,
        `Heartbeat timeout: nothing received for ${silentMs} ms (limit ${2 * heartbeatMs} ms)`,
      );
      return;
    }
    if (silentMs >= heartbeatMs && now - lastPing >= heartbeatMs) {
      lastPing = now;
      queue.control(PING_FRAME);
    }
  }, tickMs);
  Deno.unrefTimer(timer);
  function stop(): void {
    stopped = true;
    clearInterval(timer);
  }
  return stop;
}
