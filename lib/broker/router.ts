/**
 * The router: one published event in, copies into the queues of everyone
 * subscribed, and (through a `Forwarder`) to other nodes that want it. It
 * works on bytes only (payloads are never decoded) and does no I/O.
 */

import { EventBodyWriter } from "../protocol/frames/event.ts";
import type { CachedSubject } from "../protocol/subject_cache.ts";
import { deliverPicked, type GroupChoice, pickGroups, type RemotePick } from "./group_pick.ts";
import type { GroupRoute } from "./routes.ts";
import {
  type GroupInterestListener,
  type InterestListener,
  SubjectIndex,
} from "./subject_index.ts";
import type { Blocker, Target } from "./subscriber_queue.ts";

export type { GroupChoice, RemotePick } from "./group_pick.ts";

/** Most distinct subjects counted in the statistics; past it they are summed as one. */
const MAX_SUBJECT_STATS = 10_000;

/** Publish counters of one subject. */
export interface SubjectCounter {
  /** The subject as first spelled by a publisher. */
  subject: string;
  published: number;
}

/** Counters over the router's life. */
export interface RouterTotals {
  /** Publish frames processed. */
  publishes: number;
  /** Events (one per distinct subject of a publish). */
  events: number;
  /** Events no subscriber wanted, on any node. */
  unrouted: number;
  /** Events queued for a local subscriber (one per subscriber reached). */
  routed: number;
}

/** Where events go that subscribers on other nodes want (see lib/dispatch/). */
export interface Forwarder {
  /** Whether some other node wants an event on `subject` (plainly or in a queue group). */
  wants(subject: CachedSubject): boolean;
  /**
   * After `wants()` said yes: the queue groups with members on other nodes
   * that match `subject` (a member there is a node), so that the router picks
   * among the members of every node at once. Undefined when none, or when
   * other nodes pick for their own members (a cluster).
   */
  groupRoutes?(subject: CachedSubject): readonly GroupRoute<unknown>[] | undefined;
  /**
   * Sends the event body of connection `publisher` on; pushes onto `blocked`
   * what the publisher must wait for.
   *
   * @param picks The queue groups whose event goes to another node, and which.
   */
  forward(
    subject: CachedSubject,
    body: Uint8Array,
    blocked: Blocker[],
    publisher: number,
    picks?: readonly RemotePick[],
  ): void;
}

/** Options of `Router`. */
export interface RouterOptions {
  onInterest?: InterestListener;
  onGroupInterest?: GroupInterestListener;
  forwarder?: Forwarder;
}

/**
 * Routes events to targets through a `SubjectIndex`.
 *
 * @example
 * ```ts
 * const router = new Router();
 * router.index.subscribe(queue, 1, "news");
 * const blocked: Blocker[] = [];
 * router.route(cache.lookup(bytes, 0, bytes.length), Date.now(), CodecTag.MSGPACK, payload, blocked);
 * ```
 */
export class Router {
  readonly index: SubjectIndex<Target>;
  readonly totals: RouterTotals = { publishes: 0, events: 0, unrouted: 0, routed: 0 };
  readonly subjects: Map<string, SubjectCounter> = new Map();
  /** Counter of the subjects past the statistics limit. */
  readonly otherSubjects: SubjectCounter = { subject: "(other subjects)", published: 0 };
  #forwarder: Forwarder | undefined;
  #bodies = new EventBodyWriter();

  constructor(options: RouterOptions = {}) {
    this.index = new SubjectIndex<Target>({
      ...(options.onInterest ? { onInterest: options.onInterest } : {}),
      ...(options.onGroupInterest ? { onGroupInterest: options.onGroupInterest } : {}),
    });
    this.#forwarder = options.forwarder;
  }

  /**
   * Routes one event on `subject` to every local subscriber and every node
   * that wants it, all sharing one encoded body.
   *
   * @param blocked Receives the targets that are full in block mode: the
   * caller must wait for their room before it routes more. Without it (the
   * server's own events, which nobody can hold), full queues drop the event.
   * @param publisher The publishing connection's id (other nodes hold it by that id).
   */
  route(
    subject: CachedSubject,
    time: number,
    codec: number,
    payload: Uint8Array,
    blocked: Blocker[] | undefined,
    publisher = 0,
  ): void {
    const totals = this.totals;
    // The server's own events (no `blocked`: nobody to hold) are not counted as publishes.
    if (blocked !== undefined) {
      totals.events++;
      this.#count(subject);
    }
    const routes = this.index.routes(subject.subject, subject.key);
    const targets = routes.all;
    const forwarder = this.#forwarder;
    const remote = forwarder !== undefined && forwarder.wants(subject);
    if (targets.length === 0 && !remote && routes.groups === undefined) {
      if (blocked !== undefined) totals.unrouted++;
      return;
    }
    const body = this.#bodies.write(time, codec, subject.bytes, payload);
    const key = subject.key;
    const remoteGroups = remote ? forwarder.groupRoutes?.(subject) : undefined;
    if (routes.groups !== undefined || remoteGroups !== undefined) {
      // Queue groups: one member of each, on this node or another, gets the event.
      const remotePicks: RemotePick[] = [];
      const picks = pickGroups(routes.groups, remoteGroups, undefined, remotePicks);
      const reached = deliverPicked(routes, picks, body, key, blocked);
      if (blocked !== undefined) totals.routed += reached.count;
      if (remote) forwarder.forward(subject, body, blocked ?? [], publisher, remotePicks);
      return;
    }
    if (blocked !== undefined) totals.routed += targets.length;
    for (let i = 0; i < targets.length; i++) {
      const { member, sids } = targets[i]!;
      if (blocked === undefined) member.deliverOrDrop(sids, body, key);
      else if (!member.deliver(sids, body, key)) blocked.push(member);
    }
    if (remote) forwarder.forward(subject, body, blocked ?? [], publisher);
  }

  /**
   * Delivers an event body that another node routed here to the local
   * subscribers of its subject. Without `blocked`, full queues drop it.
   *
   * @param groups The queue groups this node picks a member of: those the
   * sending node chose it for, or all of them (each node of a cluster picks
   * for its own members).
   * @returns How many subscribers it was dropped for.
   */
  deliverForwarded(
    subject: CachedSubject,
    body: Uint8Array,
    blocked: Blocker[] | undefined,
    groups?: GroupChoice,
  ): number {
    const routes = this.index.routes(subject.subject, subject.key);
    const key = subject.key;
    if (routes.groups !== undefined && groups !== undefined) {
      const picks = pickGroups(routes.groups, undefined, groups, undefined);
      const reached = deliverPicked(routes, picks, body, key, blocked);
      this.totals.routed += reached.count;
      return reached.dropped;
    }
    const targets = routes.all;
    this.totals.routed += targets.length;
    let dropped = 0;
    for (let i = 0; i < targets.length; i++) {
      const { member, sids } = targets[i]!;
      if (blocked === undefined) {
        if (!member.deliverOrDrop(sids, body, key)) dropped++;
      } else if (!member.deliver(sids, body, key)) blocked.push(member);
    }
    return dropped;
  }

  #count(subject: CachedSubject): void {
    // The counter rides on the cached subject: no map lookup per event.
    const known = subject.counter;
    if (known !== undefined) {
      known.published++;
      return;
    }
    let counter = this.subjects.get(subject.key);
    if (!counter) {
      if (this.subjects.size >= MAX_SUBJECT_STATS) {
        this.otherSubjects.published++;
        return;
      }
      this.subjects.set(subject.key, counter = { subject: subject.subject, published: 0 });
    }
    subject.counter = counter;
    counter.published++;
  }
}

/** Waits until every blocked target has room again. */
export function whenAllHaveRoom(blocked: readonly Blocker[]): Promise<unknown> {
  if (blocked.length === 1) return blocked[0]!.whenRoom();
  return Promise.all(blocked.map((t) => t.whenRoom()));
}
