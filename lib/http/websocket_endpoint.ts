/**
 * `GET /ws`: upgrades the request to a WebSocket and serves the event
 * protocol over it, exactly as over TCP (handshake, passphrase, queues, order),
 * to programs and to pages from allowed origins.
 */

import { formatHost } from "../transport/tcp.ts";
import { WebSocketTransport } from "../transport/websocket.ts";
import type { HttpHost } from "./host.ts";
import { originAllowed } from "./origin.ts";

/** What a `/ws` peer may send before READY and the server hold: a CONNECT is at most 4 KiB. */
const UNREAD_BYTES_BEFORE_AUTH = 8 * 1024;

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
  // The peer's address is no longer readable once the request is upgraded.
  const remote = describePeer(info);
  const { socket, response } = Deno.upgradeWebSocket(request);
  // WebSocket cannot pause its sender: a peer that sends without waiting is cut off, not
  // buffered; before it has authenticated, past a CONNECT's worth of bytes (4 KiB, twice over).
  host.serve(
    new WebSocketTransport(socket, {
      remote,
      maxUnreadBytes: 4 * host.maxFrameBytes,
      maxUnreadBytesBeforeAuth: UNREAD_BYTES_BEFORE_AUTH,
    }),
  );
  return response;
}
