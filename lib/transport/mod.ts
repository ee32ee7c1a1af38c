/**
 * Transports: the byte streams the protocol runs over (TCP and TLS,
 * WebSocket, an in-memory pair for tests).
 *
 * @module
 */

export { type Transport, writeAll } from "./transport.ts";
export { memoryPair } from "./memory.ts";
export { openWebSocket, WebSocketTransport } from "./websocket.ts";
export type { WebSocketTransportOptions } from "./websocket.ts";
