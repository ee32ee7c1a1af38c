/**
 * How an event node joins others: a `Backplane` carries its subscribers'
 * interest to the other nodes and events their subscribers want between
 * them. The dispatch workers of one process implement it (lib/dispatch/);
 * the node neither knows nor cares what is on the other side.
 */

import type { Forwarder, GroupChoice } from "../broker/router.ts";
import type { InterestItem } from "../broker/subject_index.ts";
import type { Blocker } from "../broker/subscriber_queue.ts";
import type { CachedSubject } from "../protocol/subject_cache.ts";

/** What a backplane needs from the node it serves. */
export interface BackplaneNode {
  /**
   * Delivers an event another node routed here; pushes what is full in block
   * mode onto `blocked`. Without `blocked` (a sender that cannot be held), a
   * full queue drops the event instead.
   *
   * @param groups The queue groups this node picks a member of (see `Router.deliverForwarded()`).
   * @returns How many subscribers it was dropped for.
   */
  deliverForwarded(
    subject: CachedSubject,
    body: Uint8Array,
    blocked: Blocker[] | undefined,
    groups?: GroupChoice,
  ): number;
  /** Every subject key and pattern the node's subscribers want, per queue group, for a peer that joins. */
  interest(): InterestItem[];
}

/** The other nodes, as one event node sees them. */
export interface Backplane extends Forwarder {
  /** Called once, by the node's constructor. */
  start(node: BackplaneNode): void;
  /**
   * The node gained its first subscription to a key or pattern in queue
   * group `group` ("" for the ungrouped ones), or lost its last one there.
   */
  interestChanged(kind: "exact" | "pattern", item: string, present: boolean, group: string): void;
  /** Resolves once every interest change reported so far is in force on the other nodes. */
  interestInForce(): Promise<void>;
  /**
   * Resolves once the other nodes processed everything forwarded so far and
   * hold connection `publisher` no more; undefined when nothing is pending.
   */
  settled(publisher: number): Promise<void> | undefined;
  /** Whether another node wants this exact subject key or pattern (for `$es.interest`). */
  remoteInterest?(kind: "exact" | "pattern", key: string): boolean;
  /** The state of the link to the other nodes, for the statistics. */
  stats?(): Record<string, unknown>;
  /** Leaves the other nodes. */
  close(): void;
}
