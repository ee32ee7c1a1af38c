/**
 * `GET /ws`: upgrades the request to a WebSocket and serves the event
 * protocol over it, exactly as over TCP (handshake, passphrase, queues, order),
 * to programs and to pages from allowed origins.
 */

import { formatHost } from "../transport/tcp.ts";
import type { Transport } from "../transport/transport.ts";
import { WebSocketTransport } from "../transport/websocket.ts";
import type { HttpHost } from "./host.ts";
import { originAllowed } from "./origin.ts";
import { cameThroughEsServer, upgradeWebSocket } from "./ws_upgrade.ts";

/** What a `/ws` peer under `Deno.serve` may send before READY: a CONNECT is at most 4 KiB. */
const UNREAD_BYTES_BEFORE_AUTH = 8 * 1024;

/** The address of the peer, as the statistics show it (`ws HOST:PORT`). */
function describePeer(info: Deno.ServeHandlerInfo | undefined): string {
  const addr = info?.remoteAddr;
  return addr?.transport === "tcp" ? `ws ${formatHost(addr.hostname)}:${addr.port}` : "ws";
}

/**
 * Answers a `/ws` request: 426 without an upgrade, 403 for a page from an
 * origin not allowed, else the protocol over the socket.
 */
export function serveWebSocket(
  host: HttpHost,
  request: Request,
  info: Deno.ServeHandlerInfo | undefined,
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
  // On es's own server reads come straight off the socket: a peer the server does not read (a
  // stranger past its CONNECT, or a publisher held by block mode) is held by TCP; the server
  // buffers nothing. Elsewhere the WebSocket is Deno's, with bounds instead.
  const { transport, response } = cameThroughEsServer(request)
    ? upgradeWebSocket(request, describePeer(info))
    : upgradeWithDeno(host, request, describePeer(info));
  host.serve(transport);
  return response;
}

/**
 * The upgrade when the handler is mounted in `Deno.serve` (or another server):
 * a `WebSocket` object reads every message as it comes and cannot stop, so a
 * peer that sends without waiting is cut off (close code 1009) past a bound,
 * instead of being held by TCP as on es's own HTTP server.
 *
 * @throws {TypeError} for a request Deno cannot upgrade.
 */
function upgradeWithDeno(
  host: HttpHost,
  request: Request,
  remote: string,
): { transport: Transport; response: Response } {
  const { socket, response } = Deno.upgradeWebSocket(request);
  const transport = new WebSocketTransport(socket, {
    remote,
    maxUnreadBytes: 4 * host.maxFrameBytes,
    maxUnreadBytesBeforeAuth: UNREAD_BYTES_BEFORE_AUTH,
  });
  return { transport, response };
}
