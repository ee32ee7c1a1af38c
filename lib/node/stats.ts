/** The event server's counters, as `es stats`, `GET /stats` and the dashboard show them. */

import type { Router } from "../broker/router.ts";
import type { Session } from "../session/session.ts";
import { EventConnection } from "./event_connection.ts";

/** One subscriber (connection) in the statistics. */
export interface SubscriberStats {
  /** The connection's id on its node. */
  id: number;
  /** Where the connection comes from: `HOST:PORT`, or `ws HOST:PORT` over `/ws`. */
  remote: string;
  /** The name the client gave in its handshake (may be empty). */
  client: string;
  /** Its exact subjects (at most 100, 4096 characters in all). */
  subjects: string[];
  /** Its patterns (capped likewise). */
  patterns: string[];
  /** Subjects left out of `subjects` (the list is capped). */
  subjectsOmitted?: number;
  /** Patterns left out of `patterns` (the list is capped). */
  patternsOmitted?: number;
  /** Queue groups of its subscriptions. */
  groups?: string[];
  /** Its queue's size, in events. */
  queueSize: number;
  /** Its queue's policy when full: `"block"`, `"drop-new"`, `"drop-old"` or `"latest"`. */
  overflow: string;
  /** Events waiting in its queue. */
  queueDepth: number;
  /** Bytes waiting in its queue. */
  queueBytes: number;
  /** Events handed to the connection. */
  delivered: number;
  /** Events its queue dropped because it was full. */
  dropped: number;
  /** Publish frames it sent. */
  published: number;
  /** With dispatch workers: the thread serving it (0 = main thread). */
  worker?: number;
}

/** One subject in the statistics, with its recent rate. */
export interface SubjectStats {
  /** The subject as first spelled by a publisher. */
  subject: string;
  /** Events published on it (subjects are counted case-insensitively). */
  published: number;
  /** Events per second over the last sampling interval. */
  rate: number;
}

/** Everything `stats()` reports. */
export interface ServerStats {
  /** The es version. */
  version: string;
  /** The event server's `es://` (or `es+tls://`) URI. */
  uri: string;
  /** When the server started, in milliseconds since the epoch. */
  startedAt: number;
  /** Time since then, in milliseconds. */
  uptimeMs: number;
  /** The default queue size of a subscriber, in events. */
  queueSize: number;
  /** The default policy of a full queue: true holds publishers, false drops. */
  blockQueue: boolean;
  /** Dispatch nodes (threads) in the server. */
  workers: number;
  /** Open client connections (subscribers, publishers, `/ws` peers). */
  connections: number;
  /** Events per second over the last sampling interval. */
  rate: number;
  /** Counters since the server started. */
  totals: {
    /** Publish frames processed. */
    publishes: number;
    /** Events: one per distinct subject of a publish. */
    events: number;
    /** Events no subscriber wanted, on any node. */
    unrouted: number;
    /** Events queued for a subscriber, one per subscriber reached. */
    routed: number;
    /** Events handed to connections (closed ones included). */
    delivered: number;
    /** Events dropped by full queues (of closed connections too). */
    dropped: number;
  };
  /** Distinct exact subjects subscribed to. */
  exactSubjects: number;
  /** Distinct patterns subscribed to. */
  patterns: number;
  /** Patterns run against subjects (once per distinct subject and pattern change). */
  patternTests: number;
  /** Events dropped, by the policy of the queue that dropped them. */
  droppedByPolicy: Record<string, number>;
  /** The subscribers with the fullest queues first; capped (see `subscribersOmitted`). */
  subscribers: SubscriberStats[];
  /** Subscribers left out of `subscribers`, so that the report stays small. */
  subscribersOmitted?: number;
  /** The subjects published on, busiest first (at most 200). */
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
/** Most subscribers listed per node, fullest queues first. */
export const MAX_LISTED_SUBSCRIBERS = 1000;
/** Most subjects or patterns listed per subscriber, and most characters of them. */
const MAX_LISTED_ITEMS = 100;
const MAX_LISTED_CHARS = 4096;

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
    const subjects = new Capped();
    const patterns = new Capped();
    const groups = new Capped();
    for (const sub of handler.subscriptions.values()) {
      (sub.pattern ? patterns : subjects).add(sub.item);
      if (sub.group !== "") groups.add(sub.group);
    }
    subscribers.push({
      id: session.id,
      remote: session.remote,
      client: session.clientName,
      subjects: subjects.listed,
      patterns: patterns.listed,
      ...(subjects.omitted > 0 ? { subjectsOmitted: subjects.omitted } : {}),
      ...(patterns.omitted > 0 ? { patternsOmitted: patterns.omitted } : {}),
      ...(groups.listed.length > 0 ? { groups: groups.listed } : {}),
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
  subscribers.sort(fullestFirst);
  const omitted = Math.max(0, subscribers.length - MAX_LISTED_SUBSCRIBERS);
  subscribers.length -= omitted;
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
    ...(omitted > 0 ? { subscribersOmitted: omitted } : {}),
    subjects,
  };
}

/** Order of the subscriber list: the fullest queues, then the busiest, first. */
export function fullestFirst(a: SubscriberStats, b: SubscriberStats): number {
  return b.queueDepth - a.queueDepth || b.delivered - a.delivered || a.id - b.id;
}

/** A list that keeps its first items (up to a count and a length) and counts the rest. */
class Capped {
  readonly listed: string[] = [];
  omitted = 0;
  #chars = 0;
  #seen = new Set<string>();

  add(item: string): void {
    if (this.#seen.has(item)) return;
    if (this.listed.length < MAX_LISTED_ITEMS && this.#chars + item.length <= MAX_LISTED_CHARS) {
      this.#seen.add(item);
      this.listed.push(item);
      this.#chars += item.length;
    } else {
      this.omitted++;
    }
  }
}

/**
 * The statistics as JSON of at most `maxBytes` UTF-8 bytes (a STATS reply
 * must fit in a frame): subscribers are left out from the end of the list
 * (counted in `subscribersOmitted`), then subjects, until it fits.
 */
export function statsJson(stats: ServerStats, maxBytes: number): Uint8Array {
  const encoder = new TextEncoder();
  let json = encoder.encode(JSON.stringify(stats));
  if (json.length <= maxBytes) return json;
  const trimmed: ServerStats = { ...stats, subscribers: [...stats.subscribers] };
  while (json.length > maxBytes && (trimmed.subscribers.length > 0 || trimmed.subjects.length)) {
    if (trimmed.subscribers.length > 0) {
      // Cut in proportion to the excess, at least one.
      const keep = Math.floor(trimmed.subscribers.length * maxBytes / json.length * 0.9);
      const cut = trimmed.subscribers.length - Math.min(keep, trimmed.subscribers.length - 1);
      trimmed.subscribers.length -= cut;
      trimmed.subscribersOmitted = (trimmed.subscribersOmitted ?? 0) + cut;
    } else {
      trimmed.subjects = trimmed.subjects.slice(0, Math.floor(trimmed.subjects.length / 2));
    }
    json = encoder.encode(JSON.stringify(trimmed));
  }
  return json;
}
