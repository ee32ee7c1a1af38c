/** The event server's counters, as `es stats`, `GET /stats` and the dashboard show them. */

import type { Router } from "../broker/router.ts";
import type { Session } from "../session/session.ts";
import { EventConnection } from "./event_connection.ts";

/** One subscriber (connection) in the statistics. */
export interface SubscriberStats {
  id: number;
  remote: string;
  client: string;
  subjects: string[];
  patterns: string[];
  /** Queue groups of its subscriptions. */
  groups?: string[];
  /** Its queue: size, policy when full, events and bytes waiting. */
  queueSize: number;
  overflow: string;
  queueDepth: number;
  queueBytes: number;
  delivered: number;
  dropped: number;
  published: number;
  /** With dispatch workers: the thread serving it (0 = main thread). */
  worker?: number;
}

/** One subject in the statistics, with its recent rate. */
export interface SubjectStats {
  subject: string;
  published: number;
  /** Events per second over the last sampling interval. */
  rate: number;
}

/** Everything `stats()` reports. */
export interface ServerStats {
  version: string;
  uri: string;
  startedAt: number;
  uptimeMs: number;
  queueSize: number;
  blockQueue: boolean;
  workers: number;
  connections: number;
  /** Events per second over the last sampling interval. */
  rate: number;
  totals: {
    publishes: number;
    events: number;
    unrouted: number;
    routed: number;
    delivered: number;
    dropped: number;
  };
  exactSubjects: number;
  patterns: number;
  /** Patterns run against subjects (once per distinct subject and pattern change). */
  patternTests: number;
  /** Events dropped, by the policy of the queue that dropped them. */
  droppedByPolicy: Record<string, number>;
  subscribers: SubscriberStats[];
  subjects: SubjectStats[];
  /** Refusals and drops by limits and heartbeats (see `ReliabilityCounters`). */
  reliability?: Record<string, number>;
  /** With dispatch workers: connections per thread, main thread first. */
  workerConnections?: number[];
  /** With a cluster: NATS, the peers seen, what crossed and what was lost. */
  cluster?: Record<string, unknown>;
}

/** Most subjects listed, busiest first. */
const MAX_LISTED_SUBJECTS = 200;

/** Turns counters into rates by remembering the last sample of each. */
export class RateSampler {
  #lastTime = Date.now();
  #lastEvents = 0;
  #lastBySubject = new Map<string, number>();
  #rates = new Map<string, number>();
  #rate = 0;

  /** Takes a sample; call it about once a second. */
  sample(broker: Router): void {
    const now = Date.now();
    const seconds = Math.max((now - this.#lastTime) / 1000, 0.001);
    this.#lastTime = now;
    this.#rate = (broker.totals.events - this.#lastEvents) / seconds;
    this.#lastEvents = broker.totals.events;
    for (const [key, counter] of broker.subjects) {
      const last = this.#lastBySubject.get(key) ?? 0;
      this.#rates.set(key, (counter.published - last) / seconds);
      this.#lastBySubject.set(key, counter.published);
    }
  }

  get rate(): number {
    return this.#rate;
  }

  rateOf(key: string): number {
    return this.#rates.get(key) ?? 0;
  }
}

/** Gathers the statistics of one node's router and sessions. */
export function collectStats(
  base: {
    version: string;
    uri: string;
    startedAt: number;
    queueSize: number;
    blockQueue: boolean;
    workers: number;
  },
  router: Router,
  sessions: Iterable<Session>,
  sampler: RateSampler,
): ServerStats {
  const subscribers: SubscriberStats[] = [];
  const droppedByPolicy: Record<string, number> = {};
  let delivered = 0;
  let dropped = 0;
  let count = 0;
  for (const session of sessions) {
    count++;
    const queue = session.queue;
    delivered += queue.delivered;
    dropped += queue.dropped;
    if (queue.dropped > 0) {
      const policy = queue.limits.policy;
      droppedByPolicy[policy] = (droppedByPolicy[policy] ?? 0) + queue.dropped;
    }
    const handler = session.handler;
    if (!(handler instanceof EventConnection) || handler.subscriptions.size === 0) continue;
    const subjects = new Set<string>();
    const patterns = new Set<string>();
    const groups = new Set<string>();
    for (const sub of handler.subscriptions.values()) {
      (sub.pattern ? patterns : subjects).add(sub.item);
      if (sub.group !== "") groups.add(sub.group);
    }
    subscribers.push({
      id: session.id,
      remote: session.remote,
      client: session.clientName,
      subjects: [...subjects],
      patterns: [...patterns],
      ...(groups.size > 0 ? { groups: [...groups] } : {}),
      queueSize: queue.limits.capacity,
      overflow: queue.limits.policy,
      queueDepth: queue.depth,
      queueBytes: queue.bytes,
      delivered: queue.delivered,
      dropped: queue.dropped,
      published: handler.published,
    });
  }
  const subjects = [...router.subjects.entries()]
    .map(([key, c]) => ({ subject: c.subject, published: c.published, rate: sampler.rateOf(key) }))
    .sort((a, b) => b.rate - a.rate || b.published - a.published)
    .slice(0, MAX_LISTED_SUBJECTS);
  return {
    ...base,
    uptimeMs: Date.now() - base.startedAt,
    connections: count,
    rate: sampler.rate,
    totals: { ...router.totals, delivered, dropped },
    exactSubjects: router.index.exactCount,
    patterns: router.index.patternCount,
    patternTests: router.index.patternTests,
    droppedByPolicy,
    subscribers,
    subjects,
  };
}
