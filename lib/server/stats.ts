/** The event server's counters, as `es stats`, `GET /stats` and the dashboard show them. */

import type { Broker } from "../broker/broker.ts";
import type { SubscriberQueue } from "../broker/subscriber_queue.ts";
import type { ServerConnection } from "./connection.ts";

/** One subscriber (connection) in the statistics. */
export interface SubscriberStats {
  id: number;
  remote: string;
  client: string;
  subjects: string[];
  patterns: string[];
  queueDepth: number;
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
  subscribers: SubscriberStats[];
  subjects: SubjectStats[];
  /** Refusals and drops by limits and heartbeats (see `ReliabilityCounters`). */
  reliability?: Record<string, number>;
  /** With dispatch workers: connections per thread, main thread first. */
  workerConnections?: number[];
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
  sample(broker: Broker<SubscriberQueue>): void {
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

/** Gathers the statistics of one broker and its connections. */
export function collectStats(
  base: {
    version: string;
    uri: string;
    startedAt: number;
    queueSize: number;
    blockQueue: boolean;
    workers: number;
  },
  broker: Broker<SubscriberQueue>,
  connections: Iterable<ServerConnection>,
  sampler: RateSampler,
): ServerStats {
  const subscribers: SubscriberStats[] = [];
  let delivered = 0;
  let dropped = 0;
  let count = 0;
  for (const c of connections) {
    count++;
    delivered += c.queue.delivered;
    dropped += c.queue.dropped;
    if (c.subjects.size + c.patterns.size === 0) continue;
    subscribers.push({
      id: c.id,
      remote: c.remote,
      client: c.clientName,
      subjects: [...c.subjects],
      patterns: [...c.patterns],
      queueDepth: c.queue.depth,
      delivered: c.queue.delivered,
      dropped: c.queue.dropped,
      published: c.published,
    });
  }
  const subjects = [...broker.subjects.entries()]
    .map(([key, c]) => ({ subject: c.subject, published: c.published, rate: sampler.rateOf(key) }))
    .sort((a, b) => b.rate - a.rate || b.published - a.published)
    .slice(0, MAX_LISTED_SUBJECTS);
  return {
    ...base,
    uptimeMs: Date.now() - base.startedAt,
    connections: count,
    rate: sampler.rate,
    totals: { ...broker.totals, delivered, dropped },
    exactSubjects: broker.index.exactCount,
    patterns: broker.index.patternCount,
    subscribers,
    subjects,
  };
}
