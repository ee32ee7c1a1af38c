/** The HTTP side of an event server: `Deno.serve` on its own port, stopped with the server. */

import { getLogger } from "@logtape/logtape";
import type { HttpHost } from "./host.ts";
import { createHandler } from "./routes.ts";

const log = getLogger(["es", "http"]);

/** How long closing waits for open HTTP requests before it moves on. */
const SHUTDOWN_WAIT_MS = 2_000;

/** A running HTTP side. */
export interface HttpSide {
  /** The real port (also when asked for port 0). */
  readonly port: number;
  /** Stops serving (open requests get a moment to finish). */
  close(): Promise<void>;
}

/**
 * Starts serving HTTP for `host` on `hostname:port`.
 *
 * @throws {Deno.errors.AddrInUse} when the port is taken.
 */
export function startHttpSide(host: HttpHost, hostname: string, port: number): HttpSide {
  const http = Deno.serve({
    hostname,
    port,
    onListen: () => {},
    onError: (error) => {
      log.error("HTTP request failed: {error}", { error: String(error) });
      return new Response("Internal server error\n", { status: 500 });
    },
  }, createHandler(host));
  log.debug("HTTP on port {port}", { port: http.addr.port });
  return {
    port: http.addr.port,
    async close() {
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        http.shutdown(),
        new Promise((resolve) => timer = setTimeout(resolve, SHUTDOWN_WAIT_MS)),
      ]);
      clearTimeout(timer);
    },
  };
}
