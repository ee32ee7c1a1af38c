/** Sums the statistics of every dispatch node into one report. */

import {
  fullestFirst,
  MAX_LISTED_SUBSCRIBERS,
  type ServerStats,
  type SubjectStats,
} from "../node/stats.ts";

/** Most subjects listed, busiest first (as one node lists). */
const MAX_LISTED_SUBJECTS = 200;

/**
 * Merges per-node statistics; the first is the main thread's and gives the
 * identity fields. Counters are summed; subjects and patterns subscribed on
 * several nodes are counted once per node.
 */
export function mergeStats(all: ServerStats[]): ServerStats {
  const first = all[0]!;
  const totals = { ...first.totals };
  const subjects = new Map<string, SubjectStats>();
  const merged: ServerStats = {
    ...first,
    totals,
    subscribers: first.subscribers.map((s) => ({ ...s, worker: 0 })),
    droppedByPolicy: { ...first.droppedByPolicy },
    ...(first.reliability ? { reliability: { ...first.reliability } } : {}),
    ...(first.cluster ? { cluster: { ...first.cluster } } : {}),
    workerConnections: all.map((s) => s.connections),
  };
  for (const s of first.subjects) subjects.set(s.subject.toLowerCase(), { ...s });
  for (const [i, other] of all.entries()) {
    if (i === 0) continue;
    merged.connections += other.connections;
    merged.rate += other.rate;
    merged.exactSubjects += other.exactSubjects;
    merged.patterns += other.patterns;
    merged.patternTests += other.patternTests;
    for (const [policy, count] of Object.entries(other.droppedByPolicy)) {
      merged.droppedByPolicy[policy] = (merged.droppedByPolicy[policy] ?? 0) + count;
    }
    for (const key of Object.keys(totals) as (keyof typeof totals)[]) {
      totals[key] += other.totals[key];
    }
    for (const s of other.subscribers) merged.subscribers.push({ ...s, worker: i });
    if (other.subscribersOmitted) {
      merged.subscribersOmitted = (merged.subscribersOmitted ?? 0) + other.subscribersOmitted;
    }
    if (merged.reliability && other.reliability) {
      for (const [key, value] of Object.entries(other.reliability)) {
        merged.reliability[key] = (merged.reliability[key] ?? 0) + value;
      }
    }
    if (merged.cluster && other.cluster) {
      merged.cluster = mergeCluster(merged.cluster, other.cluster);
    }
    for (const s of other.subjects) {
      const key = s.subject.toLowerCase();
      const known = subjects.get(key);
      if (known) {
        known.published += s.published;
        known.rate += s.rate;
      } else subjects.set(key, { ...s });
    }
  }
  merged.subscribers.sort(fullestFirst);
  const cut = Math.max(0, merged.subscribers.length - MAX_LISTED_SUBSCRIBERS);
  if (cut > 0) {
    merged.subscribers.length -= cut;
    merged.subscribersOmitted = (merged.subscribersOmitted ?? 0) + cut;
  }
  merged.subjects = [...subjects.values()]
    .sort((a, b) => b.rate - a.rate || b.published - a.published)
    .slice(0, MAX_LISTED_SUBJECTS);
  return merged;
}

/** Two nodes' cluster state as one: counters summed, peers joined, connected only if both are. */
function mergeCluster(
  a: Record<string, unknown>,
  b: Record<string, unknown>,
): Record<string, unknown> {
  const out: Record<string, unknown> = { ...a };
  for (const [key, value] of Object.entries(b)) {
    const mine = out[key];
    if (typeof value === "number" && typeof mine === "number") out[key] = mine + value;
    else if (Array.isArray(value) && Array.isArray(mine) && key === "peers") {
      out[key] = [...new Set([...mine, ...value])].sort();
    } else if (typeof value === "boolean" && typeof mine === "boolean") out[key] = mine && value;
  }
  return out;
}
