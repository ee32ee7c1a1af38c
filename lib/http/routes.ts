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
  info: Deno.ServeHandlerInfo,
) => Response | Promise<Response>;

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
 * Makes the request handler of the HTTP side of an event server.
 *
 * @example
 * ```ts
 * Deno.serve({ port: 0 }, createHandler(host));
 * ```
 */
export function createHandler(
  host: HttpHost,
): (request: Request, info: Deno.ServeHandlerInfo) => Response | Promise<Response> {
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
