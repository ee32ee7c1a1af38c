/**
 * `GET /ws`: upgrades the request to a WebSocket and serves the event
 * protocol over it, exactly as over TCP (handshake, passphrase, queues, order).
 */

import { formatHost } from "../transport/tcp.ts";
import type { HttpHost } from "./host.ts";
import { upgradeWebSocket } from "./ws_upgrade.ts";

/** The address of the peer, as the statistics show it (`ws HOST:PORT`). */
function describePeer(info: Deno.ServeHandlerInfo): string {
  const addr = info.remoteAddr;
  return addr.transport === "tcp" ? `ws ${formatHost(addr.hostname)}:${addr.port}` : "ws";
}

/** Answers a `/ws` request: 426 without an upgrade, else the protocol over the socket. */
export function serveWebSocket(
  host: HttpHost,
  request: Request,
  info: Deno.ServeHandlerInfo,
): Response {
  if (request.headers.get("upgrade")?.toLowerCase() !== "websocket") {
    return new Response("This endpoint speaks the es protocol over WebSocket only.\n", {
      status: 426,
      headers: { "content-type": "text/plain; charset=utf-8", upgrade: "websocket" },
    });
  }
  // Reads come straight off the socket: a peer the server does not read is held by TCP.
  const { transport, response } = upgradeWebSocket(request, describePeer(info));
  host.serve(transport);
  return response;
}
