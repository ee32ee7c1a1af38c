/**
 * The composition root: `startEventServer()` assembles an event server from
 * its parts (the listener, node 0 on this thread, the dispatch workers and
 * their backplane, the HTTP side, the name registration) and hands each part
 * what it needs. No part imports this module; closing undoes it in reverse.
 */

import { getLogger } from "@logtape/logtape";
import { joinCluster } from "../cluster/mod.ts";
import { PeerBackplane } from "../dispatch/backplane.ts";
import type { Backplane } from "../node/backplane.ts";
import { startWorkerThreads, type WorkerThreads } from "../dispatch/threads.ts";
import type { HttpHost } from "../http/host.ts";
import { type HttpSide, startHttpSide } from "../http/http_side.ts";
import { type Naming, startNaming } from "../names/registration.ts";
import { EventNode } from "../node/event_node.ts";
import type { ServerStats } from "../node/stats.ts";
import type { Session } from "../session/session.ts";
import { warnIfExposed } from "../session/exposure.ts";
import { listenTcp } from "../transport/tcp_listen.ts";
import { formatHost } from "../transport/tcp.ts";
import { type EventServerOptions, type ResolvedOptions, resolveOptions } from "./options.ts";

const log = getLogger(["es", "server"]);

/** The running parts of an event server. */
interface Parts {
  node: EventNode;
  workers?: WorkerThreads | undefined;
  http?: HttpSide | undefined;
  naming?: Naming | undefined;
}

/**
 * A running event server: its addresses, statistics and `close()`.
 *
 * @example
 * ```ts
 * await using server = await startEventServer({ port: 0, httpPort: false, nameServer: "none" });
 * console.log(server.uri); // es://127.0.0.1:PORT
 * ```
 */
export class EventServer implements AsyncDisposable {
  /** @internal The options with every default filled in. */
  readonly options: ResolvedOptions;
  /** `es://host:port` (or `es+tls://`) with the real port. */
  readonly uri: string;
  /** The interface the event server listens on. */
  readonly hostname: string;
  /** The real TCP port (also when started with port 0). */
  readonly port: number;
  /** The HTTP port, or `undefined` when HTTP is off. */
  readonly httpPort: number | undefined;
  /** The name server this server is registered with, if any. */
  readonly nsURI: string | undefined;
  /**
   * This server as the HTTP side sees it: give it to `createHandler()` (from
   * `lib/http/mod.ts`) to serve the dashboard, `/client.js`, `/ws` and the
   * monitoring routes from your own `Deno.serve`, with or without es's own
   * HTTP port (`httpPort: false`).
   */
  readonly httpHost: HttpHost;
  /** @internal The node on this thread (with workers, node 0 of several). */
  readonly node: EventNode;
  #parts: Parts;
  #closing: Promise<void> | undefined;

  /** @internal Use `startEventServer()`. */
  constructor(options: ResolvedOptions, parts: Parts, httpHost: HttpHost) {
    this.options = options;
    this.#parts = parts;
    this.httpHost = httpHost;
    this.node = parts.node;
    this.uri = parts.node.uri;
    this.hostname = parts.node.hostname;
    this.port = parts.node.port;
    this.httpPort = parts.http?.port;
    this.nsURI = parts.naming?.nsURI;
  }

  /** @internal The connections served on this thread. */
  get connections(): ReadonlySet<Session> {
    return this.node.sessions;
  }

  /** Current counters (gathered from every node when there are workers). */
  stats(): Promise<ServerStats> {
    return this.#parts.workers?.gatherStats() ?? this.node.stats();
  }

  /** Unregisters its name, stops HTTP, says BYE to every client, stops the workers. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= closeParts(this.#parts);
    return this.#closing;
  }

  /** Closes it (`await using`), as `close()`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

async function closeParts(parts: Parts): Promise<void> {
  const steps: [string, (() => Promise<void>) | undefined][] = [
    ["name registration", parts.naming?.close],
    ["HTTP side", parts.http?.close],
    ["event node", () => parts.node.close()],
    ["dispatch workers", parts.workers?.close],
  ];
  for (const [what, close] of steps) {
    try {
      await close?.();
    } catch (error) {
      log.warn("Closing the {what} failed: {error}", { what, error: String(error) });
    }
  }
}

/** Why the server cannot serve (for `/healthz`): a listener that cannot accept. */
function unhealthy(parts: Parts): string | undefined {
  const failing = [
    parts.node.acceptFailing ? "the event server" : "",
    parts.naming?.acceptFailing ? "the name server" : "",
    parts.http?.acceptFailing ? "the HTTP side" : "",
  ].filter((what) => what !== "");
  if (failing.length === 0) return undefined;
  const last = failing.pop()!;
  const who = failing.length > 0 ? `${failing.join(", ")} and ${last}` : last;
  return `${who} cannot accept connections (file descriptors exhausted?)`;
}

/** The server as its HTTP side sees it (lib/http/ knows nothing else of it). */
function httpHostOf(options: ResolvedOptions, parts: Parts): HttpHost {
  return {
    serve: (transport) => parts.node.serve(transport),
    stats: () => parts.workers?.gatherStats() ?? parts.node.stats(),
    unhealthy: () => unhealthy(parts),
    maxFrameBytes: options.maxFrameBytes,
    allowOrigins: options.allowOrigins,
    monitoring: { passphrase: options.ident !== undefined, token: options.monitorToken },
  };
}

/**
 * Runs `listen`, saying which port is taken and for what when it is.
 *
 * @throws {Deno.errors.AddrInUse} naming the port, its role and the flag that changes it.
 */
function inUse<T>(what: string, flag: string, port: number, listen: () => T): T {
  try {
    return listen();
  } catch (error) {
    if (!(error instanceof Deno.errors.AddrInUse)) throw error;
    throw new Deno.errors.AddrInUse(
      `Port ${port} for the ${what} is in use (another es serve?): stop that program, or choose another port with ${flag} (0 takes any free port)`,
      { cause: error },
    );
  }
}

/** The `es://` URI a node on `listener` will have (for the cluster to list it by). */
function nodeURI(listener: { addr: Deno.Addr }, options: ResolvedOptions): string {
  const addr = listener.addr as Deno.NetAddr;
  return `${options.tls ? "es+tls" : "es"}://${formatHost(addr.hostname)}:${addr.port}`;
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
 * @example
 * ```ts
 * const server = await startEventServer({ port: 0 });
 * await server.close();
 * ```
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
  const listener = inUse("event server", "-p/--port", resolved.port, () => {
    if (shared && resolved.port !== 0) {
      Deno.listen({ hostname: resolved.hostname, port: resolved.port }).close();
    }
    return listenTcp(resolved.hostname, resolved.port, resolved.tls, shared);
  });
  // In a cluster every node joins NATS, the threads of one process too; else threads join by ports.
  const peers = shared && resolved.cluster.length === 0 ? new PeerBackplane() : undefined;
  const backplane: Backplane | undefined = resolved.cluster.length > 0
    ? await joinCluster(resolved.cluster, nodeURI(listener, resolved))
    : peers;
  let workers: WorkerThreads | undefined;
  const node = new EventNode(resolved, {
    listener,
    ...(backplane ? { backplane } : {}),
    ...(shared
      ? {
        gatherStats: () => workers!.gatherStats(),
        gatherExplain: (subject: string) => workers!.gatherExplain(subject),
      }
      : {}),
  });
  const parts: Parts = { node };
  const httpHost = httpHostOf(resolved, parts);
  warnIfExposed(node.hostname, resolved.ident, `Event server ${node.uri}`);
  try {
    if (shared) {
      parts.workers = workers = await startWorkerThreads(resolved, {
        backplane: peers,
        port: node.port,
        connectionCount: node.connectionCount,
        stats: node.stats,
        explain: (subject: string) => node.explain(subject),
      });
    }
    const httpPort = resolved.httpPort;
    if (httpPort !== false) {
      parts.http = inUse(
        "HTTP side",
        "--http-port (or --no-http)",
        httpPort,
        () => startHttpSide(httpHost, resolved.hostname, httpPort, resolved.httpHeaderTimeoutMs),
      );
    }
    // Registered last, so a client that finds the name finds a server fully up.
    parts.naming = await startNaming(resolved, node.uri);
  } catch (error) {
    await closeParts(parts);
    throw error;
  }
  return new EventServer(resolved, parts, httpHost);
}
