/**
 * The answer of the subject index for one subject: who gets every event on
 * it, and the queue groups of which one member gets each. Built once per
 * distinct subject (then memoised), read by the router for every event.
 */

import { encodeSids } from "../protocol/frames/event.ts";

/** What an event on one subject reaches at one member. */
export interface Delivery<T> {
  readonly member: T;
  /** The ids of the member's subscriptions that match, encoded for the EVENT frame. */
  readonly sids: Uint8Array;
  /** The same ids (to merge when one member is reached two ways). */
  readonly ids: readonly number[];
}

/** The round-robin position of one queue group, shared by every subject it matches. */
export interface GroupCursor {
  next: number;
}

/** A queue group whose subscriptions match a subject: one of its members gets each event. */
export interface GroupRoute<T> {
  readonly group: string;
  /** Each member once, with the ids of its subscriptions in this group that match. */
  readonly members: readonly Delivery<T>[];
  readonly cursor: GroupCursor;
}

/** Everyone an event on one subject reaches. */
export interface Routes<T> {
  /** Members with ungrouped subscriptions that match: each gets every event. */
  readonly all: readonly Delivery<T>[];
  /** Queue groups with members that match, or undefined when none. */
  readonly groups: readonly GroupRoute<T>[] | undefined;
  /**
   * Whether a member is in `all` and in a group, or in two groups: it must
   * still get an event once, with every id that matched, so the router merges.
   */
  readonly overlap: boolean;
}

/** The answer for a subject nobody wants. */
export const NO_ROUTES: Routes<never> = { all: [], groups: undefined, overlap: false };

/** Member → ids, as gathered from the index's entries. */
export type Found<T> = Map<T, number[]>;

/**
 * Builds the routes from what matched.
 *
 * @example
 * ```ts
 * const routes = routesOf(new Map([["alice", [1]]]), undefined, () => ({ next: 0 }));
 * routes.all; // [{ member: "alice", sids: <ids [1]>, ids: [1] }]
 * ```
 */
export function routesOf<T>(
  plain: Found<T>,
  groups: Map<string, Found<T>> | undefined,
  cursorOf: (group: string) => GroupCursor,
): Routes<T> {
  const all = deliveries(plain);
  if (groups === undefined || groups.size === 0) {
    return all.length === 0 ? NO_ROUTES : { all, groups: undefined, overlap: false };
  }
  let overlap = false;
  const seen = new Set<T>(plain.keys());
  const routes: GroupRoute<T>[] = [];
  for (const [group, members] of groups) {
    for (const member of members.keys()) {
      if (seen.has(member)) overlap = true;
      seen.add(member);
    }
    routes.push({ group, members: deliveries(members), cursor: cursorOf(group) });
  }
  return { all, groups: routes, overlap };
}

function deliveries<T>(found: Found<T>): Delivery<T>[] {
  return [...found].map(([member, ids]) => ({ member, sids: encodeSids(ids), ids }));
}

/**
 * Picks the member of a group that gets the next event: round robin over
 * `count` candidates from the cursor, skipping those `hasRoom` refuses; when
 * every one is full, the one whose turn it is (its policy then applies).
 *
 * @returns The index of the candidate picked.
 *
 * @example
 * ```ts
 * const cursor = { next: 0 };
 * pickMember(cursor, 3, () => true); // 0, then 1, 2, 0, …
 * pickMember(cursor, 3, (i) => i !== 1); // 2: member 1 is full
 * ```
 */
export function pickMember(
  cursor: GroupCursor,
  count: number,
  hasRoom: (index: number) => boolean,
): number {
  const start = cursor.next % count;
  for (let i = 0; i < count; i++) {
    const at = (start + i) % count;
    if (hasRoom(at)) {
      cursor.next = at + 1;
      return at;
    }
  }
  cursor.next = start + 1;
  return start;
}
