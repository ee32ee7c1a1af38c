/**
 * The event server: a TCP listener whose connections share one broker. The
 * name service and the HTTP side attach to it through its hooks.
 */

import { getLogger } from "@logtape/logtape";
import { Broker } from "../broker/broker.ts";
import type { SubscriberQueue } from "../broker/subscriber_queue.ts";
import { ErrorCode } from "../protocol/constants.ts";
import { ServerConnection, type ServerContext } from "./connection.ts";
import { type EventServerOptions, type ResolvedOptions, resolveOptions } from "./options.ts";
import { collectStats, RateSampler, type ServerStats } from "./stats.ts";
import { VERSION } from "../version.ts";
import { startWorkerThreads } from "../dispatch/threads.ts";

const log = getLogger(["es", "server"]);

/** Time connections get to drain their queues on close. */
const CLOSE_DRAIN_MS = 2_000;

/** The dispatch workers attached to a server (see lib/dispatch/). */
export interface WorkerThreads {
  /** This server's statistics merged with every worker's. */
  stats(local: ServerStats): Promise<ServerStats>;
  /** Closes every worker. */
  close(): Promise<void>;
}

/** A running event server. */
export class EventServer implements AsyncDisposable {
  readonly options: ResolvedOptions;
  readonly broker: Broker<SubscriberQueue>;
  readonly connections = new Set<ServerConnection>();
  readonly startedAt = Date.now();
  /** `es://host:port` with the real port. */
  readonly uri: string;
  readonly hostname: string;
  readonly port: number;
  /** The HTTP port, or `undefined` when HTTP is off. */
  httpPort: number | undefined;
  /** The name server this server is registered with, if any. */
  nsURI: string | undefined;
  /** Hooks run by `close()` before the listener stops (HTTP side, name registration). */
  readonly onClose: (() => Promise<void> | void)[] = [];

  #listener: Deno.TcpListener;
  #sampler = new RateSampler();
  #sampleTimer: ReturnType<typeof setInterval>;
  #retired = { delivered: 0, dropped: 0 };
  #closing: Promise<void> | undefined;
  #acceptLoop: Promise<void>;
  #context: ServerContext;
  #workers: WorkerThreads | undefined;

  constructor(listener: Deno.TcpListener, options: ResolvedOptions) {
    this.options = options;
    this.#listener = listener;
    this.broker = new Broker<SubscriberQueue>();
    const addr = listener.addr;
    this.hostname = addr.hostname;
    this.port = addr.port;
    this.uri = `es://${formatHost(addr.hostname)}:${addr.port}`;
    this.#sampleTimer = setInterval(() => this.#sampler.sample(this.broker), 1000);
    Deno.unrefTimer(this.#sampleTimer);
    this.#context = {
      options,
      broker: this.broker,
      stats: () => this.stats(),
      connectionClosed: (c) => {
        this.connections.delete(c);
        this.#retired.delivered += c.queue.delivered;
        this.#retired.dropped += c.queue.dropped;
      },
    };
    this.#acceptLoop = this.#accept();
  }

  /** The context that connections use; hooks for names and workers are set on it. */
  get context(): ServerContext {
    return this.#context;
  }

  async #accept(): Promise<void> {
    try {
      for await (const conn of this.#listener) {
        this.serveConnection(conn, formatAddr(conn.remoteAddr));
      }
    } catch (error) {
      if (this.#closing === undefined) {
        log.error("Accept loop failed: {error}", { error: String(error) });
      }
    }
  }

  /** Serves a connection accepted elsewhere (TCP here, WebSocket on the HTTP side). */
  serveConnection(
    transport: Deno.Conn | import("../protocol/transport.ts").Transport,
    remote: string,
  ): void {
    if (this.#closing !== undefined) {
      try {
        transport.close();
      } catch { /* already closed */ }
      return;
    }
    if ("setNoDelay" in transport) (transport as Deno.TcpConn).setNoDelay(true);
    const connection = new ServerConnection(transport, this.#context, remote);
    this.connections.add(connection);
    log.debug("Connection {id} from {remote}", { id: connection.id, remote });
    void connection.serve();
  }

  /** Attaches dispatch workers: their statistics join this server's, and close() closes them. */
  attachWorkers(workers: WorkerThreads): void {
    this.#workers = workers;
  }

  /** Current counters (async: with workers they are gathered from every thread). */
  stats(): Promise<ServerStats> {
    const local = this.#localStats();
    return this.#workers ? this.#workers.stats(local) : Promise.resolve(local);
  }

  #localStats(): ServerStats {
    const stats = collectStats(
      {
        version: VERSION,
        uri: this.uri,
        startedAt: this.startedAt,
        queueSize: this.options.queueSize,
        blockQueue: this.options.blockQueue,
        workers: this.options.workers,
      },
      this.broker,
      this.connections,
      this.#sampler,
    );
    stats.totals.delivered += this.#retired.delivered;
    stats.totals.dropped += this.#retired.dropped;
    return stats;
  }

  /** Stops accepting, tells every client, lets queues drain briefly, and closes. */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    clearInterval(this.#sampleTimer);
    try {
      this.#listener.close();
    } catch { /* already closed */ }
    for (const hook of this.onClose) {
      try {
        await hook();
      } catch (error) {
        log.warn("Close hook failed: {error}", { error: String(error) });
      }
    }
    const connections = [...this.connections];
    for (const c of connections) c.close(ErrorCode.SHUTDOWN, "The event server is shutting down");
    const deadline = Date.now() + CLOSE_DRAIN_MS + 500;
    while (this.connections.size > 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 10));
    }
    for (const c of this.connections) c.close();
    await this.#workers?.close();
    await this.#acceptLoop;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/** Brackets IPv6 addresses for URIs. */
export function formatHost(hostname: string): string {
  return hostname.includes(":") ? `[${hostname}]` : hostname;
}

function formatAddr(addr: Deno.Addr): string {
  return addr.transport === "tcp" || addr.transport === "udp"
    ? `${formatHost(addr.hostname)}:${addr.port}`
    : addr.transport;
}

/**
 * Starts an event server.
 *
 * @throws {RangeError} for invalid options; `Deno.errors.AddrInUse` when the port is taken.
 */
export async function startEventServer(options: EventServerOptions = {}): Promise<EventServer> {
  const resolved = resolveOptions(options);
  if (resolved.workers === 1) {
    const listener = Deno.listen({ hostname: resolved.hostname, port: resolved.port });
    return new EventServer(listener, resolved);
  }
  // Workers share the port with reusePort; a plain bind first makes a port
  // held by another process fail with AddrInUse, as it does without workers.
  if (resolved.port !== 0) {
    Deno.listen({ hostname: resolved.hostname, port: resolved.port }).close();
  }
  const listener = Deno.listen({
    hostname: resolved.hostname,
    port: resolved.port,
    reusePort: true,
  });
  const server = new EventServer(listener, resolved);
  try {
    await startWorkerThreads(server);
  } catch (error) {
    await server.close();
    throw error;
  }
  return server;
}
