/**
 * TCP and TLS under Deno, for clients and servers: a `Deno.Conn` as a
 * `Transport`, and connecting. The client bundle includes this module, so it
 * reaches Deno only through `globalThis` (browsers have no `Deno`); listening
 * is in tcp_listen.ts.
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
  // deno-lint-ignore no-explicit-any
  const deno = (globalThis as any).Deno as typeof Deno;
  try {
    const conn = options.tls
      ? await deno.connectTls({
        hostname,
        port,
        ...(options.caCerts ? { caCerts: options.caCerts } : {}),
        ...(options.signal ? { signal: options.signal } : {}),
      })
      : await deno.connect({
        hostname,
        port,
        ...(options.signal ? { signal: options.signal } : {}),
      });
    return new TcpTransport(conn);
  } catch (cause) {
    const why = (cause as Error).name === "ConnectionRefused"
      ? "connection refused"
      : (cause as Error).message;
    throw new ConnectionClosedError(`Cannot connect to ${uri}: ${why}`, { cause });
  }
}
