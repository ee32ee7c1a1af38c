/**
 * The name server: the shared accept loop and session, with a handler that
 * only registers, resolves, unregisters and lists names.
 */

import { getLogger } from "@logtape/logtape";
import { ErrorCode } from "../protocol/constants.ts";
import { DEFAULT_MAX_FRAME_BYTES } from "../protocol/constants.ts";
import { AuthThrottle } from "../session/auth_throttle.ts";
import { ReliabilityCounters } from "../session/counters.ts";
import { warnIfExposed } from "../session/exposure.ts";
import { AcceptLoop } from "../session/listener.ts";
import { LogLimiter } from "../session/log_limiter.ts";
import { Session, type SessionContext } from "../session/session.ts";
import { Watchdog } from "../session/watchdog.ts";
import { formatHost } from "../transport/tcp.ts";
import { type Listener, listenTcp } from "../transport/tcp_listen.ts";
import { VERSION } from "../version.ts";
import { NameConnection } from "./name_connection.ts";
import { NameRegistry } from "./registry.ts";

const log = getLogger(["es", "names"]);

/** Time connections get to receive their BYE on close. */
const CLOSE_DRAIN_MS = 1_000;
/** Replies waiting for a client that does not read before its requests are not read. */
const MAX_REPLY_BYTES = 1024 * 1024;

/** Options of `startNameServer()`. */
export interface NameServerOptions {
  /** Interface to listen on. Default `"127.0.0.1"`. */
  hostname?: string;
  /** TCP port; 0 takes any free port. Default 9090. */
  port?: number;
  /** Shared passphrase clients must prove they know. */
  ident?: string | undefined;
  /** Heartbeat interval announced to clients, in milliseconds. Default 30000. */
  heartbeatMs?: number;
  /** PEM certificate chain (the text): the server speaks `ns+tls://` (with `tlsKey`). */
  tlsCert?: string;
  /** PEM private key of `tlsCert`. */
  tlsKey?: string;
}

/** Names `stats()` shows; `list()` pages through all of them. */
const STATS_NAMES = 100;

/** What `NameServer.stats()` returns. */
export interface NameServerStats {
  /** The es version. */
  version: string;
  /** The name server's `ns://` (or `ns+tls://`) URI. */
  uri: string;
  /** When it started, in milliseconds since the epoch. */
  startedAt: number;
  /** Open client connections. */
  connections: number;
  /** Registered names. */
  nameCount: number;
  /** The first 100 names (sorted) and their URIs. */
  names: Record<string, string>;
}

/**
 * A running name server, made by `startNameServer()`.
 *
 * @example
 * ```ts
 * await using ns = await startNameServer({ port: 0 });
 * await using proxy = await locateNameServer({ nsURI: ns.uri });
 * await proxy.register("demo", "es://127.0.0.1:7766");
 * console.log(ns.stats().names); // { demo: "es://127.0.0.1:7766" }
 * ```
 */
export class NameServer implements AsyncDisposable {
  /** `ns://host:port` (`ns+tls://` with TLS) with the real port. */
  readonly uri: string;
  /** The interface it listens on. */
  readonly hostname: string;
  /** The real port (also when started with port 0). */
  readonly port: number;
  /** Start time, milliseconds since the epoch. */
  readonly startedAt: number = Date.now();
  /** @internal The names and their URIs. */
  readonly registry: NameRegistry = new NameRegistry();
  /** @internal Open client connections. */
  readonly sessions: Set<Session> = new Set();

  #accept: AcceptLoop;
  #ended = new Map<Session, PromiseWithResolvers<void>>();
  #closing: Promise<void> | undefined;

  /** @internal Use `startNameServer()`; takes over `listener` and starts accepting. */
  constructor(listener: Listener, options: NameServerOptions = {}) {
    const addr = listener.addr as Deno.NetAddr;
    this.hostname = addr.hostname;
    this.port = addr.port;
    const scheme = options.tlsCert !== undefined ? "ns+tls" : "ns";
    this.uri = `${scheme}://${formatHost(addr.hostname)}:${addr.port}`;
    const counters = new ReliabilityCounters();
    const namingLog = new LogLimiter();
    const heartbeatMs = options.heartbeatMs ?? 30_000;
    const context: SessionContext = {
      ident: options.ident,
      heartbeatMs,
      maxFrameBytes: DEFAULT_MAX_FRAME_BYTES,
      maxReplyBytes: MAX_REPLY_BYTES,
      serverName: `es-ns/${VERSION}`,
      queue: { capacity: 1, maxBytes: DEFAULT_MAX_FRAME_BYTES, policy: "drop-new" },
      watchdog: new Watchdog({ heartbeatMs, slowConsumerMs: 0, counters }),
      throttle: new AuthThrottle(),
      counters,
      logLimiter: new LogLimiter(),
      handler: (session) =>
        new NameConnection(session, this.registry, () => this.stats(), namingLog),
      ended: (session) => {
        this.sessions.delete(session);
        this.#ended.get(session)?.resolve();
        this.#ended.delete(session);
      },
    };
    this.#accept = new AcceptLoop(listener, (transport) => {
      if (this.#closing !== undefined) return transport.close();
      const session = new Session(transport, context);
      this.sessions.add(session);
      this.#ended.set(session, Promise.withResolvers());
      void session.serve();
    }, "name server");
  }

  /** True while the accept loop cannot accept (descriptors exhausted). */
  get acceptFailing(): boolean {
    return this.#accept.failing;
  }

  /** The registered names and the open connections. */
  stats(): NameServerStats {
    return {
      version: VERSION,
      uri: this.uri,
      startedAt: this.startedAt,
      connections: this.sessions.size,
      nameCount: this.registry.size,
      names: Object.fromEntries(
        Object.entries(this.registry.list().names).slice(0, STATS_NAMES),
      ),
    };
  }

  /** Stops accepting, says BYE to every client and closes. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    await this.#accept.close();
    const ended = [...this.#ended.values()].map((w) => w.promise);
    for (const s of this.sessions) s.close(ErrorCode.SHUTDOWN, "The name server is shutting down");
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      Promise.all(ended),
      new Promise((resolve) => timer = setTimeout(resolve, CLOSE_DRAIN_MS + 500)),
    ]);
    clearTimeout(timer);
    for (const s of [...this.sessions]) s.close();
  }

  /** Closes it (`await using`), as `close()`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/**
 * Starts a name server.
 *
 * @example
 * ```ts
 * await using ns = await startNameServer({ port: 0 });
 * console.log(ns.uri); // ns://127.0.0.1:PORT
 * ```
 * @throws {RangeError} for an invalid port, an empty passphrase, or a TLS certificate without
 * its key; `Deno.errors.AddrInUse` when the port is taken; `Error` for an unusable certificate.
 */
export function startNameServer(options: NameServerOptions = {}): Promise<NameServer> {
  // An empty passphrase is a mistake (an unset variable), not a wish for no authentication.
  if (options.ident === "") {
    return Promise.reject(
      new RangeError("Invalid ident: the passphrase is empty (give a non-empty one, or none)"),
    );
  }
  const port = options.port ?? 9090;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    return Promise.reject(
      new RangeError(`Invalid port ${port}: must be a port number from 0 to 65535`),
    );
  }
  const { tlsCert: cert, tlsKey: key } = options;
  if ((cert === undefined) !== (key === undefined)) {
    return Promise.reject(
      new RangeError("TLS needs both tlsCert and tlsKey (PEM text), not just one of them"),
    );
  }
  let listener: Listener;
  try {
    const tls = cert !== undefined && key !== undefined ? { cert, key } : undefined;
    listener = listenTcp(options.hostname ?? "127.0.0.1", port, tls);
  } catch (error) {
    return Promise.reject(error);
  }
  const server = new NameServer(listener, options);
  warnIfExposed(server.hostname, options.ident, `Name server ${server.uri}`);
  log.info("Name server listening on {uri}", { uri: server.uri });
  return Promise.resolve(server);
}
