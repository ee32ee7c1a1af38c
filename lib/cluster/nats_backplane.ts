/**
 * The cluster: es nodes on several machines joined through NATS core, which
 * carries their events (transient, at most once, as es itself). A node asks
 * NATS for the subjects its subscribers want (one NATS subject per es subject
 * key) or, while it has pattern subscriptions, for every event; it publishes
 * every event it routes. es adds no routing protocol of its own.
 */

import { getLogger } from "@logtape/logtape";
import type { Target } from "../broker/subscriber_queue.ts";
import type { Backplane, BackplaneNode } from "../node/backplane.ts";
import { eventBodySubject } from "../protocol/frames/event.ts";
import type { CachedSubject } from "../protocol/subject_cache.ts";
import { SubjectCache } from "../protocol/subject_cache.ts";
import { ClusterCounters } from "./cluster_counters.ts";
import {
  ALL_EVENTS,
  natsSubject,
  newOrigin,
  NODES_SUBJECT,
  unwrap,
  wrap,
} from "./nats_subjects.ts";
import type { NatsLink, NatsSub } from "./nats_link.ts";

const log = getLogger(["es", "cluster"]);

/** How often a node announces itself, and how long a silent peer stays listed. */
const ANNOUNCE_MS = 2_000;
const PEER_TTL_MS = 3 * ANNOUNCE_MS;
/** Origins not heard from for this long are forgotten (their sequence with them). */
const ORIGIN_TTL_MS = 10 * 60_000;

/**
 * One node's membership of the cluster.
 *
 * @example
 * ```ts
 * const backplane = new NatsBackplane(await openNatsLink(["nats://127.0.0.1:4222"], "es a"), "a");
 * const node = new EventNode(options, { listener, backplane });
 * ```
 */
export class NatsBackplane implements Backplane {
  readonly counters: ClusterCounters = new ClusterCounters();
  #link: NatsLink;
  #name: string;
  #node: BackplaneNode | undefined;
  #origin = newOrigin();
  #seq = 0;
  /** NATS subscriptions by subject key, with how many (key, queue group) interests hold each. */
  #exact = new Map<string, { sub: NatsSub; uses: number }>();
  #patterns = 0;
  #all: NatsSub | undefined;
  #lastSeq = new Map<string, { seq: number; at: number }>();
  #peers = new Map<string, { name: string; at: number }>();
  #subjects = new SubjectCache(4096);
  #announcer: ReturnType<typeof setInterval> | undefined;
  #dirty = false;
  /** The last flush that puts interest in force (resolved when nothing is pending). */
  #inForce: Promise<void> = Promise.resolve();

  /**
   * @param link The NATS connection (it reconnects by itself and restores its subscriptions).
   * @param name How this node is listed by the others (its `es://` URI).
   */
  constructor(link: NatsLink, name: string) {
    this.#link = link;
    this.#name = name;
  }

  start(node: BackplaneNode): void {
    this.#node = node;
    this.#link.subscribe(NODES_SUBJECT, (data) => this.#heard(data));
    const announce = () =>
      this.#link.publish(
        NODES_SUBJECT,
        new TextEncoder().encode(JSON.stringify({ name: this.#name, id: this.#originId() })),
      );
    announce();
    this.#announcer = setInterval(announce, ANNOUNCE_MS);
    Deno.unrefTimer(this.#announcer);
  }

  #originId(): string {
    return [...this.#origin].map((b) => b.toString(16).padStart(2, "0")).join("");
  }

  #heard(data: Uint8Array): void {
    try {
      const { name, id } = JSON.parse(new TextDecoder().decode(data)) as {
        name: string;
        id: string;
      };
      if (id !== this.#originId()) this.#peers.set(id, { name: String(name), at: Date.now() });
    } catch {
      // Not an announcement of ours: ignore it.
    }
  }

  /** Queue groups are per node in a cluster: any group's interest asks NATS for the same events. */
  interestChanged(kind: "exact" | "pattern", item: string, present: boolean, _group: string): void {
    if (kind === "pattern") {
      this.#patterns += present ? 1 : -1;
      if (this.#patterns > 0 && this.#all === undefined) {
        this.#all = this.#link.subscribe(ALL_EVENTS, (data) => this.#receive(data));
      } else if (this.#patterns === 0 && this.#all !== undefined) {
        this.#all.unsubscribe();
        this.#all = undefined;
      }
    } else if (present) {
      const known = this.#exact.get(item);
      if (known !== undefined) known.uses++;
      else {
        const sub = this.#link.subscribe(natsSubject(item), (data) => this.#receive(data));
        this.#exact.set(item, { sub, uses: 1 });
      }
    } else {
      const known = this.#exact.get(item);
      if (known !== undefined && --known.uses === 0) {
        known.sub.unsubscribe();
        this.#exact.delete(item);
      }
    }
    this.#dirty = true;
  }

  /**
   * Once NATS has our subscriptions, events published anywhere after that reach us. A caller
   * that changed no interest still waits for the flush under way: another connection's
   * subscription to the same key may have asked NATS for it a moment before.
   */
  interestInForce(): Promise<void> {
    if (!this.#link.connected) return Promise.resolve();
    if (this.#dirty) {
      this.#dirty = false;
      this.#inForce = this.#link.flush().catch(() => {});
    }
    return this.#inForce;
  }

  /** Every event goes to NATS, which knows who wants it; down, it is counted as lost there. */
  wants(_subject: CachedSubject): boolean {
    return true;
  }

  forward(_subject: CachedSubject, body: Uint8Array, _blocked: Target[]): void {
    if (!this.#link.connected) {
      this.counters.notSent++;
      return;
    }
    this.#seq = (this.#seq + 1) >>> 0;
    this.#link.publish(natsSubject(_subject.key), wrap(this.#origin, this.#seq, body));
    this.counters.sent++;
  }

  #receive(data: Uint8Array): void {
    const message = unwrap(data);
    const node = this.#node;
    if (message === undefined || node === undefined) return;
    // Seen twice (an exact subscription and the wildcard overlap): delivered once.
    const now = Date.now();
    const last = this.#lastSeq.get(message.origin);
    if (last !== undefined && ((message.seq - last.seq) >>> 0) >= 0x8000_0000) return;
    if (last !== undefined && message.seq === last.seq) return;
    this.#lastSeq.set(message.origin, { seq: message.seq, at: now });
    this.counters.received++;
    let subject: CachedSubject;
    try {
      subject = eventBodySubject(message.body, this.#subjects);
    } catch {
      return; // Not an es event body: another program on our subjects.
    }
    // A remote publisher cannot be held: what a full queue cannot take is dropped and counted.
    // Each node picks a member of each of its own queue groups (groups are per node here).
    this.counters.dropped += node.deliverForwarded(subject, message.body, undefined, "all");
    if (this.#lastSeq.size > 1024) this.#forgetOrigins(now);
  }

  #forgetOrigins(now: number): void {
    for (const [origin, { at }] of this.#lastSeq) {
      if (now - at > ORIGIN_TTL_MS) this.#lastSeq.delete(origin);
    }
  }

  /** No flush waits for NATS: between nodes, delivery is at most once. */
  settled(): undefined {
    return undefined;
  }

  /** The cluster's state for the statistics. */
  stats(): Record<string, unknown> {
    const now = Date.now();
    // The other processes' nodes, by URI (the threads of one process share theirs).
    const peers = [
      ...new Set(
        [...this.#peers.values()]
          .filter((p) => now - p.at < PEER_TTL_MS && p.name !== this.#name)
          .map((p) => p.name),
      ),
    ].sort();
    return {
      servers: this.#link.servers,
      connected: this.#link.connected,
      peers,
      subscriptions: this.#exact.size + (this.#all ? 1 : 0),
      ...this.counters.toJSON(),
      slowConsumers: this.#link.slowConsumers,
      reconnects: this.#link.reconnects,
    };
  }

  close(): void {
    clearInterval(this.#announcer);
    void this.#link.close().catch((error) =>
      log.debug("Closing the NATS connection: {error}", { error: String(error) })
    );
  }
}
