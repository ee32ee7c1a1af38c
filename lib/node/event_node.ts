/**
 * One event node: the event server on one thread. It accepts connections,
 * runs a session for each, routes publishes through its router, and joins
 * other nodes through an optional backplane. It knows nothing of the HTTP
 * side, the name registry or worker threads: the composition root in
 * lib/server/ hands it what it needs.
 */

import { getLogger } from "@logtape/logtape";
import { QueueBudget } from "../broker/queue_budget.ts";
import { type GroupChoice, Router } from "../broker/router.ts";
import { ErrorCode } from "../protocol/constants.ts";
import { encodeBye } from "../protocol/frames/bye.ts";
import type { CachedSubject } from "../protocol/subject_cache.ts";
import { SubjectCache } from "../protocol/subject_cache.ts";
import type { Blocker } from "../broker/subscriber_queue.ts";
import { AuthThrottle } from "../session/auth_throttle.ts";
import { ReliabilityCounters } from "../session/counters.ts";
import { AcceptLoop } from "../session/listener.ts";
import { LogLimiter } from "../session/log_limiter.ts";
import { Session, type SessionContext } from "../session/session.ts";
import { Watchdog } from "../session/watchdog.ts";
import type { Listener } from "../transport/tcp_listen.ts";
import { formatHost } from "../transport/tcp.ts";
import { type Transport, writeAll } from "../transport/transport.ts";
import { VERSION } from "../version.ts";
import type { Backplane } from "./backplane.ts";
import { EventConnection } from "./event_connection.ts";
import { InterestEvents } from "./interest_events.ts";
import { explain, type ExplainMatch } from "./explain.ts";
import { defaultPolicy, type NodeOptions } from "./options.ts";
import { collectStats, RateSampler, type ServerStats, statsJson } from "./stats.ts";

const log = getLogger(["es", "server"]);

/** Time sessions get to receive their BYE and drain on close. */
const CLOSE_DRAIN_MS = 2_000;
/** Most matches an EXPLAIN reply lists (the rest are counted). */
const MAX_EXPLAINED = 1000;
/** How long a refused connection gets to receive its BYE. */
const REFUSAL_WRITE_MS = 1000;

/** What an event node is given besides its options. */
export interface EventNodeParts {
  /** Where it accepts TCP connections; none for a node fed only by `serve()`. */
  listener?: Listener;
  /** The other nodes, if any. */
  backplane?: Backplane;
  /** Open connections over every node (shared memory), so `maxConnections` bounds the server. */
  connectionCount?: Int32Array;
  /** The whole server's statistics, when they are more than this node's own. */
  gatherStats?: () => Promise<ServerStats>;
  /** What the whole server's subscriptions say about a subject, when there are other nodes. */
  gatherExplain?: (subject: string) => Promise<ExplainMatch[]>;
}

/**
 * An event server on one thread.
 *
 * @example
 * ```ts
 * const node = new EventNode(options, { listener: Deno.listen({ port: 0 }) });
 * await node.close();
 * ```
 */
export class EventNode {
  readonly options: NodeOptions;
  readonly router: Router;
  readonly sessions: Set<Session> = new Set();
  readonly counters: ReliabilityCounters = new ReliabilityCounters();
  readonly startedAt: number = Date.now();
  /** `es://host:port` (or `es+tls://`) with the real port; "" without a listener. */
  readonly uri: string;
  readonly hostname: string;
  readonly port: number;
  /** The server-wide open-connection counter. */
  readonly connectionCount: Int32Array;
  readonly subjects: SubjectCache = new SubjectCache();
  /** This node's share of the server's bound on queued bytes. */
  readonly budget: QueueBudget;

  #parts: EventNodeParts;
  #accept: AcceptLoop | undefined;
  #context: SessionContext;
  #sampler = new RateSampler();
  #sampleTimer: ReturnType<typeof setInterval>;
  #retired = { delivered: 0, dropped: 0, byPolicy: {} as Record<string, number> };
  #ended = new Map<Session, PromiseWithResolvers<void>>();
  #closing: Promise<void> | undefined;
  #interest: InterestEvents;

  constructor(options: NodeOptions, parts: EventNodeParts = {}) {
    this.options = options;
    this.#parts = parts;
    this.connectionCount = parts.connectionCount ?? new Int32Array(new SharedArrayBuffer(4));
    this.budget = new QueueBudget(Math.floor(options.maxQueuedBytes / options.workers));
    const backplane = parts.backplane;
    this.router = new Router({
      ...(backplane ? { forwarder: backplane } : {}),
      onInterest: (kind, item, present) => this.#interest.changed(kind, item, present),
      onGroupInterest: (kind, item, group, present) =>
        backplane?.interestChanged(kind, item, present, group),
    });
    this.#interest = new InterestEvents(
      this.router,
      backplane?.remoteInterest?.bind(backplane),
    );
    const addr = parts.listener?.addr as Deno.NetAddr | undefined;
    this.hostname = addr?.hostname ?? options.hostname;
    this.port = addr?.port ?? options.port;
    this.uri = addr
      ? `${options.tls ? "es+tls" : "es"}://${formatHost(this.hostname)}:${this.port}`
      : "";
    const host = {
      options,
      router: this.router,
      counters: this.counters,
      subjects: this.subjects,
      interestInForce: () => {
        this.#interest.publish();
        return backplane?.interestInForce() ?? Promise.resolve();
      },
      settled: (publisher: number) => backplane?.settled(publisher),
      // The reply must fit in one frame (with its type and request id).
      statsReply: async () =>
        statsJson(await (parts.gatherStats ?? this.stats)(), options.maxFrameBytes - 64),
      explainReply: async (subject: string) => {
        const all = parts.gatherExplain
          ? await parts.gatherExplain(subject)
          : this.explain(subject);
        // The reply must fit a frame: the first matches, and how many more there were.
        const matches = all.slice(0, MAX_EXPLAINED);
        const body = { subject, matches, more: all.length - matches.length };
        return new TextEncoder().encode(JSON.stringify(body));
      },
    };
    this.#context = {
      ident: options.ident,
      heartbeatMs: options.heartbeatMs,
      maxFrameBytes: options.maxFrameBytes,
      maxReplyBytes: options.maxReplyBytes,
      serverName: `es/${VERSION}`,
      queue: {
        capacity: options.queueSize,
        maxBytes: options.maxQueueBytes,
        policy: defaultPolicy(options),
      },
      budget: this.budget,
      watchdog: new Watchdog({
        heartbeatMs: options.heartbeatMs,
        slowConsumerMs: options.slowConsumerMs,
        counters: this.counters,
      }),
      throttle: new AuthThrottle(options.authRecords),
      counters: this.counters,
      logLimiter: new LogLimiter(),
      handler: (session, connect) => new EventConnection(session, connect, host),
      ended: (session) => this.#sessionEnded(session),
    };
    this.#sampleTimer = setInterval(() => this.#sampler.sample(this.router), 1000);
    Deno.unrefTimer(this.#sampleTimer);
    backplane?.start({
      deliverForwarded: (
        subject: CachedSubject,
        body: Uint8Array,
        blocked: Blocker[] | undefined,
        groups?: GroupChoice,
      ) => this.router.deliverForwarded(subject, body, blocked, groups),
      interest: () => this.router.index.interest(),
    });
    if (parts.listener) {
      this.#accept = new AcceptLoop(parts.listener, (t) => this.serve(t), "event server");
    }
  }

  /** True while the accept loop cannot accept (descriptors exhausted). */
  get acceptFailing(): boolean {
    return this.#accept?.failing ?? false;
  }

  /** Serves a connection accepted elsewhere (TCP here, WebSocket on the HTTP side). */
  serve(transport: Transport): void {
    if (this.#closing !== undefined) {
      transport.close();
      return;
    }
    const max = this.options.maxConnections;
    if (Atomics.add(this.connectionCount, 0, 1) >= max) {
      Atomics.sub(this.connectionCount, 0, 1);
      this.counters.refusedConnections++;
      log.warn("Refused {remote}: {max} connections already", { remote: transport.remote, max });
      void refuse(transport, `Too many connections: the server's limit is ${max}`);
      return;
    }
    const session = new Session(transport, this.#context);
    this.sessions.add(session);
    this.#ended.set(session, Promise.withResolvers());
    void session.serve();
  }

  #sessionEnded(session: Session): void {
    if (this.sessions.delete(session)) Atomics.sub(this.connectionCount, 0, 1);
    this.#retired.delivered += session.queue.delivered;
    this.#retired.dropped += session.queue.dropped;
    if (session.queue.dropped > 0) {
      const policy = session.queue.limits.policy;
      const byPolicy = this.#retired.byPolicy;
      byPolicy[policy] = (byPolicy[policy] ?? 0) + session.queue.dropped;
    }
    this.#ended.get(session)?.resolve();
    this.#ended.delete(session);
  }

  /** This node's counters. */
  readonly stats = (): Promise<ServerStats> => {
    const stats = collectStats(
      {
        version: VERSION,
        uri: this.uri,
        startedAt: this.startedAt,
        queueSize: this.options.queueSize,
        blockQueue: this.options.blockQueue,
        workers: this.options.workers,
      },
      this.router,
      this.sessions,
      this.#sampler,
    );
    stats.totals.delivered += this.#retired.delivered;
    stats.totals.dropped += this.#retired.dropped;
    for (const [policy, count] of Object.entries(this.#retired.byPolicy)) {
      stats.droppedByPolicy[policy] = (stats.droppedByPolicy[policy] ?? 0) + count;
    }
    stats.reliability = {
      ...this.counters.toJSON(),
      queuedBytes: this.budget.used,
      queuedBytesDrops: this.budget.dropped,
    };
    const cluster = this.#parts.backplane?.stats?.();
    if (cluster) stats.cluster = cluster;
    return Promise.resolve(stats);
  };

  /** The subscriptions on this node an event on `subject` would reach, and why. */
  explain(subject: string): ExplainMatch[] {
    return explain(subject, this.sessions, this.router);
  }

  /** Stops accepting, tells every client (BYE), lets queues drain briefly, and closes. */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    clearInterval(this.#sampleTimer);
    await this.#accept?.close();
    const ended = [...this.#ended.values()].map((w) => w.promise);
    for (const s of this.sessions) s.close(ErrorCode.SHUTDOWN, "The event server is shutting down");
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      Promise.all(ended),
      new Promise((resolve) => timer = setTimeout(resolve, CLOSE_DRAIN_MS + 500)),
    ]);
    clearTimeout(timer);
    for (const s of [...this.sessions]) s.close();
    this.#parts.backplane?.close();
  }
}

/** Refuses a connection over the limit: a BYE (LIMIT) as its only frame, then close. */
async function refuse(transport: Transport, reason: string): Promise<void> {
  const timer = setTimeout(() => transport.close(), REFUSAL_WRITE_MS);
  try {
    await writeAll(transport, encodeBye(ErrorCode.LIMIT, reason));
  } catch {
    // The peer left already.
  } finally {
    clearTimeout(timer);
    transport.close();
  }
}
