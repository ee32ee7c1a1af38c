/**
 * Queue groups at route time: of each group whose subscriptions match an
 * event, one member gets it (round robin, skipping members whose queue is
 * full), whether that member is on this node or another; and a connection
 * reached two ways (plainly and in a group, or in two groups) gets the event
 * once, with every subscription id that matched.
 */

import { encodeSids } from "../protocol/frames/event.ts";
import { type Delivery, type GroupRoute, pickMember, type Routes } from "./routes.ts";
import type { Blocker, Target } from "./target.ts";

/** Which queue groups a node picks a member of for a forwarded event: these, or all of its own. */
export type GroupChoice = readonly string[] | "all";

/** A queue group's event that goes to another node, which picks the member there. */
export interface RemotePick {
  readonly group: string;
  /** The node (as the forwarder's group routes name it). */
  readonly node: unknown;
}

/**
 * Picks one member of each group.
 *
 * @param local The groups with members on this node.
 * @param remote The groups with members on other nodes (each member a node).
 * @param only For an event another node sent: the groups this node picks for.
 * @param remotePicks Receives the groups whose pick is another node.
 * @returns The local members picked, one per group picked here.
 *
 * @example
 * ```ts
 * const remotePicks: RemotePick[] = [];
 * const picks = pickGroups(routes.groups, forwarder.groupRoutes?.(subject), undefined, remotePicks);
 * deliverPicked(routes, picks, body, subject.key, blocked);
 * ```
 */
export function pickGroups(
  local: readonly GroupRoute<Target>[] | undefined,
  remote: readonly GroupRoute<unknown>[] | undefined,
  only: GroupChoice | undefined,
  remotePicks: RemotePick[] | undefined,
): Delivery<Target>[] {
  const picks: Delivery<Target>[] = [];
  for (const route of local ?? []) {
    if (only !== undefined && only !== "all" && !only.includes(route.group)) continue;
    const elsewhere = remote?.find((r) => r.group === route.group);
    pickOne(route, elsewhere, picks, remotePicks);
  }
  for (const route of remote ?? []) {
    if (!local?.some((r) => r.group === route.group)) {
      pickOne(undefined, route, picks, remotePicks);
    }
  }
  return picks;
}

/** One group: the local members first, then the other nodes, in one rotation. */
function pickOne(
  local: GroupRoute<Target> | undefined,
  remote: GroupRoute<unknown> | undefined,
  picks: Delivery<Target>[],
  remotePicks: RemotePick[] | undefined,
): void {
  const members = local?.members ?? [];
  const count = members.length + (remotePicks ? remote?.members.length ?? 0 : 0);
  if (count === 0) return;
  const cursor = (local ?? remote)!.cursor;
  // Another node's members are not known to be full here: that node skips its full ones.
  const at = pickMember(cursor, count, (i) => i >= members.length || members[i]!.member.hasRoom());
  if (at < members.length) picks.push(members[at]!);
  else {remotePicks!.push({
      group: remote!.group,
      node: remote!.members[at - members.length]!.member,
    });}
}

/**
 * Delivers an event to every plain member of `routes` and to the picked
 * group members, each connection once.
 *
 * @param blocked Receives the targets full in block mode; without it, full
 * queues drop the event (see `Router.route()`).
 * @returns How many connections it was queued for, and dropped for.
 *
 * @example
 * ```ts
 * const picks = pickGroups(routes.groups, undefined, undefined, undefined);
 * const { count } = deliverPicked(routes, picks, body, subject.key, blocked);
 * ```
 */
export function deliverPicked(
  routes: Routes<Target>,
  picks: readonly Delivery<Target>[],
  body: Uint8Array,
  key: string,
  blocked: Blocker[] | undefined,
): { count: number; dropped: number } {
  const all = routes.all;
  let dropped = 0;
  if (!routes.overlap) {
    for (const d of all) dropped += offer(d.member, d.sids, body, key, blocked);
    for (const d of picks) dropped += offer(d.member, d.sids, body, key, blocked);
    return { count: all.length + picks.length, dropped };
  }
  const extra = new Map<Target, number[]>();
  for (const d of picks) {
    const ids = extra.get(d.member);
    if (ids === undefined) extra.set(d.member, [...d.ids]);
    else ids.push(...d.ids);
  }
  let count = 0;
  for (const d of all) {
    const ids = extra.get(d.member);
    extra.delete(d.member);
    const sids = ids === undefined ? d.sids : encodeSids([...d.ids, ...ids]);
    dropped += offer(d.member, sids, body, key, blocked);
    count++;
  }
  for (const [member, ids] of extra) {
    dropped += offer(member, encodeSids(ids), body, key, blocked);
    count++;
  }
  return { count, dropped };
}

/** Queues the event for one target; 1 when it was dropped (a sender that cannot be held). */
function offer(
  member: Target,
  sids: Uint8Array,
  body: Uint8Array,
  key: string,
  blocked: Blocker[] | undefined,
): number {
  if (blocked === undefined) return member.deliverOrDrop(sids, body, key) ? 0 : 1;
  if (!member.deliver(sids, body, key)) blocked.push(member);
  return 0;
}
