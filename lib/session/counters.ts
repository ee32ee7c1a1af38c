/** Counters of what limits, heartbeats and refusals did, reported in the statistics. */

/** What the server refused or dropped, and why. */
export class ReliabilityCounters {
  /** Connections refused because `maxConnections` was reached. */
  refusedConnections = 0;
  /** Handshakes refused (wrong or missing passphrase, bad version, malformed). */
  refusedHandshakes = 0;
  /** Subscribers disconnected for staying full past `slowConsumerMs`. */
  slowConsumers = 0;
  /** Peers dropped for missing heartbeats. */
  heartbeatTimeouts = 0;
  /** Requests refused because `maxSubscriptions` was reached. */
  refusedSubscriptions = 0;
  /** Frames refused with an ERR (malformed, bad subject, bad pattern, …). */
  refusedFrames = 0;

  /** A plain copy for JSON. */
  toJSON(): Record<string, number> {
    return {
      refusedConnections: this.refusedConnections,
      refusedHandshakes: this.refusedHandshakes,
      slowConsumers: this.slowConsumers,
      heartbeatTimeouts: this.heartbeatTimeouts,
      refusedSubscriptions: this.refusedSubscriptions,
      refusedFrames: this.refusedFrames,
    };
  }
}
