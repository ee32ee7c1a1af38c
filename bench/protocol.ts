/**
 * What the coordinator (bench/main.ts) and the role processes (bench/role_main.ts)
 * say to each other: the role a child plays, the JSON lines it prints on stdout,
 * the commands it reads on stdin, and the layout of the 64-byte payload.
 */

/** Which client library a role process uses. */
export type ClientKind = "es" | "nats" | "redis" | "relay";

/** Where a role process connects, and with what. */
export interface Target {
  kind: ClientKind;
  /** es://, nats://, redis:// or relay:// host:port. */
  url: string;
  /** es only: a file URL of the client module the server serves at /client.js. */
  clientModule?: string;
}

/** One wildcard subscription, spelled for each system. */
export interface PatternSpec {
  /** es: a regular expression. */
  regex: string;
  /** NATS: a wildcard subject. */
  nats: string;
  /** Redis: a PSUBSCRIBE glob. */
  glob: string;
}

/** Subscriber connections that count (or time) events and report once. */
export interface SubRole {
  role: "sub";
  target: Target;
  connections: number;
  /** Exact subjects each connection subscribes to, or one pattern. */
  subjects?: string[];
  pattern?: PatternSpec;
  /** Measured events each connection should receive (warm-up events come on top). */
  expected: number;
  /** Warm-up events each connection should receive before the measured ones. */
  warm: number;
  /** Record one-way latencies from the timestamp in the payload. */
  latency: boolean;
}

/** Publisher connections that each run the publish loop once "go" arrives. */
export interface PubRole {
  role: "pub";
  target: Target;
  connections: number;
  subjects: string[];
  /** Measured events per connection, after `warm` warm-up events. */
  count: number;
  warm: number;
  /** Id of the first connection's events (the next connections count up). */
  firstPublisherId: number;
  /** Paced publishing at this many events per second per connection (W3). */
  ratePerSec?: number;
}

/** Idle subscriber connections held open until "exit" (M1). */
export interface HoldRole {
  role: "hold";
  target: Target;
  connections: number;
}

export type RoleSpec = SubRole | PubRole | HoldRole;

/** What one subscriber connection saw. */
export interface SubReport {
  /** Measured events received. */
  count: number;
  /** Warm-up events received. */
  warm: number;
  /** Events that came with a sequence number not above the last one from their publisher. */
  disorder: number;
  /** Epoch milliseconds (sub-millisecond precision) of the first measured delivery. */
  firstMs: number;
  /** Epoch milliseconds of the last delivery timed, and how many had arrived by then. */
  lastMs: number;
  countAtLast: number;
}

/** Latency percentiles in microseconds. */
export interface LatencyReport {
  samples: number;
  p50Us: number;
  p99Us: number;
  maxUs: number;
}

/** One JSON line printed by a role process. */
export type RoleMessage =
  | { type: "ready" }
  | { type: "done"; sent: number; startMs: number; endMs: number; cpuMs: number }
  | { type: "result"; connections: SubReport[]; latency?: LatencyReport; cpuMs: number }
  | { type: "error"; message: string };

/** One line read by a role process: start publishing, publishers finished, leave. */
export type RoleCommand = "go" | "end" | "exit";

/** Every event carries 64 bytes, whatever the system. */
export const PAYLOAD_BYTES = 64;
/** Float64, epoch milliseconds when published (W3 only; zero elsewhere). */
export const AT_SENT = 0;
/** Uint32 big-endian, the event's number within its publisher connection. */
export const AT_SEQ = 8;
/** Uint8, the publisher connection's id. */
export const AT_PUBLISHER = 12;
/** Uint8, 0 for warm-up, 1 for a measured event. */
export const AT_PHASE = 13;
/**
 * Uint8, the subject's index modulo 256. Order is checked per publisher and subject:
 * a client with one queue per subscription (nats.js) may interleave subjects.
 */
export const AT_SLOT = 14;

/** Epoch milliseconds with sub-millisecond precision, comparable across processes. */
export function nowMs(): number {
  return performance.timeOrigin + performance.now();
}
