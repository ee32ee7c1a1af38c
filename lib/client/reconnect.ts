/**
 * Reconnect policy: options, the pluggable backoff, and the bounded buffer of
 * publishes made while disconnected. Browser compatible.
 */

import { ConnectionClosedError } from "../errors.ts";

/**
 * Milliseconds to wait before reconnect attempt `attempt` (1, 2, …).
 *
 * @example
 * ```ts
 * const fixed: Backoff = () => 500;
 * ```
 */
export type Backoff = (attempt: number) => number;

/** How a client reconnects after losing its connection. */
export interface ReconnectOptions {
  /** Attempts before giving up (then operations fail and `listen()` rejects). Default 20. */
  maxAttempts?: number;
  /** Delay before each attempt. Default `exponentialBackoff()`: 100 ms doubling to 2 s, with jitter. */
  backoff?: Backoff;
  /**
   * Bytes of publishes kept while disconnected, sent after reconnecting; past
   * it `publish()` rejects. Default 8 MiB.
   */
  bufferBytes?: number;
}

/** Reconnect options with every default filled in; `undefined` means reconnect is off. */
export interface ResolvedReconnect {
  maxAttempts: number;
  backoff: Backoff;
  bufferBytes: number;
}

/**
 * Exponential backoff with jitter: `baseMs * 2^(attempt-1)` capped at
 * `maxMs`, each delay drawn between `1 - jitter` of it and all of it so that
 * many clients do not come back in step.
 *
 * @param options `baseMs` (default 100) and `maxMs` (default 2000) in
 * milliseconds; `jitter`, the share of each delay left to chance, from 0 to 1
 * (default 0.5).
 * @returns A `Backoff`: milliseconds to wait before attempt `attempt` (1, 2, …).
 *
 * @example
 * ```ts
 * const client = await connect({
 *   esURI: "es://127.0.0.1:7766",
 *   reconnect: { backoff: exponentialBackoff({ baseMs: 250, maxMs: 10_000 }) },
 * });
 * ```
 */
export function exponentialBackoff(
  options: { baseMs?: number; maxMs?: number; jitter?: number } = {},
): Backoff {
  const baseMs = options.baseMs ?? 100;
  const maxMs = options.maxMs ?? 2000;
  const jitter = options.jitter ?? 0.5;
  return (attempt) => {
    const cap = Math.min(maxMs, baseMs * 2 ** Math.min(attempt - 1, 30));
    return Math.round(cap * (1 - jitter * Math.random()));
  };
}

/** Fills in the defaults; `false` gives `undefined`. */
export function resolveReconnect(
  option: boolean | ReconnectOptions | undefined,
): ResolvedReconnect | undefined {
  if (option === false) return undefined;
  const o = option === true || option === undefined ? {} : option;
  const maxAttempts = o.maxAttempts ?? 20;
  if (!(maxAttempts >= 1)) {
    throw new RangeError(`Invalid reconnect.maxAttempts ${maxAttempts}: must be at least 1`);
  }
  return {
    maxAttempts,
    backoff: o.backoff ?? exponentialBackoff(),
    bufferBytes: o.bufferBytes ?? 8 * 1024 * 1024,
  };
}

/** Publish frames made while disconnected, in order, up to a byte bound. */
export class PublishBuffer {
  readonly maxBytes: number;
  #frames: Uint8Array[] = [];
  #bytes = 0;

  constructor(maxBytes: number) {
    this.maxBytes = maxBytes;
  }

  /** Frames waiting. */
  get size(): number {
    return this.#frames.length;
  }

  /**
   * Keeps a frame for later.
   *
   * @throws {ConnectionClosedError} when it would go over the bound; nothing is kept.
   */
  add(frame: Uint8Array, uri: string): void {
    if (this.#bytes + frame.length > this.maxBytes) {
      throw new ConnectionClosedError(
        `Cannot publish: disconnected from ${uri} and the reconnect buffer is full (${this.#frames.length} events, ${this.#bytes} of ${this.maxBytes} bytes); the event was not sent`,
      );
    }
    this.#frames.push(frame);
    this.#bytes += frame.length;
  }

  /** Takes every frame, oldest first. */
  take(): Uint8Array[] {
    const frames = this.#frames;
    this.#frames = [];
    this.#bytes = 0;
    return frames;
  }
}
