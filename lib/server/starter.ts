/** `EventServiceStarter`: the original's way to run the event server inside your own program. */

import { type EventServer, startEventServer } from "./event_server.ts";
import type { EventServerOptions } from "./options.ts";

/**
 * Starts and stops an event server (and its embedded name server) on demand.
 * The constructor does no I/O; `start()` does.
 *
 * @example
 * ```ts
 * await using starter = new EventServiceStarter({ port: 0, nsPort: 0, httpPort: false });
 * void starter.start();
 * if (!await starter.waitUntilStarted(5000)) throw new Error("no event server");
 * console.log(starter.server!.uri);
 * ```
 */
export class EventServiceStarter implements AsyncDisposable {
  readonly #options: EventServerOptions;
  #starting: Promise<EventServer> | undefined;
  #server: EventServer | undefined;
  #started = Promise.withResolvers<boolean>();

  /**
   * Keeps the options for `start()`; no I/O.
   *
   * @param options As for `startEventServer()` (checked when `start()` runs).
   */
  constructor(options: EventServerOptions = {}) {
    this.#options = { ...options };
  }

  /** The running server once `start()` has resolved, else `undefined`. */
  get server(): EventServer | undefined {
    return this.#server;
  }

  /**
   * Starts the server. Calling it again while running does nothing.
   *
   * @throws What `startEventServer()` throws (port taken, name held by another server…).
   */
  async start(): Promise<void> {
    if (this.#starting === undefined) {
      this.#starting = startEventServer(this.#options);
      this.#starting.then(
        (server) => {
          this.#server = server;
          this.#started.resolve(true);
        },
        () => {
          this.#starting = undefined;
          this.#started.resolve(false);
          this.#started = Promise.withResolvers<boolean>();
        },
      );
    }
    await this.#starting;
  }

  /**
   * Waits until the server runs.
   *
   * @param timeoutMs Longest wait; without it, waits until `start()` settles.
   * @returns `true` once started; `false` on timeout or when starting failed.
   */
  async waitUntilStarted(timeoutMs?: number): Promise<boolean> {
    if (this.#server !== undefined) return true;
    if (timeoutMs === undefined) return await this.#started.promise;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
    });
    try {
      return await Promise.race([this.#started.promise, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Stops the server if it runs (after a pending start). Idempotent. */
  async shutdown(): Promise<void> {
    const starting = this.#starting;
    if (starting === undefined) return;
    let server: EventServer;
    try {
      server = await starting;
    } catch {
      return;
    }
    this.#starting = undefined;
    this.#server = undefined;
    this.#started = Promise.withResolvers<boolean>();
    await server.close();
  }

  /** Stops it (`await using`), as `shutdown()`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.shutdown();
  }
}
