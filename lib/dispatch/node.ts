/**
 * One dispatch node: an `EventServer` on one thread (the main thread or a
 * worker) joined to the other nodes. It mirrors its subscribers' interest on
 * every peer and routes each publish to the peers that want it.
 */

import type { Target } from "../broker/subscriber_queue.ts";
import { SubjectIndex } from "../broker/subject_index.ts";
import type { EventServer } from "../server/event_server.ts";
import { InterestCode, type InterestOp, Peer } from "./peer.ts";

/** An `EventServer` joined to other threads' servers. */
export class DispatchNode {
  /** This node's number (0 = main thread). */
  readonly id: number;
  readonly server: EventServer;
  readonly peers: Peer[] = [];
  /** Which peers want which subjects and patterns. */
  readonly peerIndex = new SubjectIndex<Target>();
  #pending: InterestOp[] = [];
  #lastSend: Promise<void> = Promise.resolve();

  constructor(id: number, server: EventServer) {
    this.id = id;
    this.server = server;
    const broker = server.broker;
    broker.peers = this.peerIndex;
    broker.index.onInterest = (item, isPattern, present) => {
      const op = isPattern
        ? (present ? InterestCode.ADD_PATTERN : InterestCode.REMOVE_PATTERN)
        : (present ? InterestCode.ADD_EXACT : InterestCode.REMOVE_EXACT);
      this.#pending.push([op, item]);
    };
    const ctx = server.context;
    ctx.interestChanged = () => this.#sendInterest();
    ctx.settled = () => this.#settled();
  }

  /** Joins a peer node reached through `port`, telling it the current interest. */
  addPeer(id: number, port: MessagePort): void {
    const peer = new Peer(id, port, { broker: this.server.broker, peerIndex: this.peerIndex });
    this.peers.push(peer);
    const { exact, patterns } = this.server.broker.index.interest();
    const ops: InterestOp[] = [
      ...exact.map((k): InterestOp => [InterestCode.ADD_EXACT, k]),
      ...patterns.map((p): InterestOp => [InterestCode.ADD_PATTERN, p]),
    ];
    if (ops.length > 0) void peer.sendInterest(ops);
  }

  /** Sends pending interest changes to every peer; resolves once all applied them. */
  #sendInterest(): Promise<void> {
    if (this.#pending.length > 0) {
      const ops = this.#pending;
      this.#pending = [];
      this.#lastSend = Promise.all(this.peers.map((p) => p.sendInterest(ops))).then(() => {});
    }
    return this.#lastSend;
  }

  /** Resolves once every peer has processed the events sent to it so far. */
  #settled(): Promise<void> | undefined {
    let waits: Promise<void>[] | undefined;
    for (const peer of this.peers) {
      const wait = peer.settled();
      if (wait !== undefined) (waits ??= []).push(wait);
    }
    return waits && Promise.all(waits).then(() => {});
  }

  /** Closes every peer link. */
  close(): void {
    for (const peer of this.peers) peer.close();
  }
}
