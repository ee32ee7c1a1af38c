/**
 * One timer per server (not per connection) for liveness and slow consumers:
 * each sweep over the watched connections ends handshakes that took too long,
 * pings a quiet peer (and a held one, which is not read but must not take the
 * server for dead), drops a peer silent for two heartbeat intervals, and
 * (block mode with `slowConsumerMs`) drops a subscriber whose queue stayed
 * full too long. Idle connections thus cost no timer of their own.
 */

import { getLogger } from "@logtape/logtape";
import { ErrorCode } from "../protocol/constants.ts";
import { PING_FRAME } from "../protocol/frames/control.ts";
import type { SubscriberQueue } from "../broker/subscriber_queue.ts";
import type { ReliabilityCounters } from "./counters.ts";

const log = getLogger(["es", "server"]);

/** Time a client has to answer HELLO. */
export const HANDSHAKE_TIMEOUT_MS = 10_000;
/** Longest time between sweeps, so that handshake timeouts stay close to their limit. */
const MAX_TICK_MS = 1000;

/** What the watchdog needs from a connection. */
export interface Watched {
  readonly remote: string;
  readonly queue: SubscriberQueue;
  /** Moment (ms) the connection was accepted. */
  readonly connectedAt: number;
  /** Last time a frame arrived from the peer (ms). */
  readonly lastSeen: number;
  /** Last time the watchdog pinged the peer (ms), 0 if never; the watchdog sets it. */
  lastPing: number;
  /** True once the handshake is done (before it, the handshake timeout rules). */
  readonly ready: boolean;
  /**
   * True while the server itself is not reading the peer (its publish waits
   * for room in a full queue): its silence then is ours, not its own.
   */
  readonly held: boolean;
  /** Ends the connection with a BYE of `code`. */
  close(code?: number, reason?: string): void;
  /** Refuses a client that did not finish the handshake in time. */
  handshakeTimedOut(): void;
}

/** The watchdog's settings. */
export interface WatchdogOptions {
  heartbeatMs: number;
  /** 0 = off. */
  slowConsumerMs: number;
  counters?: ReliabilityCounters | undefined;
}

/**
 * Watches a set of connections with one shared interval timer, running only
 * while any is watched. One per server, handed to its sessions.
 *
 * @example
 * ```ts
 * const watchdog = new Watchdog({ heartbeatMs: 30_000, slowConsumerMs: 0 });
 * watchdog.add(session); // … watchdog.delete(session) when it ends
 * ```
 */
export class Watchdog {
  readonly #options: WatchdogOptions;
  readonly #tickMs: number;
  readonly #watched = new Set<Watched>();
  #timer: ReturnType<typeof setInterval> | undefined;

  constructor(options: WatchdogOptions) {
    this.#options = options;
    const { heartbeatMs, slowConsumerMs } = options;
    const checks = [heartbeatMs / 2, MAX_TICK_MS];
    if (slowConsumerMs > 0) checks.push(Math.max(slowConsumerMs / 4, 10));
    this.#tickMs = Math.max(Math.min(...checks), 10);
  }

  /** Connections being watched. */
  get size(): number {
    return this.#watched.size;
  }

  /** Starts watching `connection` (and the timer, if it is the first). */
  add(connection: Watched): void {
    this.#watched.add(connection);
    if (this.#timer === undefined) {
      this.#timer = setInterval(() => this.sweep(Date.now()), this.#tickMs);
      Deno.unrefTimer(this.#timer);
    }
  }

  /** Stops watching `connection` (and the timer, if none is left). */
  delete(connection: Watched): void {
    this.#watched.delete(connection);
    if (this.#watched.size === 0 && this.#timer !== undefined) {
      clearInterval(this.#timer);
      this.#timer = undefined;
    }
  }

  /** Checks every watched connection once, as of `now` (ms). */
  sweep(now: number): void {
    for (const connection of this.#watched) this.#check(connection, now);
  }

  #check(connection: Watched, now: number): void {
    if (!connection.ready) {
      if (now - connection.connectedAt >= HANDSHAKE_TIMEOUT_MS) {
        this.delete(connection);
        connection.handshakeTimedOut();
      }
      return;
    }
    const { heartbeatMs, slowConsumerMs, counters } = this.#options;
    const queue = connection.queue;
    if (
      slowConsumerMs > 0 && queue.limits.policy === "block" && queue.fullSince > 0 &&
      now - queue.fullSince >= slowConsumerMs
    ) {
      this.delete(connection);
      if (counters) counters.slowConsumers++;
      log.warn("Dropping slow consumer {remote}: queue full for {ms} ms", {
        remote: connection.remote,
        ms: now - queue.fullSince,
      });
      connection.close(
        ErrorCode.SLOW_CONSUMER,
        `Slow consumer: your queue of ${queue.limits.capacity} events stayed full for more than ${slowConsumerMs} ms`,
      );
      return;
    }
    const silentMs = connection.held ? 0 : now - connection.lastSeen;
    // A held peer is pinged all the same: we do not read it, but its client must hear from us.
    const quiet = connection.held || silentMs >= heartbeatMs;
    if (silentMs >= 2 * heartbeatMs) {
      this.delete(connection);
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
    if (quiet && now - connection.lastPing >= heartbeatMs) {
      connection.lastPing = now;
      queue.control(PING_FRAME);
    }
    queue.trim();
  }
}
