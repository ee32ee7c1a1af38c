/**
 * The backplane of the nodes inside one es process: each node mirrors its
 * subscribers' interest on every other node, and routes each publish to the
 * nodes that want it, over a `Peer` link per pair of nodes.
 *
 * Queue groups span the nodes: each node mirrors its interest per (subject
 * key or pattern, group), so the node where a publish is routed sees, for
 * each group, its own members and the other nodes that have members. It
 * picks one of them all (a node counts as one member); when the pick is
 * another node, the event goes there once, naming the groups that node picks
 * a member for, together with its plain subscribers (so a connection there
 * never gets it twice).
 */

import type { RemotePick } from "../broker/router.ts";
import { type Routes, SubjectIndex } from "../broker/subject_index.ts";
import type { Blocker } from "../broker/subscriber_queue.ts";
import type { Backplane, BackplaneNode } from "../node/backplane.ts";
import type { CachedSubject } from "../protocol/subject_cache.ts";
import { InterestCode, type InterestOp, Peer } from "./peer.ts";

const NO_PEERS: Routes<Peer> = { all: [], groups: undefined, overlap: false };

/**
 * One node's view of the other nodes of its process.
 *
 * @example
 * ```ts
 * const backplane = new PeerBackplane();
 * const node = new EventNode(options, { listener, backplane });
 * backplane.addPeer(1, port); // a MessagePort to node 1
 * ```
 */
export class PeerBackplane implements Backplane {
  readonly peers: Peer[] = [];
  /** Which peers want which subjects and patterns. */
  readonly peerIndex: SubjectIndex<Peer> = new SubjectIndex<Peer>();
  #node: BackplaneNode | undefined;
  #pending: InterestOp[] = [];
  #lastSend: Promise<void> = Promise.resolve();
  #lastSubject: CachedSubject | undefined;
  #lastRoutes: Routes<Peer> = NO_PEERS;

  start(node: BackplaneNode): void {
    this.#node = node;
  }

  /** Joins a peer node reached through `port`, telling it the current interest. */
  addPeer(id: number, port: MessagePort): void {
    const node = this.#node;
    if (node === undefined) throw new Error("PeerBackplane.addPeer() before start()");
    const peer = new Peer(id, port, { node, peerIndex: this.peerIndex });
    this.peers.push(peer);
    const ops = node.interest().map(({ kind, item, group }): InterestOp => {
      const op = kind === "exact" ? InterestCode.ADD_EXACT : InterestCode.ADD_PATTERN;
      return group === "" ? [op, item] : [op, item, group];
    });
    if (ops.length > 0) void peer.sendInterest(ops);
  }

  remoteInterest(kind: "exact" | "pattern", key: string): boolean {
    return kind === "exact" ? this.peerIndex.hasExact(key) : this.peerIndex.hasPattern(key);
  }

  interestChanged(kind: "exact" | "pattern", item: string, present: boolean, group: string): void {
    const op = kind === "pattern"
      ? (present ? InterestCode.ADD_PATTERN : InterestCode.REMOVE_PATTERN)
      : (present ? InterestCode.ADD_EXACT : InterestCode.REMOVE_EXACT);
    this.#pending.push(group === "" ? [op, item] : [op, item, group]);
  }

  interestInForce(): Promise<void> {
    if (this.#pending.length > 0) {
      const ops = this.#pending;
      this.#pending = [];
      this.#lastSend = Promise.all(this.peers.map((p) => p.sendInterest(ops))).then(() => {});
    }
    return this.#lastSend;
  }

  wants(subject: CachedSubject): boolean {
    this.#lastSubject = subject;
    const routes = this.#lastRoutes = this.peerIndex.routes(subject.subject, subject.key);
    return routes.all.length > 0 || routes.groups !== undefined;
  }

  groupRoutes(subject: CachedSubject): Routes<Peer>["groups"] {
    return this.#routes(subject).groups;
  }

  #routes(subject: CachedSubject): Routes<Peer> {
    return subject === this.#lastSubject
      ? this.#lastRoutes
      : this.peerIndex.routes(subject.subject, subject.key);
  }

  forward(
    subject: CachedSubject,
    body: Uint8Array,
    blocked: Blocker[],
    publisher: number,
    picks?: readonly RemotePick[],
  ): void {
    const targets = this.#routes(subject).all;
    if (picks === undefined || picks.length === 0) {
      for (let i = 0; i < targets.length; i++) {
        const peer = targets[i]!.member;
        if (!peer.forward(body, publisher)) blocked.push(peer.blocker(publisher));
      }
      return;
    }
    // Each peer once: its plain subscribers and the groups it picks a member of.
    const groups = new Map<Peer, string[] | undefined>();
    for (const { member } of targets) groups.set(member, undefined);
    for (const { group, node } of picks) {
      const peer = node as Peer;
      const names = groups.get(peer);
      if (names === undefined) groups.set(peer, [group]);
      else names.push(group);
    }
    for (const [peer, names] of groups) {
      if (!peer.forward(body, publisher, names)) blocked.push(peer.blocker(publisher));
    }
  }

  /**
   * FLUSH of connection `publisher`: the other nodes never wait before they
   * process a batch, so this is one round trip, plus the time any of them
   * holds this publisher for a full queue of its own.
   */
  settled(publisher: number): Promise<void> | undefined {
    let waits: Promise<void>[] | undefined;
    for (const peer of this.peers) {
      const wait = peer.settled();
      if (wait !== undefined) (waits ??= []).push(wait);
    }
    const released = () => Promise.all(this.peers.map((p) => p.whenReleased(publisher)));
    if (waits === undefined) {
      return this.peers.some((p) => p.isHolding(publisher)) ? released().then(() => {}) : undefined;
    }
    return Promise.all(waits).then(released).then(() => {});
  }

  close(): void {
    for (const peer of this.peers) peer.close();
  }
}
