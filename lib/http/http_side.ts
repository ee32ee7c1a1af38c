/**
 * The HTTP side of an event server: es's own HTTP/1.1 server on its own port
 * (see http1_server.ts for why not `Deno.serve`), stopped with the server.
 */

import { getLogger } from "@logtape/logtape";
import type { HttpHost } from "./host.ts";
import { serveHttp1 } from "./http1_server.ts";
import { createHandler } from "./routes.ts";

const log = getLogger(["es", "http"]);

/** Default time a request's head gets to arrive (and an idle connection to send one). */
export const DEFAULT_HEADER_TIMEOUT_MS = 10_000;

/** A running HTTP side. */
export interface HttpSide {
  /** The real port (also when asked for port 0). */
  readonly port: number;
  /** True while the HTTP side cannot accept connections (descriptors exhausted). */
  readonly acceptFailing: boolean;
  /** Stops serving (open requests get a moment to finish). */
  close(): Promise<void>;
}

/**
 * Starts serving HTTP for `host` on `hostname:port` with es's own HTTP/1.1
 * server (a header timeout, an accept loop that survives running out of
 * descriptors, `/ws` held by TCP back-pressure), as `es serve` does.
 *
 * @example
 * ```ts
 * await using server = await startEventServer({ port: 0, httpPort: false, nameServer: "none" });
 * const http = startHttpSide(server.httpHost, "127.0.0.1", 0);
 * console.log(`dashboard: http://127.0.0.1:${http.port}/`);
 * await http.close();
 * ```
 *
 * @param host The event server: `EventServer.httpHost`.
 * @param hostname The interface to listen on.
 * @param port The TCP port; 0 takes any free port (read it from `port` of the result).
 * @param headerTimeoutMs Time a request's head gets to arrive, in milliseconds; past it the
 * socket is closed. Default 10000.
 * @throws {Deno.errors.AddrInUse} when the port is taken.
 */
export function startHttpSide(
  host: HttpHost,
  hostname: string,
  port: number,
  headerTimeoutMs = DEFAULT_HEADER_TIMEOUT_MS,
): HttpSide {
  const http = serveHttp1({
    hostname,
    port,
    headerTimeoutMs,
    onError: () => new Response("Internal server error\n", { status: 500 }),
  }, createHandler(host));
  log.debug("HTTP on port {port}", { port: http.port });
  return http;
}
