/** What crossed the cluster, and what was lost on the way (counted where it was lost). */
export class ClusterCounters {
  /** Events published to NATS. */
  sent = 0;
  /** Events from other nodes, once each. */
  received = 0;
  /** Events from other nodes that a full local queue could not take (a remote publisher is never held). */
  dropped = 0;
  /** Events not sent because NATS was unreachable. */
  notSent = 0;

  /** A plain copy for JSON. */
  toJSON(): Record<string, number> {
    return {
      sent: this.sent,
      received: this.received,
      dropped: this.dropped,
      notSent: this.notSent,
    };
  }
}
