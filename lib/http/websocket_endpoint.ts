/**
 * `GET /ws`: upgrades the request to a WebSocket and serves the event
 * protocol over it, exactly as over TCP (handshake, passphrase, queues, order),
 * to programs and to pages from allowed origins.
 */

import { formatHost } from "../transport/tcp.ts";
import type { HttpHost } from "./host.ts";
import { originAllowed } from "./origin.ts";
import { upgradeWebSocket } from "./ws_upgrade.ts";

/** The address of the peer, as the statistics show it (`ws HOST:PORT`). */
function describePeer(info: Deno.ServeHandlerInfo): string {
  const addr = info.remoteAddr;
  return addr.transport === "tcp" ? `ws ${formatHost(addr.hostname)}:${addr.port}` : "ws";
}

/**
 * Answers a `/ws` request: 426 without an upgrade, 403 for a page from an
 * origin not allowed, else the protocol over the socket.
 */
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
  if (!originAllowed(request, host.allowOrigins)) {
    const origin = request.headers.get("origin");
    return new Response(
      `Pages from ${
        JSON.stringify(origin)
      } may not open /ws on this server (allow the origin with --allow-origin)\n`,
      { status: 403, headers: { "content-type": "text/plain; charset=utf-8" } },
    );
  }
  // Reads come straight off the socket: a peer the server does not read (a stranger past
  // its CONNECT, or a publisher held by block mode) is held by TCP; the server buffers nothing.
  const { transport, response } = upgradeWebSocket(request, describePeer(info));
  host.serve(transport);
  return response;
}
