/**
 * The accept loop of every listener of es (event server, name server, HTTP
 * side). It survives running out of file descriptors (`EMFILE`): it logs
 * once, waits, and goes on accepting as descriptors free up, instead of
 * ending (Deno.serve's own loop ends the process on `EMFILE`).
 */

import { getLogger } from "@logtape/logtape";
import type { Listener } from "./tcp_listen.ts";

const log = getLogger(["es", "server"]);

/** First wait after a failed accept; doubled up to `MAX_BACKOFF_MS`. */
const MIN_BACKOFF_MS = 20;
const MAX_BACKOFF_MS = 1000;

/** Options of `ConnAcceptLoop`. */
export interface AcceptLoopOptions {
  /** Named in log lines ("event server", "HTTP side"). */
  what: string;
  /**
   * Keep one descriptor in reserve and give it up to accept one connection
   * while descriptors are exhausted (so `/healthz` can still answer).
   */
  reserve?: boolean;
}

/**
 * Accepts connections from `listener` until it is closed and hands each to
 * `onConnection`.
 *
 * @example
 * ```ts
 * const loop = new ConnAcceptLoop(Deno.listen({ port: 0 }), (c) => serve(c), { what: "HTTP side" });
 * await loop.close();
 * ```
 */
export class ConnAcceptLoop {
  readonly #listener: Listener;
  readonly #done: Promise<void>;
  #closing = false;
  #wake: (() => void) | undefined;
  #reserve: boolean;
  #spare: Deno.Listener | undefined;
  /** Accepts that failed (descriptors exhausted, mostly). */
  failures = 0;
  /** True while accepting is failing; `/healthz` reports it. */
  failing = false;

  constructor(
    listener: Listener,
    onConnection: (conn: Deno.Conn) => void,
    options: AcceptLoopOptions,
  ) {
    this.#listener = listener;
    this.#reserve = options.reserve ?? false;
    if (this.#reserve) this.#takeSpare();
    this.#done = this.#run(onConnection, options.what);
  }

  #takeSpare(): void {
    try {
      this.#spare ??= Deno.listen({ hostname: "127.0.0.1", port: 0 });
    } catch {
      // Still no descriptor free: try again after the next accept.
    }
  }

  #releaseSpare(): boolean {
    if (this.#spare === undefined) return false;
    try {
      this.#spare.close();
    } catch { /* already closed */ }
    this.#spare = undefined;
    return true;
  }

  async #run(onConnection: (conn: Deno.Conn) => void, what: string): Promise<void> {
    let backoff = MIN_BACKOFF_MS;
    let usedSpare = false;
    while (!this.#closing) {
      let conn: Deno.Conn;
      try {
        conn = await this.#listener.accept();
      } catch (error) {
        if (this.#closing || error instanceof Deno.errors.BadResource) return;
        this.failures++;
        if (!this.failing) {
          log.error("The {what} cannot accept connections: {error}; retrying", {
            what,
            error: String(error),
          });
        }
        this.failing = true;
        // The reserved descriptor makes room for one connection at once.
        if (!usedSpare && this.#releaseSpare()) {
          usedSpare = true;
          continue;
        }
        usedSpare = false;
        await this.#sleep(backoff);
        if (this.#reserve) this.#takeSpare();
        backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
        continue;
      }
      if (this.failing && !usedSpare) {
        log.info("The {what} accepts connections again", { what });
        this.failing = false;
      }
      usedSpare = false;
      backoff = MIN_BACKOFF_MS;
      onConnection(conn);
      if (this.#reserve && this.#spare === undefined) this.#takeSpare();
    }
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.#wake = done;
    });
  }

  /** Stops accepting; resolves once the loop has ended. */
  close(): Promise<void> {
    this.#closing = true;
    this.#wake?.();
    this.#releaseSpare();
    try {
      this.#listener.close();
    } catch { /* already closed */ }
    return this.#done;
  }
}
