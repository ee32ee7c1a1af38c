/**
 * The connection a client opens on first use: constructors do no I/O, and
 * every operation awaits the same connect.
 */

import { ClientConnection } from "./connection.ts";
import { ConnectionClosedError } from "./errors.ts";
import { type ClientOptions, readEnv } from "./options.ts";
import { resolveEventServer } from "./locate.ts";

/** Opens the event-server connection once, on demand. */
export class LazyConnection {
  #options: ClientOptions;
  #clientName: string;
  #opening: Promise<ClientConnection> | undefined;
  #closed = false;
  #setup: (connection: ClientConnection) => void;

  /** @param setup Wires a fresh connection to its owner (event and error handlers). */
  constructor(
    options: ClientOptions,
    clientName: string,
    setup: (connection: ClientConnection) => void,
  ) {
    this.#options = options;
    this.#clientName = clientName;
    this.#setup = setup;
  }

  /** True once the connection is open (or failed). */
  get started(): boolean {
    return this.#opening !== undefined;
  }

  /** The connection, opening it if needed. */
  get(): Promise<ClientConnection> {
    if (this.#closed) return Promise.reject(new ConnectionClosedError("The client is closed"));
    this.#opening ??= this.#open();
    return this.#opening;
  }

  async #open(): Promise<ClientConnection> {
    const uri = await resolveEventServer(this.#options);
    const connection = await ClientConnection.open(uri, {
      ident: this.#options.ident ?? readEnv("ES_IDENT"),
      clientName: this.#clientName,
      connectTimeoutMs: this.#options.connectTimeoutMs,
    });
    if (this.#closed) {
      await connection.close();
      throw new ConnectionClosedError("The client is closed");
    }
    this.#setup(connection);
    return connection;
  }

  /** Closes the connection if it was opened. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const opening = this.#opening;
    if (!opening) return;
    try {
      await (await opening).close();
    } catch {
      // It never opened: nothing to close.
    }
  }
}
