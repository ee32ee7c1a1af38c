/** `Publisher`: the original's publisher, for programs that only publish. */

import { LazyConnection } from "./lazy_connection.ts";
import type { ClientOptions } from "./options.ts";
import { StatusHub, StatusSource } from "./status.ts";
import { VERSION } from "../version.ts";

/**
 * Publishes events. The first call connects.
 *
 * @example
 * ```ts
 * const pub = new Publisher({ esURI: "es://127.0.0.1:7766" });
 * await pub.publish("STOCKQUOTE.SUN", 22.44);
 * await pub.close();
 * ```
 */
export class Publisher extends StatusSource implements AsyncDisposable {
  #link: LazyConnection;
  #asyncError: Error | undefined;

  /**
   * Makes a publisher; it connects on the first `publish()` or `flush()`.
   *
   * @param options Where the server is, the passphrase, reconnects.
   */
  constructor(options: ClientOptions = {}) {
    const hub = new StatusHub();
    super(hub);
    this.#link = new LazyConnection(options, `es-publisher/${VERSION}`, {
      setup: (connection) => {
        connection.onError = (error) => this.#asyncError ??= error;
      },
      lost: (error) => this.#asyncError ??= error,
    }, hub);
  }

  /**
   * Publishes `message` on each of `subjects` (one event per subject, one timestamp).
   * Resolves once the event is handed to the connection (or, while
   * reconnecting, kept in the bounded reconnect buffer); `flush()` confirms it
   * reached the server.
   *
   * @throws {TypeError} for a value the codec cannot carry; nothing is sent.
   * @throws {RangeError} for a message over the frame limit.
   * @throws {ConnectionClosedError} when disconnected and the reconnect buffer is full.
   */
  publish(subjects: string | readonly string[], message: unknown): Promise<void> {
    const error = this.#asyncError;
    if (error) {
      this.#asyncError = undefined;
      return Promise.reject(error);
    }
    return this.#link.publish(subjects, message);
  }

  /**
   * Resolves once the server has processed everything published before it.
   *
   * @throws {ConnectionClosedError} when the connection was lost since the last
   * flush: events published before the loss may not have reached the server.
   */
  async flush(): Promise<void> {
    this.#throwAsyncError();
    await this.#link.flush();
    this.#throwAsyncError();
  }

  #throwAsyncError(): void {
    const error = this.#asyncError;
    if (error) {
      this.#asyncError = undefined;
      throw error;
    }
  }

  /** Sends what is pending and closes. Idempotent. */
  close(): Promise<void> {
    return this.#link.close();
  }

  /** Closes it (`await using`), as `close()`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
