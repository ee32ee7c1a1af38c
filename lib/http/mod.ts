/**
 * The HTTP side of the event server: the dashboard (`/`), the client module
 * by URL (`/client.js`, `/client.d.ts`), browsers and programs over WebSocket
 * (`/ws`), statistics (`/stats`, `/metrics`) and `/healthz`.
 *
 * `createHandler()` makes it a plain `Deno.serve` handler, so it can live in
 * your own server (a Hono or Fresh app, or a bare `Deno.serve`) next to your
 * routes; `startHttpSide()` serves it on a port of its own, as `es serve` does.
 *
 * @example Mount es in your own `Deno.serve`
 * ```ts
 * import { startEventServer } from "@es/es/server";
 * import { createHandler } from "@es/es/http";
 *
 * const server = await startEventServer({ httpPort: false }); // es://127.0.0.1:7766
 * const es = createHandler(server.httpHost);
 * Deno.serve({ hostname: "127.0.0.1", port: 8000 }, (request, info) => {
 *   const { pathname } = new URL(request.url);
 *   if (pathname === "/hello") return new Response("my own route\n");
 *   return es(request, info); // /, /client.js, /ws, /stats, /metrics, /healthz; else 404
 * });
 * ```
 *
 * @module
 */

export { createHandler } from "./routes.ts";
export type { HttpHandler } from "./routes.ts";
export type { HttpHost } from "./host.ts";
export type { MonitoringGuard } from "./monitor_auth.ts";
export { DEFAULT_HEADER_TIMEOUT_MS, startHttpSide } from "./http_side.ts";
export type { HttpSide } from "./http_side.ts";
export type { Transport } from "../transport/transport.ts";
