/**
 * `GET /metrics`: the server's counters in the Prometheus text format
 * (version 0.0.4), for a Prometheus server or any scraper that reads it.
 */

/** The parts of the server's statistics that become metrics (see lib/node/stats.ts). */
export interface MetricsSource {
  version: string;
  uptimeMs: number;
  workers: number;
  connections: number;
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
  patternTests?: number;
  droppedByPolicy?: Record<string, number>;
  subscribers: { queueDepth: number; queueBytes?: number }[];
  reliability?: Record<string, number>;
  cluster?: Record<string, unknown>;
}

/** The content type of the text format. */
export const METRICS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

type Sample = [labels: Record<string, string>, value: number];

/** Escapes a label value as the text format wants. */
function label(value: string): string {
  return value.replaceAll("\\", "\\\\").replaceAll("\n", "\\n").replaceAll('"', '\\"');
}

/**
 * Renders `stats` as Prometheus text.
 *
 * @example
 * ```ts
 * const text = prometheusText(await server.stats());
 * // # TYPE es_events_published_total counter
 * // es_events_published_total 42
 * ```
 */
export function prometheusText(stats: MetricsSource): string {
  const out: string[] = [];
  const metric = (
    name: string,
    type: "counter" | "gauge",
    help: string,
    samples: Sample[] | number,
  ): void => {
    out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    const list: Sample[] = typeof samples === "number" ? [[{}, samples]] : samples;
    for (const [labels, value] of list) {
      const parts = Object.entries(labels).map(([k, v]) => `${k}="${label(v)}"`);
      out.push(`${name}${parts.length ? `{${parts.join(",")}}` : ""} ${value}`);
    }
  };
  const t = stats.totals;
  metric("es_info", "gauge", "es version (always 1).", [[{ version: stats.version }, 1]]);
  metric("es_uptime_seconds", "gauge", "Time since the server started.", stats.uptimeMs / 1000);
  metric("es_workers", "gauge", "Dispatch nodes of this server.", stats.workers);
  metric("es_connections", "gauge", "Open client connections.", stats.connections);
  metric("es_publishes_total", "counter", "PUB frames processed.", t.publishes);
  metric(
    "es_events_published_total",
    "counter",
    "Events published (one per subject of a PUB).",
    t.events,
  );
  metric("es_events_unrouted_total", "counter", "Events no subscriber wanted.", t.unrouted);
  metric("es_events_routed_total", "counter", "Events queued for a subscriber.", t.routed);
  metric("es_events_delivered_total", "counter", "Events written to subscribers.", t.delivered);
  metric("es_events_dropped_total", "counter", "Events dropped for full queues.", t.dropped);
  metric(
    "es_events_dropped_by_policy_total",
    "counter",
    "Events dropped, by the overflow policy of the queue that dropped them.",
    Object.entries(stats.droppedByPolicy ?? {}).map(([policy, n]): Sample => [{ policy }, n]),
  );
  const depth = stats.subscribers.reduce((sum, s) => sum + s.queueDepth, 0);
  const bytes = stats.subscribers.reduce((sum, s) => sum + (s.queueBytes ?? 0), 0);
  metric(
    "es_subscribers",
    "gauge",
    "Connections with at least one subscription.",
    stats.subscribers.length,
  );
  metric("es_queued_events", "gauge", "Events waiting in subscribers' queues.", depth);
  metric("es_queued_bytes", "gauge", "Bytes waiting in subscribers' queues.", bytes);
  metric("es_subjects", "gauge", "Distinct exact subjects subscribed.", stats.exactSubjects);
  metric("es_patterns", "gauge", "Distinct patterns subscribed.", stats.patterns);
  metric(
    "es_pattern_tests_total",
    "counter",
    "Patterns run against subjects (once per distinct subject and pattern change).",
    stats.patternTests ?? 0,
  );
  metric(
    "es_refused_total",
    "counter",
    "What limits, heartbeats and the handshake refused or dropped, by reason.",
    Object.entries(stats.reliability ?? {}).map(([reason, n]): Sample => [{ reason }, n]),
  );
  const cluster = stats.cluster;
  if (cluster) {
    metric(
      "es_cluster_connected",
      "gauge",
      "1 while connected to NATS.",
      cluster.connected ? 1 : 0,
    );
    metric(
      "es_cluster_peers",
      "gauge",
      "Other es nodes seen.",
      (cluster.peers as unknown[]).length,
    );
    for (const key of ["sent", "received", "dropped", "notSent", "reconnects"] as const) {
      const name = `es_cluster_${key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)}_total`;
      metric(
        name,
        "counter",
        `Cluster: events ${key} (see docs/CLUSTER.md).`,
        Number(cluster[key] ?? 0),
      );
    }
  }
  return out.join("\n") + "\n";
}
