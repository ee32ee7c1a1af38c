/** The HTTP routes: which handler answers which method and path. */

import type { HttpHost } from "./host.ts";
import { clientDeclarations, clientModule } from "./client_module.ts";
import { DASHBOARD_HTML } from "./dashboard_page.ts";
import { MONITORING_PATHS, monitoringRefusal } from "./monitor_auth.ts";
import { serveWebSocket } from "./websocket_endpoint.ts";
import { METRICS_CONTENT_TYPE, type MetricsSource, prometheusText } from "./metrics.ts";

type Route = (
  host: HttpHost,
  request: Request,
  info: Deno.ServeHandlerInfo | undefined,
) => Response | Promise<Response>;

/**
 * A request handler in the shape `Deno.serve` takes. `info` gives the peer's
 * address to the statistics of `/ws` connections; without it they show `ws`.
 */
export type HttpHandler = (request: Request, info?: Deno.ServeHandlerInfo) => Promise<Response>;

function text(body: string, status: number, headers: Record<string, string> = {}): Response {
  return new Response(body, {
    status,
    headers: { "content-type": "text/plain; charset=utf-8", ...headers },
  });
}

const ROUTES: Record<string, Route> = {
  "/": () =>
    new Response(DASHBOARD_HTML, {
      headers: { "content-type": "text/html; charset=utf-8", "cache-control": "no-cache" },
    }),
  "/client.js": (_server, request) => clientModule(request),
  "/client.d.ts": (_server, request) => clientDeclarations(request),
  // No Access-Control-Allow-Origin: pages from other sites may not read what flows here.
  "/stats": async (host) =>
    new Response(JSON.stringify(await host.stats()), {
      headers: { "content-type": "application/json", "cache-control": "no-store" },
    }),
  "/metrics": async (host) =>
    new Response(prometheusText(await host.stats() as MetricsSource), {
      headers: { "content-type": METRICS_CONTENT_TYPE, "cache-control": "no-store" },
    }),
  "/healthz": (host) => {
    const problem = host.unhealthy();
    return problem === undefined
      ? text("ok\n", 200, { "cache-control": "no-store" })
      : text(`unhealthy: ${problem}\n`, 503, { "cache-control": "no-store" });
  },
  "/ws": serveWebSocket,
};

/**
 * Makes the request handler of the HTTP side of an event server, to serve
 * from `Deno.serve` or from any framework that hands over a `Request`.
 *
 * It answers `GET` and `HEAD` on `/` (the dashboard), `/client.js` and
 * `/client.d.ts` (the client module), `/ws` (the protocol over WebSocket, for
 * programs and for pages from allowed origins), `/stats` and `/metrics`
 * (guarded by the monitoring token when the server has one or a passphrase)
 * and `/healthz` (`200 ok`, or `503` naming what cannot accept connections);
 * other paths get `404`, other methods `405`. The paths are at the root: the
 * dashboard loads `/client.js` and `/stats` from its own origin, so do not
 * mount it under a prefix.
 *
 * In `Deno.serve`, `/ws` uses Deno's WebSocket: a peer that sends more than
 * it is read (8 KiB before it has authenticated, four times `maxFrameBytes` after) is cut
 * off with close code 1009, where es's own HTTP server (`startHttpSide()`)
 * leaves it waiting on TCP. `Deno.serve` also has no header timeout.
 *
 * @param host The event server: `EventServer.httpHost`.
 * @returns The handler; it never throws for a request, except that an
 * invalid WebSocket upgrade on `/ws` rejects with `TypeError` (a 500 from
 * `Deno.serve`).
 *
 * @example
 * ```ts
 * import { startEventServer } from "@es/es/server";
 * import { createHandler } from "@es/es/http";
 *
 * await using server = await startEventServer({ port: 0, httpPort: false, nameServer: "none" });
 * await using http = Deno.serve({ hostname: "127.0.0.1", port: 0 }, createHandler(server.httpHost));
 * const health = await fetch(`http://127.0.0.1:${http.addr.port}/healthz`);
 * console.log(await health.text()); // "ok"
 * ```
 */
export function createHandler(host: HttpHost): HttpHandler {
  return async (request, info) => {
    const path = new URL(request.url).pathname;
    const route = Object.hasOwn(ROUTES, path) ? ROUTES[path] : undefined;
    if (route === undefined) return text(`Not found: ${path}\n`, 404);
    if (request.method !== "GET" && request.method !== "HEAD") {
      return text(`Method ${request.method} not allowed on ${path}\n`, 405, {
        allow: "GET, HEAD",
      });
    }
    if (MONITORING_PATHS.has(path)) {
      const refusal = await monitoringRefusal(request, host.monitoring);
      if (refusal !== undefined) return refusal;
    }
    // Deno.serve leaves out the body of answers to HEAD.
    return await route(host, request, info);
  };
}
