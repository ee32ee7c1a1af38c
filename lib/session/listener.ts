/**
 * The accept loop shared by the event server and the name server. It
 * survives running out of file descriptors (`EMFILE`): it logs once, waits,
 * and goes on accepting as descriptors free up, instead of ending.
 */

import { getLogger } from "@logtape/logtape";
import { TcpTransport } from "../transport/tcp.ts";
import type { Listener } from "../transport/tcp_listen.ts";
import type { Transport } from "../transport/transport.ts";

const log = getLogger(["es", "server"]);

/** First wait after a failed accept; doubled up to `MAX_BACKOFF_MS`. */
const MIN_BACKOFF_MS = 20;
const MAX_BACKOFF_MS = 1000;

/**
 * Accepts connections from `listener` until it is closed and hands each to
 * `onConnection`.
 *
 * @example
 * ```ts
 * const loop = new AcceptLoop(Deno.listen({ port: 0 }), (t) => serve(t), "event server");
 * await loop.close();
 * ```
 */
export class AcceptLoop {
  readonly #listener: Listener;
  readonly #done: Promise<void>;
  #closing = false;
  #wake: (() => void) | undefined;
  /** Accepts that failed (descriptors exhausted, mostly). */
  failures = 0;
  /** True while accepting is failing; `/healthz` reports it. */
  failing = false;

  /**
   * @param what Named in log lines ("event server", "name server").
   */
  constructor(listener: Listener, onConnection: (transport: Transport) => void, what: string) {
    this.#listener = listener;
    this.#done = this.#run(onConnection, what);
  }

  async #run(onConnection: (transport: Transport) => void, what: string): Promise<void> {
    let backoff = MIN_BACKOFF_MS;
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
        await this.#sleep(backoff);
        backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
        continue;
      }
      if (this.failing) {
        log.info("The {what} accepts connections again", { what });
        this.failing = false;
      }
      backoff = MIN_BACKOFF_MS;
      onConnection(new TcpTransport(conn));
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
    try {
      this.#listener.close();
    } catch { /* already closed */ }
    return this.#done;
  }
}
