/**
 * A small HTTP/1.1 server for the HTTP side, in place of `Deno.serve`, which
 * has no header timeout (an incomplete request holds its socket for ever) and
 * whose accept loop ends the process when descriptors run out. Here the
 * accept loop survives `EMFILE` (and keeps a descriptor in reserve so that
 * `/healthz` can still answer), a request's head must arrive within
 * `headerTimeoutMs` (an idle keep-alive connection gets the same time), heads
 * and bodies are bounded, and `/ws` upgrades to a WebSocket whose reads come
 * straight off the socket (see `upgradeWebSocket()`).
 */

import { getLogger } from "@logtape/logtape";
import { ConnAcceptLoop } from "../transport/accept_loop.ts";
import { takeUpgrade, type UpgradeSlot, watchUpgrades } from "./ws_upgrade.ts";

const log = getLogger(["es", "http"]);

/** Largest request head (request line and headers), and body. */
const MAX_HEAD_BYTES = 16 * 1024;
const MAX_BODY_BYTES = 64 * 1024;
/** Time open requests get to finish when the server closes. */
const SHUTDOWN_WAIT_MS = 2_000;
const CRLF2 = [13, 10, 13, 10];

/** Answers one request. */
export type HttpHandler = (
  request: Request,
  info: Deno.ServeHandlerInfo<Deno.NetAddr>,
) => Response | Promise<Response>;

/** Options of `serveHttp1()`. */
export interface Http1Options {
  hostname: string;
  port: number;
  /** A request's head must be in within this; an idle connection is closed after it. */
  headerTimeoutMs: number;
  /** The answer when the handler throws. */
  onError: (error: unknown) => Response;
}

/** A running HTTP server. */
export interface Http1Server {
  readonly port: number;
  /** True while accepting fails (descriptors exhausted). */
  readonly acceptFailing: boolean;
  /** Stops accepting, lets open requests finish (briefly), closes the idle connections. */
  close(): Promise<void>;
}

/** A request the server could not take, answered with `status` before closing. */
class BadRequest extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

/**
 * Serves HTTP/1.1 on `hostname:port` with `handler`.
 *
 * @throws {Deno.errors.AddrInUse} when the port is taken.
 */
export function serveHttp1(options: Http1Options, handler: HttpHandler): Http1Server {
  const listener = Deno.listen({ hostname: options.hostname, port: options.port });
  const port = listener.addr.port;
  const idle = new Set<Deno.Conn>();
  const busy = new Map<Deno.Conn, Promise<void>>();
  let closing = false;

  const serveConn = async (conn: Deno.Conn): Promise<void> => {
    let buf = new Uint8Array(4096);
    let len = 0;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let upgraded = false;
    try {
      while (!closing) {
        idle.add(conn);
        // The head (and body) must arrive in time; closing the socket ends the read.
        timer = setTimeout(() => conn.close(), options.headerTimeoutMs);
        let end = indexOf(buf, len, CRLF2);
        while (end < 0) {
          if (len === MAX_HEAD_BYTES) throw new BadRequest(431, "Request head over 16 KiB");
          if (len === buf.length) buf = grow(buf, Math.min(buf.length * 2, MAX_HEAD_BYTES));
          const n = await conn.read(buf.subarray(len));
          if (n === null) return;
          end = indexOf(buf, len += n, CRLF2);
        }
        const head = parseHead(new TextDecoder().decode(buf.subarray(0, end)));
        let rest = buf.slice(end + 4, len);
        const bodyLength = Number(head.headers.get("content-length") ?? 0);
        if (head.headers.has("transfer-encoding")) {
          throw new BadRequest(501, "Chunked request bodies are not accepted");
        }
        if (!Number.isSafeInteger(bodyLength) || bodyLength < 0) {
          throw new BadRequest(400, "Invalid content-length");
        }
        if (bodyLength > MAX_BODY_BYTES) throw new BadRequest(413, "Request body over 64 KiB");
        while (rest.length < bodyLength) {
          const more = new Uint8Array(bodyLength - rest.length);
          const n = await conn.read(more);
          if (n === null) return;
          rest = concat(rest, more.subarray(0, n));
        }
        clearTimeout(timer);
        idle.delete(conn);
        const body = rest.subarray(0, bodyLength);
        buf = grow(rest.subarray(bodyLength), 4096);
        len = rest.length - bodyLength;
        const done = Promise.withResolvers<void>();
        busy.set(conn, done.promise);
        try {
          const slot: UpgradeSlot = { conn };
          const response = await answer(head, body, slot, conn, port, handler, options.onError);
          const upgrade = takeUpgrade(slot, response);
          if (upgrade) {
            await writeAll(conn, await upgradeResponse(upgrade.key));
            upgraded = true;
            upgrade.transport.open(buf.subarray(0, len));
            return;
          }
          const keepAlive = head.keepAlive && !closing;
          await writeResponse(conn, response, head.method === "HEAD", keepAlive);
          if (!keepAlive) return;
        } finally {
          busy.delete(conn);
          done.resolve();
        }
      }
    } catch (error) {
      if (error instanceof BadRequest) {
        await writeResponse(conn, new Response(`${error.message}\n`, { status: error.status }))
          .catch(() => {});
      } else if (
        !(error instanceof Deno.errors.BadResource || error instanceof Deno.errors.Interrupted)
      ) {
        log.debug("HTTP connection ended: {error}", { error: String(error) });
      }
    } finally {
      clearTimeout(timer);
      idle.delete(conn);
      if (!upgraded) closeQuietly(conn);
    }
  };

  const loop = new ConnAcceptLoop(listener, (conn) => void serveConn(conn), {
    what: "HTTP side",
    reserve: true,
  });
  return {
    port,
    get acceptFailing() {
      return loop.failing;
    },
    async close() {
      closing = true;
      await loop.close();
      for (const conn of idle) closeQuietly(conn);
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        Promise.all(busy.values()),
        new Promise((resolve) => timer = setTimeout(resolve, SHUTDOWN_WAIT_MS)),
      ]);
      clearTimeout(timer);
      for (const conn of busy.keys()) closeQuietly(conn);
    },
  };
}

/** A parsed request head. */
interface Head {
  method: string;
  target: string;
  headers: Headers;
  keepAlive: boolean;
}

function parseHead(text: string): Head {
  const lines = text.split("\r\n");
  const match = /^([A-Z]+) (\S+) HTTP\/1\.([01])$/.exec(lines[0]!);
  if (!match) throw new BadRequest(400, `Malformed request line ${JSON.stringify(lines[0])}`);
  const headers = new Headers();
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(":");
    if (colon <= 0) throw new BadRequest(400, `Malformed header ${JSON.stringify(line)}`);
    try {
      headers.append(line.slice(0, colon).trim(), line.slice(colon + 1).trim());
    } catch {
      throw new BadRequest(400, `Malformed header ${JSON.stringify(line)}`);
    }
  }
  const connection = headers.get("connection")?.toLowerCase() ?? "";
  const keepAlive = match[3] === "1"
    ? !connection.includes("close")
    : connection.includes("keep-alive");
  return { method: match[1]!, target: match[2]!, headers, keepAlive };
}

/** Runs the handler on the request; its errors become `onError`'s answer. */
async function answer(
  head: Head,
  body: Uint8Array<ArrayBuffer>,
  slot: UpgradeSlot,
  conn: Deno.Conn,
  port: number,
  handler: HttpHandler,
  onError: (error: unknown) => Response,
): Promise<Response> {
  let url: URL;
  try {
    url = new URL(head.target, `http://${head.headers.get("host") ?? `127.0.0.1:${port}`}`);
  } catch {
    throw new BadRequest(400, `Malformed request target ${JSON.stringify(head.target)}`);
  }
  const hasBody = head.method !== "GET" && head.method !== "HEAD" && body.length > 0;
  const request = new Request(url, {
    method: head.method,
    headers: head.headers,
    ...(hasBody ? { body } : {}),
  });
  watchUpgrades(request, slot);
  const info = {
    remoteAddr: conn.remoteAddr as Deno.NetAddr,
    completed: Promise.resolve(),
  } as Deno.ServeHandlerInfo<Deno.NetAddr>;
  try {
    return await handler(request, info);
  } catch (error) {
    log.error("HTTP request failed: {error}", { error: String(error) });
    return onError(error);
  }
}

/** Writes status, headers and body; a body of unknown length goes chunked. */
async function writeResponse(
  conn: Deno.Conn,
  response: Response,
  head = false,
  keepAlive = false,
): Promise<void> {
  const lines = [`HTTP/1.1 ${response.status} ${response.statusText || reason(response.status)}`];
  const known = response.headers.get("content-length");
  let bytes: Uint8Array | undefined;
  if (response.body !== null && known === null) {
    // Every response of the HTTP side is finite and small: sent with its length.
    bytes = new Uint8Array(await response.arrayBuffer());
  }
  for (const [name, value] of response.headers) {
    if (name !== "connection" && name !== "content-length") lines.push(`${name}: ${value}`);
  }
  lines.push(`content-length: ${known ?? bytes?.length ?? 0}`);
  lines.push(`date: ${new Date().toUTCString()}`);
  lines.push(`connection: ${keepAlive ? "keep-alive" : "close"}`);
  await writeAll(conn, new TextEncoder().encode(lines.join("\r\n") + "\r\n\r\n"));
  if (head) {
    await response.body?.cancel();
    return;
  }
  if (bytes !== undefined) await writeAll(conn, bytes);
  else if (response.body !== null) {
    for await (const chunk of response.body) await writeAll(conn, chunk);
  }
}

async function upgradeResponse(key: string): Promise<Uint8Array> {
  const digest = await crypto.subtle.digest(
    "SHA-1",
    new TextEncoder().encode(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"),
  );
  const accept = btoa(String.fromCharCode(...new Uint8Array(digest)));
  return new TextEncoder().encode(
    "HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: Upgrade\r\n" +
      `sec-websocket-accept: ${accept}\r\n\r\n`,
  );
}

const REASONS: Record<number, string> = {
  200: "OK",
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  413: "Content Too Large",
  426: "Upgrade Required",
  431: "Request Header Fields Too Large",
  500: "Internal Server Error",
  501: "Not Implemented",
  503: "Service Unavailable",
};

function reason(status: number): string {
  return REASONS[status] ?? "Status";
}

function indexOf(buf: Uint8Array, len: number, pattern: number[]): number {
  outer: for (let i = 0; i + pattern.length <= len; i++) {
    for (let j = 0; j < pattern.length; j++) if (buf[i + j] !== pattern[j]) continue outer;
    return i;
  }
  return -1;
}

function grow(bytes: Uint8Array, size: number): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(Math.max(size, bytes.length));
  out.set(bytes);
  return out;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  let written = 0;
  while (written < bytes.length) written += await conn.write(bytes.subarray(written));
}

function closeQuietly(conn: Deno.Conn): void {
  try {
    conn.close();
  } catch {
    // Already closed.
  }
}
