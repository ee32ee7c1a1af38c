/**
 * The name server: a TCP listener speaking the es framing whose connections
 * may only register, resolve, unregister and list names (and ping).
 */

import { getLogger } from "@logtape/logtape";
import { Broker } from "../broker/broker.ts";
import type { SubscriberQueue } from "../broker/subscriber_queue.ts";
import { ErrorCode } from "../protocol/constants.ts";
import { ServerConnection, type ServerContext } from "../server/connection.ts";
import { warnIfExposed } from "../server/exposure.ts";
import { resolveOptions } from "../server/options.ts";
import { VERSION } from "../version.ts";
import { NamingService } from "./naming_service.ts";

const log = getLogger(["es", "names"]);

/** Time connections get to receive their BYE on close. */
const CLOSE_DRAIN_MS = 1_000;

/** Options of `startNameServer()`. */
export interface NameServerOptions {
  /** Interface to listen on. Default `"127.0.0.1"`. */
  hostname?: string;
  /** TCP port; 0 takes any free port. Default 9090. */
  port?: number;
  /** Shared passphrase clients must prove they know. */
  ident?: string | undefined;
  /** Heartbeat interval announced to clients. Default 30000. */
  heartbeatMs?: number;
}

/** What `NameServer.stats()` returns. */
export interface NameServerStats {
  version: string;
  uri: string;
  startedAt: number;
  connections: number;
  names: Record<string, string>;
}

/** A running name server. */
export class NameServer implements AsyncDisposable {
  /** `ns://host:port` with the real port. */
  readonly uri: string;
  /** The interface it listens on. */
  readonly hostname: string;
  /** The real port (also when started with port 0). */
  readonly port: number;
  /** Start time, milliseconds since the epoch. */
  readonly startedAt = Date.now();
  /** The registry and its request handling. */
  readonly service = new NamingService();
  /** Open client connections. */
  readonly connections = new Set<ServerConnection>();

  #listener: Deno.TcpListener;
  #context: ServerContext;
  #closing: Promise<void> | undefined;
  #acceptLoop: Promise<void>;

  /** @internal Use `startNameServer()`; takes over `listener` and starts accepting. */
  constructor(listener: Deno.TcpListener, options: NameServerOptions = {}) {
    this.#listener = listener;
    const addr = listener.addr;
    this.hostname = addr.hostname;
    this.port = addr.port;
    this.uri = `ns://${formatHost(addr.hostname)}:${addr.port}`;
    const resolved = resolveOptions({
      hostname: addr.hostname,
      port: addr.port,
      httpPort: false,
      nameServer: "none",
      workers: 1,
      queueSize: 100,
      ...(options.ident ? { ident: options.ident } : {}),
      ...(options.heartbeatMs ? { heartbeatMs: options.heartbeatMs } : {}),
    });
    this.#context = {
      options: resolved,
      broker: new Broker<SubscriberQueue>(),
      nameServerOnly: true,
      stats: () => Promise.resolve(this.stats()),
      handleNaming: (c, type, id, body) => this.service.handle(c, type, id, body),
      connectionClosed: (c) => {
        this.connections.delete(c);
        this.service.connectionClosed(c);
      },
    };
    this.#acceptLoop = this.#accept();
  }

  async #accept(): Promise<void> {
    try {
      for await (const conn of this.#listener) {
        if (this.#closing !== undefined) {
          conn.close();
          continue;
        }
        conn.setNoDelay(true);
        const remote = formatAddr(conn.remoteAddr);
        const connection = new ServerConnection(conn, this.#context, remote);
        this.connections.add(connection);
        log.debug("Name server connection {id} from {remote}", { id: connection.id, remote });
        void connection.serve();
      }
    } catch (error) {
      if (this.#closing === undefined) {
        log.error("Name server accept loop failed: {error}", { error: String(error) });
      }
    }
  }

  /** The registered names and the open connections. */
  stats(): NameServerStats {
    return {
      version: VERSION,
      uri: this.uri,
      startedAt: this.startedAt,
      connections: this.connections.size,
      names: this.service.registry.list(),
    };
  }

  /** Stops accepting, says BYE to every client and closes. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    try {
      this.#listener.close();
    } catch { /* already closed */ }
    for (const c of [...this.connections]) {
      c.close(ErrorCode.SHUTDOWN, "The name server is shutting down");
    }
    const deadline = Date.now() + CLOSE_DRAIN_MS + 500;
    while (this.connections.size > 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 10));
    }
    for (const c of [...this.connections]) c.close();
    await this.#acceptLoop;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

function formatHost(hostname: string): string {
  return hostname.includes(":") ? `[${hostname}]` : hostname;
}

function formatAddr(addr: Deno.Addr): string {
  return addr.transport === "tcp" || addr.transport === "udp"
    ? `${formatHost(addr.hostname)}:${addr.port}`
    : addr.transport;
}

/**
 * Starts a name server.
 *
 * @example
 * ```ts
 * await using ns = await startNameServer({ port: 0 });
 * console.log(ns.uri); // ns://127.0.0.1:PORT
 * ```
 * @throws {RangeError} for an invalid port; `Deno.errors.AddrInUse` when the port is taken.
 */
export function startNameServer(options: NameServerOptions = {}): Promise<NameServer> {
  const port = options.port ?? 9090;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    return Promise.reject(
      new RangeError(`Invalid port ${port}: must be a port number from 0 to 65535`),
    );
  }
  const hostname = options.hostname ?? "127.0.0.1";
  let listener: Deno.TcpListener;
  try {
    listener = Deno.listen({ hostname, port });
  } catch (error) {
    return Promise.reject(error);
  }
  const server = new NameServer(listener, options);
  warnIfExposed(server.hostname, options.ident, `Name server ${server.uri}`);
  log.info("Name server listening on {uri}", { uri: server.uri });
  return Promise.resolve(server);
}
