/** What an event node needs to know of the server's options (the server fills in defaults). */

import type { OverflowPolicy } from "../broker/subscriber_queue.ts";
import type { TlsMaterial } from "../transport/tcp_listen.ts";

/** An event node's settings, every default filled in (see lib/server/options.ts). */
export interface NodeOptions {
  hostname: string;
  port: number;
  /** Shared passphrase clients must prove; undefined: none. */
  ident: string | undefined;
  heartbeatMs: number;
  /** Events queued per subscriber unless the client asks for fewer (or more, up to `maxQueueSize`). */
  queueSize: number;
  /** Largest queue size a client may ask for. */
  maxQueueSize: number;
  /** Most bytes queued per subscriber. */
  maxQueueBytes: number;
  /** Most bytes queued over all subscribers of the server (each node takes its share). */
  maxQueuedBytes: number;
  /** The default policy: true = "block", false = "drop-new". */
  blockQueue: boolean;
  /** Dispatch nodes in this server (for statistics). */
  workers: number;
  maxFrameBytes: number;
  maxSubjectBytes: number;
  maxPatternBytes: number;
  /** Most client connections over every node. */
  maxConnections: number;
  /** Most subscriptions per connection. */
  maxSubscriptions: number;
  /** Bytes of replies waiting for a client that does not read before its requests are not read. */
  maxReplyBytes: number;
  /** Block mode: a subscriber full this long is disconnected; 0 = never. */
  slowConsumerMs: number;
  tls: TlsMaterial | undefined;
  /** NATS servers of the cluster this server belongs to; empty: no cluster. */
  cluster: string[];
  /**
   * Refused handshakes per host (`AuthThrottle.memory()`), shared by every
   * node of a server so that a guesser is slowed on all of them alike;
   * undefined: this node counts its own.
   */
  authRecords?: SharedArrayBuffer | undefined;
}

/** The policy a client's choice (or the server's default) comes to. */
export function defaultPolicy(options: NodeOptions): OverflowPolicy {
  return options.blockQueue ? "block" : "drop-new";
}
