/**
 * Opening a transport to an event server or name server: TCP (or TLS) under
 * Deno, WebSocket in browsers or when the URI says `ws://`.
 */

import { connectTcp } from "../transport/tcp.ts";
import type { Transport } from "../transport/transport.ts";
import { openWebSocket } from "../transport/websocket.ts";
import type { Endpoint } from "./options.ts";

/** Extra options for opening a transport. */
export interface OpenOptions {
  /** PEM CA certificates to trust for TLS, besides the system's. */
  caCerts?: string[];
  signal?: AbortSignal;
}

/**
 * Opens a byte stream to `endpoint`.
 *
 * @throws {ConnectionClosedError} when it cannot connect.
 */
export function openTransport(
  endpoint: Endpoint,
  uri: string,
  options: OpenOptions = {},
): Promise<Transport> {
  // deno-lint-ignore no-explicit-any
  const hasTcp = (globalThis as any).Deno?.connect !== undefined;
  if (endpoint.scheme === "ws" || endpoint.scheme === "wss" || !hasTcp) {
    const host = endpoint.hostname.includes(":") ? `[${endpoint.hostname}]` : endpoint.hostname;
    const url = endpoint.scheme.startsWith("ws")
      ? uri.replace(/\/?$/, "/ws")
      : `${endpoint.tls ? "wss" : "ws"}://${host}:${endpoint.port}/ws`;
    return openWebSocket(url, options.signal);
  }
  return connectTcp(endpoint.hostname, endpoint.port, uri, {
    tls: endpoint.tls,
    ...(options.caCerts ? { caCerts: options.caCerts } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
  });
}
