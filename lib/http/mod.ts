/**
 * The HTTP side of the event server: the client module by URL, browsers over
 * WebSocket, statistics and a live dashboard.
 *
 * @module
 */

export { startHttpSide } from "./http_side.ts";
export type { HttpSide } from "./http_side.ts";
export { createHandler } from "./routes.ts";
export type { HttpHost } from "./host.ts";
