/**
 * `es explain SUBJECT`: which subscriptions an event on SUBJECT would reach,
 * and why — the answer the router would give, spelled out per subscription.
 */

import type { Router } from "../broker/router.ts";
import { compilePattern } from "../broker/pattern.ts";
import { subjectKey } from "../protocol/subjects.ts";
import type { Session } from "../session/session.ts";
import { EventConnection } from "./event_connection.ts";

/** One subscription an event would reach. */
export interface ExplainMatch {
  /** The connection (its id in the statistics), where it is from, how it introduced itself. */
  connection: number;
  remote: string;
  client: string;
  /** The dispatch node serving it (0 = main thread); set when gathered from several. */
  worker?: number;
  sid: number;
  kind: "exact" | "pattern";
  /** The subject as the subscriber spelled it, or the pattern. */
  item: string;
  /** Queue group, or "" for none (of a group, one member receives each event). */
  group: string;
  /** Its queue: policy when full, size, events and bytes waiting. */
  overflow: string;
  queueSize: number;
  queueDepth: number;
  queueBytes: number;
  /** Why it matches, in words. */
  why: string;
}

/**
 * The subscriptions on this node that an event on `subject` would reach.
 *
 * @example
 * ```ts
 * explain("STOCKQUOTE.SUN", node.sessions, node.router); // [{ kind: "pattern", why: "…" }, …]
 * ```
 */
export function explain(
  subject: string,
  sessions: Iterable<Session>,
  router: Router,
): ExplainMatch[] {
  const key = subjectKey(subject);
  const matches: ExplainMatch[] = [];
  for (const session of sessions) {
    const handler = session.handler;
    if (!(handler instanceof EventConnection)) continue;
    const queue = session.queue;
    for (const [sid, sub] of handler.subscriptions) {
      let why: string | undefined;
      if (!sub.pattern) {
        if (subjectKey(sub.item) === key) {
          why = `exact subject ${JSON.stringify(sub.item)}: equal ignoring case`;
        }
      } else {
        const pattern = router.index.knownPattern(sub.item) ?? compilePattern(sub.item);
        if (pattern.test(subject)) {
          why = `pattern ${JSON.stringify(sub.item)} matches from the start, ignoring case`;
        }
      }
      if (why === undefined) continue;
      if (sub.group !== "") {
        why += `; in queue group ${JSON.stringify(sub.group)}, of which one member gets each event`;
      }
      matches.push({
        connection: session.id,
        remote: session.remote,
        client: session.clientName,
        sid,
        kind: sub.pattern ? "pattern" : "exact",
        item: sub.item,
        group: sub.group,
        overflow: queue.limits.policy,
        queueSize: queue.limits.capacity,
        queueDepth: queue.depth,
        queueBytes: queue.bytes,
        why,
      });
    }
  }
  return matches;
}
