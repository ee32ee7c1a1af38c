/**
 * Opening a transport to an endpoint: TCP under Deno, WebSocket in browsers
 * (or when the URI says `ws://`). Only this file touches `Deno.*` on the client.
 */

import type { Transport } from "../protocol/transport.ts";
import { ConnectionClosedError } from "./errors.ts";
import type { Endpoint } from "./options.ts";
import { openWebSocket } from "./websocket_transport.ts";

/** Extra options for opening a transport. */
export interface OpenOptions {
  /** PEM CA certificates to trust for TLS, besides the system's. */
  caCerts?: string[];
  signal?: AbortSignal;
}

/** Opens a byte stream to `endpoint`. */
export async function openTransport(
  endpoint: Endpoint,
  uri: string,
  options: OpenOptions = {},
): Promise<Transport> {
  // deno-lint-ignore no-explicit-any
  const deno = (globalThis as any).Deno;
  if (endpoint.scheme === "ws" || endpoint.scheme === "wss" || deno?.connect === undefined) {
    return await openWebSocket(endpoint, uri, options.signal);
  }
  try {
    const connect = endpoint.tls
      ? deno.connectTls({
        hostname: endpoint.hostname,
        port: endpoint.port,
        caCerts: options.caCerts,
        signal: options.signal,
      })
      : deno.connect({ hostname: endpoint.hostname, port: endpoint.port, signal: options.signal });
    const conn = await connect;
    conn.setNoDelay?.(true);
    return conn as Transport;
  } catch (cause) {
    const why = (cause as Error).name === "ConnectionRefused"
      ? "connection refused"
      : (cause as Error).message;
    throw new ConnectionClosedError(`Cannot connect to ${uri}: ${why}`, { cause });
  }
}
