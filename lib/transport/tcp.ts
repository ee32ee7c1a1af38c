/**
 * TCP and TLS under Deno: a `Deno.Conn` as a `Transport`, connecting, and
 * listening (with `reusePort` for the dispatch workers). The only module of
 * the transport layer that touches `Deno.*` for sockets.
 */

import { ConnectionClosedError } from "../errors.ts";
import type { Transport } from "./transport.ts";

/** Brackets IPv6 addresses for URIs and `host:port` strings. */
export function formatHost(hostname: string): string {
  return hostname.includes(":") && !hostname.startsWith("[") ? `[${hostname}]` : hostname;
}

/** `host:port` of a socket address, or its transport name. */
export function formatAddr(addr: Deno.Addr): string {
  return addr.transport === "tcp" || addr.transport === "udp"
    ? `${formatHost(addr.hostname)}:${addr.port}`
    : addr.transport;
}

/** A TCP or TLS connection as a `Transport`. */
export class TcpTransport implements Transport {
  readonly remote: string;
  #conn: Deno.Conn;
  #closed = Promise.withResolvers<void>();
  #isClosed = false;

  /** @param conn An open connection; `TcpTransport` owns it from now on. */
  constructor(conn: Deno.Conn) {
    this.#conn = conn;
    this.remote = formatAddr(conn.remoteAddr);
    (conn as Deno.TcpConn).setNoDelay?.(true);
  }

  async read(buffer: Uint8Array): Promise<number | null> {
    try {
      const n = await this.#conn.read(buffer);
      if (n === null) this.close();
      return n;
    } catch (error) {
      this.close();
      throw error;
    }
  }

  write(bytes: Uint8Array): Promise<number> {
    return this.#conn.write(bytes);
  }

  close(): void {
    if (this.#isClosed) return;
    this.#isClosed = true;
    try {
      this.#conn.close();
    } catch {
      // Already closed by the runtime.
    }
    this.#closed.resolve();
  }

  closed(): Promise<void> {
    return this.#closed.promise;
  }
}

/** Options of `connectTcp()`. */
export interface ConnectOptions {
  /** Use TLS. */
  tls?: boolean;
  /** PEM CA certificates to trust for TLS, besides the system's. */
  caCerts?: string[];
  signal?: AbortSignal;
}

/**
 * Connects to `hostname:port`.
 *
 * @param uri The URI being connected to, for error messages.
 * @throws {ConnectionClosedError} saying why it failed.
 */
export async function connectTcp(
  hostname: string,
  port: number,
  uri: string,
  options: ConnectOptions = {},
): Promise<Transport> {
  try {
    const conn = options.tls
      ? await Deno.connectTls({
        hostname,
        port,
        ...(options.caCerts ? { caCerts: options.caCerts } : {}),
        ...(options.signal ? { signal: options.signal } : {}),
      })
      : await Deno.connect({ hostname, port, ...(options.signal ? { signal: options.signal } : {}) });
    return new TcpTransport(conn);
  } catch (cause) {
    const why = (cause as Error).name === "ConnectionRefused"
      ? "connection refused"
      : (cause as Error).message;
    throw new ConnectionClosedError(`Cannot connect to ${uri}: ${why}`, { cause });
  }
}

/** Certificate and key, PEM text. */
export interface TlsMaterial {
  cert: string;
  key: string;
}

/** A listener of either kind; servers treat both as sources of byte streams. */
export type Listener = Deno.TcpListener | Deno.TlsListener;

/**
 * Listens on `hostname:port`, with TLS when `tls` is given; `reusePort` lets
 * several threads listen on the same port.
 *
 * @throws {Deno.errors.AddrInUse} when the port is taken; `Error` for an unusable certificate.
 */
export function listenTcp(
  hostname: string,
  port: number,
  tls?: TlsMaterial,
  reusePort = false,
): Listener {
  if (tls === undefined) return Deno.listen({ hostname, port, reusePort });
  try {
    return Deno.listenTls({ hostname, port, reusePort, cert: tls.cert, key: tls.key });
  } catch (error) {
    if (error instanceof Deno.errors.AddrInUse) throw error;
    throw new Error(
      `Cannot listen with TLS on ${hostname}:${port}: ${
        (error as Error).message
      } (is the certificate/key pair valid PEM?)`,
      { cause: error },
    );
  }
}

/**
 * Reads a certificate and key from files (for the command line).
 *
 * @throws {Error} naming the file that could not be read.
 */
export function readTlsFiles(certPath: string, keyPath: string): TlsMaterial {
  const read = (path: string, what: string): string => {
    try {
      return Deno.readTextFileSync(path);
    } catch (error) {
      throw new Error(
        `Cannot read the TLS ${what} ${JSON.stringify(path)}: ${(error as Error).message}`,
      );
    }
  };
  return { cert: read(certPath, "certificate"), key: read(keyPath, "key") };
}
