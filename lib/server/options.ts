/** The event server's options, their defaults and their validation. */

import {
  DEFAULT_MAX_FRAME_BYTES,
  DEFAULT_MAX_PATTERN_BYTES,
  DEFAULT_MAX_SUBJECT_BYTES,
} from "../protocol/constants.ts";
import type { NodeOptions } from "../node/options.ts";
import { type ReliabilityOptions, resolveReliability } from "./reliability_options.ts";
import { type ResolvedTrust, resolveTrust, type TrustOptions } from "./trust_options.ts";

/** Options of `startEventServer()`. */
export interface EventServerOptions extends ReliabilityOptions, TrustOptions {
  /** Interface to listen on. Default `"127.0.0.1"`. */
  hostname?: string;
  /** TCP port; 0 takes any free port. Default 7766. */
  port?: number;
  /** HTTP port; 0 takes any free port; `false` turns HTTP off. Default 7767. */
  httpPort?: number | false;
  /** Time an HTTP request's head gets to arrive; then the socket is closed. Default 10000. */
  httpHeaderTimeoutMs?: number;
  /** Shared passphrase clients must prove they know. */
  ident?: string;
  /** Most events waiting for one subscriber, unless it asks for another size. Default 1000. */
  queueSize?: number;
  /** Largest queue size a client may ask for. Default 100000. */
  maxQueueSize?: number;
  /** Most bytes waiting for one subscriber. Default 16 MiB (at least twice `maxFrameBytes`). */
  maxQueueBytes?: number;
  /**
   * Most bytes waiting in all subscribers' queues together, shared evenly by
   * the dispatch nodes. Past it, block-mode publishers wait and drop-mode
   * queues drop, except in queues holding under 64 KiB. Default 256 MiB.
   */
  maxQueuedBytes?: number;
  /** Bytes of replies waiting for a client that does not read before its requests are not read. Default 1 MiB. */
  maxReplyBytes?: number;
  /** Full queue: true holds publishers, false drops events for that subscriber. Default true. */
  blockQueue?: boolean;
  /**
   * Dispatch threads: 1 = everything on the calling thread, no Worker; N > 1
   * = the calling thread plus N - 1 Workers sharing the port. Default 1, the
   * faster setting measured on a 2-core machine (see docs/DISPATCH.md).
   */
  workers?: number;
  /** `"embedded"` (default), `"none"`, or the `ns://host:port` of a name server to register with. */
  nameServer?: "embedded" | "none" | string;
  /** Port of the embedded name server; 0 takes any free port. Default 9090. */
  nsPort?: number;
  /** Take over the event server's name even if a live server holds it. */
  replace?: boolean;
  /** Largest frame in bytes. Default 1 MiB. */
  maxFrameBytes?: number;
  /** Longest subject in UTF-8 bytes. Default 1024. */
  maxSubjectBytes?: number;
  /** Longest pattern in UTF-8 bytes. Default 1024. */
  maxPatternBytes?: number;
  /** Interval of heartbeats; a peer silent for two intervals is dropped. Default 30000. */
  heartbeatMs?: number;
  /**
   * NATS servers (`nats://HOST:PORT`) through which this server joins the
   * others connected to the same NATS into one event server (docs/CLUSTER.md).
   */
  cluster?: string[];
}

/** Options with every default filled in. */
export interface ResolvedOptions extends NodeOptions, ResolvedTrust {
  httpPort: number | false;
  httpHeaderTimeoutMs: number;
  nameServer: string;
  nsPort: number;
  replace: boolean;
}

/**
 * Default dispatch nodes: one per two CPUs. The clients of a server usually
 * share its machine, and on 2 cores one node measures faster than two in
 * every workload and takes 20 MiB less (bench/RESULTS.md, docs/DISPATCH.md);
 * `--workers N` sets it.
 */
export const DEFAULT_WORKERS: number = Math.max(
  1,
  Math.floor((navigator.hardwareConcurrency ?? 1) / 2),
);

/** Default `maxQueuedBytes`: sixteen queues at their default byte bound. */
export const DEFAULT_MAX_QUEUED_BYTES = 256 * 1024 * 1024;

function positiveInt(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) {
    throw new RangeError(`Invalid ${name} ${value}: must be a whole number of at least 1`);
  }
  return value;
}

/**
 * Checks one NATS server URL of the cluster.
 *
 * @throws {RangeError} for anything but `nats://HOST:PORT` (or `tls://`).
 */
function natsURL(url: string): string {
  if (!/^(nats|tls):\/\/(\[[^\]]+\]|[^:/\s]+)(:\d{1,5})?\/?$/i.test(url)) {
    throw new RangeError(
      `Invalid cluster server ${JSON.stringify(url)}: expected nats://HOST:PORT`,
    );
  }
  return url;
}

function port(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 0 || value > 65535) {
    throw new RangeError(`Invalid ${name} ${value}: must be a port number from 0 to 65535`);
  }
  return value;
}

/**
 * Fills in defaults and checks every value.
 *
 * @throws {RangeError} for a value out of range.
 */
export function resolveOptions(options: EventServerOptions = {}): ResolvedOptions {
  const httpPort = options.httpPort ?? 7767;
  if (options.ident === "") {
    throw new RangeError("Invalid ident: the passphrase is empty (give a non-empty one, or none)");
  }
  const maxFrameBytes = positiveInt(
    "maxFrameBytes",
    options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES,
  );
  // A queue must hold at least one EVENT of the largest frame, with its ids.
  const minQueueBytes = 2 * maxFrameBytes + 512 * 1024;
  const maxQueueBytes = positiveInt(
    "maxQueueBytes",
    options.maxQueueBytes ?? Math.max(16 * 1024 * 1024, minQueueBytes),
  );
  if (maxQueueBytes < minQueueBytes) {
    throw new RangeError(
      `Invalid maxQueueBytes ${maxQueueBytes}: must be at least ${minQueueBytes} (twice maxFrameBytes and 512 KiB)`,
    );
  }
  const maxQueuedBytes = positiveInt(
    "maxQueuedBytes",
    options.maxQueuedBytes ?? Math.max(DEFAULT_MAX_QUEUED_BYTES, maxQueueBytes),
  );
  if (maxQueuedBytes < minQueueBytes) {
    throw new RangeError(
      `Invalid maxQueuedBytes ${maxQueuedBytes}: must be at least ${minQueueBytes} (twice maxFrameBytes and 512 KiB)`,
    );
  }
  const queueSize = positiveInt("queueSize", options.queueSize ?? 1000);
  return {
    hostname: options.hostname ?? "127.0.0.1",
    port: port("port", options.port ?? 7766),
    httpPort: httpPort === false ? false : port("httpPort", httpPort),
    httpHeaderTimeoutMs: positiveInt("httpHeaderTimeoutMs", options.httpHeaderTimeoutMs ?? 10_000),
    ident: options.ident,
    queueSize,
    maxQueueSize: positiveInt("maxQueueSize", options.maxQueueSize ?? Math.max(100_000, queueSize)),
    maxQueueBytes,
    maxQueuedBytes,
    maxReplyBytes: positiveInt("maxReplyBytes", options.maxReplyBytes ?? 1024 * 1024),
    blockQueue: options.blockQueue ?? true,
    workers: positiveInt("workers", options.workers ?? DEFAULT_WORKERS),
    nameServer: options.nameServer ?? "embedded",
    nsPort: port("nsPort", options.nsPort ?? 9090),
    replace: options.replace ?? false,
    maxFrameBytes,
    maxSubjectBytes: positiveInt(
      "maxSubjectBytes",
      options.maxSubjectBytes ?? DEFAULT_MAX_SUBJECT_BYTES,
    ),
    maxPatternBytes: positiveInt(
      "maxPatternBytes",
      options.maxPatternBytes ?? DEFAULT_MAX_PATTERN_BYTES,
    ),
    heartbeatMs: Math.min(positiveInt("heartbeatMs", options.heartbeatMs ?? 30_000), 2 ** 29),
    cluster: (options.cluster ?? []).map(natsURL),
    ...resolveReliability(options),
    ...resolveTrust(options),
  };
}
