/**
 * The event server: a TCP listener whose connections share one broker. The
 * name service and the HTTP side attach to it through its hooks.
 */

import { getLogger } from "@logtape/logtape";
import { Broker } from "../broker/broker.ts";
import { PatternSafety } from "../broker/pattern_safety.ts";
import type { SubscriberQueue } from "../broker/subscriber_queue.ts";
import { ErrorCode } from "../protocol/constants.ts";
import { ServerConnection, type ServerContext } from "./connection.ts";
import { refuseConnection, ReliabilityCounters } from "./limits.ts";
import { listenMaybeTls, type ServerListener, uriScheme } from "./tls.ts";
import { type EventServerOptions, type ResolvedOptions, resolveOptions } from "./options.ts";
import { collectStats, RateSampler, type ServerStats } from "./stats.ts";
import { VERSION } from "../version.ts";
import { warnIfExposed } from "./exposure.ts";
import { attachNaming } from "./naming.ts";
import { startHttpSide } from "../http/http_side.ts";
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
  /** What limits and heartbeats refused or dropped. */
  readonly reliability = new ReliabilityCounters();
  /** Pattern safety checks (on a worker thread). */
  readonly patternSafety = new PatternSafety();

  #listener: ServerListener;
  #sampler = new RateSampler();
  #sampleTimer: ReturnType<typeof setInterval>;
  #retired = { delivered: 0, dropped: 0 };
  #closing: Promise<void> | undefined;
  #acceptLoop: Promise<void>;
  #context: ServerContext;
  #workers: WorkerThreads | undefined;

  /**
   * Open connections over every dispatch thread, in shared memory so that
   * `maxConnections` bounds the whole server, not each thread.
   */
  readonly connectionCount: Int32Array;

  /**
   * @param shared.connectionCount The counter of the main thread's server, when
   * this server is a dispatch worker's node.
   */
  constructor(
    listener: ServerListener,
    options: ResolvedOptions,
    shared: { connectionCount?: Int32Array } = {},
  ) {
    this.options = options;
    this.connectionCount = shared.connectionCount ?? new Int32Array(new SharedArrayBuffer(4));
    this.#listener = listener;
    this.broker = new Broker<SubscriberQueue>({ checkPattern: this.patternSafety.check });
    const addr = listener.addr;
    this.hostname = addr.hostname;
    this.port = addr.port;
    this.uri = `${uriScheme("es", options.tls)}://${formatHost(addr.hostname)}:${addr.port}`;
    this.#sampleTimer = setInterval(() => this.#sampler.sample(this.broker), 1000);
    Deno.unrefTimer(this.#sampleTimer);
    this.#context = {
      options,
      broker: this.broker,
      stats: () => this.stats(),
      reliability: this.reliability,
      patternSafety: this.patternSafety,
      connectionClosed: (c) => {
        if (this.connections.delete(c)) Atomics.sub(this.connectionCount, 0, 1);
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
    if (Atomics.add(this.connectionCount, 0, 1) >= this.options.maxConnections) {
      Atomics.sub(this.connectionCount, 0, 1);
      this.reliability.refusedConnections++;
      log.warn("Refused {remote}: {max} connections already", {
        remote,
        max: this.options.maxConnections,
      });
      void refuseConnection(transport, this.options.maxConnections);
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
    stats.reliability = this.reliability.toJSON();
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
    this.patternSafety.close();
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

/** Whether this process may load the dispatch worker module (read permission). */
function mayStartWorkers(): boolean {
  const path = new URL("../dispatch/worker_main.ts", import.meta.url);
  if (path.protocol !== "file:") return true;
  return Deno.permissions.querySync({ name: "read", path }).state === "granted";
}

/**
 * Starts an event server.
 *
 * @throws {RangeError} for invalid options; `Deno.errors.AddrInUse` when the port is taken.
 * @throws {NamingError} when a live event server holds the name (unless `replace`), or the
 * name server cannot be reached.
 */
export async function startEventServer(options: EventServerOptions = {}): Promise<EventServer> {
  const resolved = resolveOptions(options);
  if (resolved.workers > 1 && !mayStartWorkers()) {
    log.warn(
      "Running on one thread instead of {workers}: dispatch workers need read access to their module (--allow-read)",
      { workers: resolved.workers },
    );
    resolved.workers = 1;
  }
  const shared = resolved.workers > 1;
  // Workers share the port with reusePort; a plain bind first makes a port
  // held by another process fail with AddrInUse, as it does without workers.
  if (shared && resolved.port !== 0) {
    Deno.listen({ hostname: resolved.hostname, port: resolved.port }).close();
  }
  const listener = listenMaybeTls(resolved.hostname, resolved.port, resolved.tls, shared);
  const server = new EventServer(listener, resolved);
  warnIfExposed(server.hostname, resolved.ident, `Event server ${server.uri}`);
  try {
    if (shared) await startWorkerThreads(server);
    startHttpSide(server);
    // Registered last, so a client that finds the name finds a server fully up.
    await attachNaming(server);
  } catch (error) {
    await server.close();
    throw error;
  }
  return server;
}
