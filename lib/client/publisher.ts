/** `Publisher`: the original's publisher, for programs that only publish. */

import { LazyConnection } from "./lazy_connection.ts";
import type { ClientOptions } from "./options.ts";
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
export class Publisher implements AsyncDisposable {
  #link: LazyConnection;
  #asyncError: Error | undefined;

  constructor(options: ClientOptions = {}) {
    this.#link = new LazyConnection(options, `es-publisher/${VERSION}`, (connection) => {
      connection.onError = (error) => this.#asyncError ??= error;
    });
  }

  /**
   * Publishes `message` on each of `subjects` (one event per subject, one timestamp).
   * Resolves once the event is handed to the connection; `flush()` confirms it reached the server.
   *
   * @throws {TypeError} for a value the codec cannot carry; nothing is sent.
   * @throws {RangeError} for a message over the frame limit.
   */
  async publish(subjects: string | readonly string[], message: unknown): Promise<void> {
    const connection = await this.#link.get();
    this.#throwAsyncError();
    const wait = connection.publish(subjects, message);
    if (wait !== undefined) await wait;
  }

  /** Resolves once the server has processed everything published before it. */
  async flush(): Promise<void> {
    const connection = await this.#link.get();
    this.#throwAsyncError();
    await connection.flush();
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

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
