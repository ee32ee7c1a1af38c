/**
 * Client options and URIs. Environment variables are read only where the
 * runtime grants access to them, so this module also runs in browsers and in
 * Deno without `--allow-env`.
 */

import type { ReconnectOptions } from "./reconnect.ts";

/**
 * What the server does with events for a client whose queue is full (SPEC §6):
 * `"block"` holds the publishers (only where the server's default is block),
 * `"drop-new"` drops the newest event, `"drop-old"` drops the oldest queued one,
 * `"latest"` keeps one queued event per subject, the newest (conflation).
 */
export type Overflow = "block" | "drop-new" | "drop-old" | "latest";

/** Options shared by every client. */
export interface ClientOptions {
  /**
   * `es://host:port` of the event server (`ws://host:httpport` or `wss://…` for its
   * WebSocket endpoint), or a comma-separated list of them (the client uses one and
   * moves to the next when it loses it); else env `ES_URL`. Without either the name server is asked; in a
   * browser given no `nsURI`, the client connects to the `/ws` of the server that served
   * `/client.js`.
   */
  esURI?: string;
  /** `ns://host:port` of the name server; else env `ES_NS`, else `ns://127.0.0.1:9090`. */
  nsURI?: string;
  /** Shared passphrase; else env `ES_IDENT`. */
  ident?: string;
  /** How long connecting may take, in milliseconds. Default 10000. */
  connectTimeoutMs?: number;
  /**
   * Reconnect after losing an established connection (default true), restoring
   * every subscription; `false` makes a lost connection final.
   */
  reconnect?: boolean | ReconnectOptions;
  /** PEM CA certificates to trust for `es+tls://` (e.g. a self-signed server certificate). */
  caCerts?: string[];
  /**
   * Events this client buffers for its application; past it the server holds
   * the rest in this client's queue. Default 4096.
   */
  bufferSize?: number;
  /** Bytes of events this client buffers likewise. Default 4 MiB. */
  bufferBytes?: number;
  /** Size of this client's queue on the server. Default: the server's `--queue-size`. */
  queueSize?: number;
  /** What the server does when this client's queue is full. Default: the server's policy. */
  overflow?: Overflow;
}

/** The name under which the event server registers with the name server. */
export const EVENTSERVER_NAME = ":EventService";

/** Where clients look for the name server when told nothing. */
export const DEFAULT_NS_URI = "ns://127.0.0.1:9090";

/** Reads an environment variable if this runtime has them and allows it. */
export function readEnv(name: string): string | undefined {
  try {
    // deno-lint-ignore no-explicit-any
    const deno = (globalThis as any).Deno;
    if (deno?.permissions?.querySync?.({ name: "env", variable: name })?.state !== "granted") {
      return undefined;
    }
    return deno.env.get(name) || undefined;
  } catch {
    return undefined;
  }
}

/** A parsed `scheme://host:port`. */
export interface Endpoint {
  scheme: string;
  hostname: string;
  port: number;
  tls: boolean;
}

/**
 * Parses an `es://`, `ns://`, `es+tls://` or `ns+tls://` URI (also `ws://`, `wss://`).
 *
 * @throws {TypeError} for anything else.
 */
export function parseEndpoint(uri: string, expected: "es" | "ns"): Endpoint {
  const match = /^([a-z+]+):\/\/(\[[^\]]+\]|[^:/\[\]]+):(\d{1,5})\/?$/i.exec(uri);
  const scheme = match?.[1]?.toLowerCase();
  const valid = scheme === expected || scheme === `${expected}+tls` ||
    (expected === "es" && (scheme === "ws" || scheme === "wss"));
  const port = Number(match?.[3]);
  if (!match || !valid || port > 65535) {
    throw new TypeError(
      `Invalid ${expected} URI ${JSON.stringify(uri)}: expected ${expected}://HOST:PORT`,
    );
  }
  const hostname = match[2]!.replace(/^\[(.*)\]$/, "$1");
  return { scheme: scheme!, hostname, port, tls: scheme!.endsWith("tls") || scheme === "wss" };
}
