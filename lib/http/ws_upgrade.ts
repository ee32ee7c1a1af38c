/**
 * `upgradeWebSocket()`, the `Deno.upgradeWebSocket` of es's own HTTP server
 * (lib/http/http1_server.ts): it checks the upgrade request and gives a
 * `Transport` at once; the server sends the 101 response once the handler
 * returns and then hands the socket to that transport.
 */

import type { Transport } from "../transport/transport.ts";
import { WebSocketServerTransport } from "../transport/websocket_server.ts";

/** What the server knows of the connection a request came on. */
export interface UpgradeSlot {
  readonly conn: Deno.Conn;
  upgrade?: { key: string; transport: WebSocketServerTransport; response: Response };
}

const slots = new WeakMap<Request, UpgradeSlot>();

/** The server registers each request it hands to the handler. */
export function watchUpgrades(request: Request, slot: UpgradeSlot): void {
  slots.set(request, slot);
}

/** Whether `request` came through es's own HTTP server (else through `Deno.serve` or another). */
export function cameThroughEsServer(request: Request): boolean {
  return slots.has(request);
}

/** After the handler: the upgrade it asked for with `response`, if any. */
export function takeUpgrade(
  slot: UpgradeSlot,
  response: Response,
): { key: string; transport: WebSocketServerTransport } | undefined {
  const upgrade = slot.upgrade;
  if (upgrade === undefined) return undefined;
  if (upgrade.response === response) return upgrade;
  upgrade.transport.abort(); // upgraded, then answered otherwise
  return undefined;
}

/**
 * Turns a WebSocket upgrade request into a `Transport` and the response that
 * the handler must return.
 *
 * @param remote Where the peer is, for logs (`ws HOST:PORT`).
 * @throws {TypeError} for a request that is not a WebSocket upgrade (or did not come through this server).
 */
export function upgradeWebSocket(
  request: Request,
  remote?: string,
): { transport: Transport; response: Response } {
  const slot = slots.get(request);
  if (slot === undefined) throw new TypeError("The request did not come through es's HTTP server");
  const headers = request.headers;
  const key = headers.get("sec-websocket-key") ?? "";
  if (request.method !== "GET" || headers.get("upgrade")?.toLowerCase() !== "websocket") {
    throw new TypeError("Not a WebSocket upgrade request (GET with upgrade: websocket)");
  }
  if (headers.get("sec-websocket-version") !== "13" || !/^[A-Za-z0-9+/]{22}==$/.test(key)) {
    throw new TypeError(
      `Unsupported WebSocket handshake (version ${
        JSON.stringify(headers.get("sec-websocket-version"))
      }, key ${JSON.stringify(key)})`,
    );
  }
  const transport = new WebSocketServerTransport(slot.conn, remote);
  const response = new Response(null, { status: 200 });
  slot.upgrade = { key, transport, response };
  return { transport, response };
}
