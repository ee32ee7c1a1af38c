/** The HTTP side of an event server: `Deno.serve` on `httpPort`, stopped with the server. */

import { getLogger } from "@logtape/logtape";
import type { EventServer } from "../server/event_server.ts";
import { createHandler } from "./routes.ts";

const log = getLogger(["es", "http"]);

/** How long closing waits for open HTTP requests before it moves on. */
const SHUTDOWN_WAIT_MS = 2_000;

/**
 * Starts serving HTTP on `server.options.httpPort` (on the event server's
 * hostname) unless it is `false`; sets `server.httpPort` to the real port and
 * stops with `server.close()`.
 *
 * @throws {Deno.errors.AddrInUse} when the port is taken.
 */
export function startHttpSide(server: EventServer): void {
  const port = server.options.httpPort;
  if (port === false) return;
  const http = Deno.serve({
    hostname: server.options.hostname,
    port,
    onListen: () => {},
    onError: (error) => {
      log.error("HTTP request failed: {error}", { error: String(error) });
      return new Response("Internal server error\n", { status: 500 });
    },
  }, createHandler(server));
  server.httpPort = http.addr.port;
  log.debug("HTTP on port {port}", { port: http.addr.port });
  server.onClose.push(async () => {
    const stopped = http.shutdown();
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      stopped,
      new Promise((resolve) => timer = setTimeout(resolve, SHUTDOWN_WAIT_MS)),
    ]);
    clearTimeout(timer);
  });
}
