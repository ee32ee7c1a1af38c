/**
 * The client side of the name registry: a proxy that sends NS_* requests
 * over an ordinary es connection.
 */

import { ErrorCode, FrameType } from "../protocol/constants.ts";
import { ClientConnection } from "./connection.ts";
import { ConnectionClosedError, NamingError, ProtocolError } from "../errors.ts";
import { DEFAULT_NS_URI, readEnv } from "./options.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Options of `locateNameServer()`. */
export interface LocateOptions {
  /** `ns://host:port`; else env `ES_NS`, else `ns://127.0.0.1:9090`. */
  nsURI?: string | undefined;
  /** Passphrase; else env `ES_IDENT`. */
  ident?: string | undefined;
  /** How long connecting may take, in milliseconds. Default 10000. */
  connectTimeoutMs?: number | undefined;
  /** PEM CA certificates to trust for `ns+tls://`. */
  caCerts?: string[];
}

/**
 * A connection to a name server, made by `locateNameServer()`.
 *
 * @example
 * ```ts
 * await using names = await locateNameServer();
 * await names.register("quotes", "es://127.0.0.1:7800"); // lasts while `names` is open
 * console.log(await names.list("quo")); // { quotes: "es://127.0.0.1:7800" }
 * ```
 */
export class NameServerProxy implements AsyncDisposable {
  /** The name server's `ns://` URI. */
  readonly uri: string;
  #connection: ClientConnection;

  /** @internal Use `locateNameServer()`. */
  constructor(connection: ClientConnection) {
    this.#connection = connection;
    this.uri = connection.uri;
  }

  async #call(type: FrameType, body: string): Promise<string> {
    try {
      return decoder.decode(await this.#connection.bodyRequest(type, encoder.encode(body)));
    } catch (error) {
      if (error instanceof ProtocolError && error.code === ErrorCode.NAMING) {
        throw new NamingError(error.message, { cause: error });
      }
      throw error;
    }
  }

  /**
   * Registers `name` for `uri`; the entry lasts while this connection does.
   *
   * @throws {NamingError} when a live connection holds the name and `replace` is false.
   */
  async register(name: string, uri: string, options: { replace?: boolean } = {}): Promise<void> {
    await this.#call(
      FrameType.NS_REGISTER,
      JSON.stringify({ name, uri, replace: options.replace ?? false }),
    );
  }

  /**
   * Looks `name` up.
   *
   * @returns The URI registered for `name`.
   * @throws {NamingError} for an unknown name.
   */
  resolve(name: string): Promise<string> {
    return this.#call(FrameType.NS_RESOLVE, name);
  }

  /**
   * Removes this connection's registration of `name`; unknown names are ignored.
   *
   * @throws {NamingError} when the name is registered by another live connection.
   */
  async unregister(name: string): Promise<void> {
    await this.#call(FrameType.NS_UNREGISTER, name);
  }

  /** Every registration whose name starts with `prefix`, fetched page by page. */
  async list(prefix = ""): Promise<Record<string, string>> {
    const names: Record<string, string> = {};
    let after = "";
    // The registry is bounded (10,000 names), and each page moves past the last.
    for (let page = 0; page < 100_000; page++) {
      const body = after === "" ? prefix : `${prefix}\0${after}`;
      const reply = JSON.parse(await this.#call(FrameType.NS_LIST, body)) as {
        names: Record<string, string>;
        next: string | null;
      };
      Object.assign(names, reply.names);
      if (reply.next === null || reply.next <= after) return names;
      after = reply.next;
    }
    return names;
  }

  /** Round trip to the name server. */
  async ping(): Promise<void> {
    await this.#connection.flush();
  }

  /** Resolves when the connection to the name server ends. */
  get closed(): Promise<Error | undefined> {
    return this.#connection.closed;
  }

  /** Closes the connection; the names it registered are removed. Idempotent. */
  close(): Promise<void> {
    return this.#connection.close();
  }

  /** Closes it (`await using`), as `close()`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/**
 * Connects to the name server.
 *
 * @param options Where the name server is (`nsURI`, else env `ES_NS`, else
 * `ns://127.0.0.1:9090`) and the passphrase.
 * @returns A proxy for its requests; close it when done.
 *
 * @example
 * ```ts
 * await using names = await locateNameServer({ nsURI: "ns://127.0.0.1:9090" });
 * console.log(await names.resolve(EVENTSERVER_NAME)); // es://127.0.0.1:7766
 * ```
 * @throws {NamingError} when no name server answers at the URI.
 * @throws {AuthenticationError} for a missing or wrong passphrase.
 */
export async function locateNameServer(options: LocateOptions = {}): Promise<NameServerProxy> {
  const uri = options.nsURI ?? readEnv("ES_NS") ?? DEFAULT_NS_URI;
  try {
    const connection = await ClientConnection.open(uri, {
      ident: options.ident ?? readEnv("ES_IDENT"),
      clientName: "es-ns-client",
      connectTimeoutMs: options.connectTimeoutMs,
      ...(options.caCerts ? { caCerts: options.caCerts } : {}),
    });
    return new NameServerProxy(connection);
  } catch (error) {
    // Nothing answered, or what answered is not an es server (an AuthenticationError passes).
    if (error instanceof ConnectionClosedError || error instanceof ProtocolError) {
      throw new NamingError(`No name server at ${uri} (is "es serve" or "es ns" running?)`, {
        cause: error,
      });
    }
    throw error;
  }
}
