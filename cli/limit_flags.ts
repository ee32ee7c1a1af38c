/** The `es serve` flags for limits, safety and TLS, kept apart from the core flags. */

import type { EventServerOptions } from "../lib/server/options.ts";
import { readTlsFiles } from "../lib/transport/tcp_listen.ts";
import { intFlag, UsageError } from "./usage.ts";

/** Help lines for these flags (inserted in `es serve --help`). */
export const LIMIT_HELP = [
  "      --max-connections N  most client connections; more are refused (default 65536)",
  "      --max-subscriptions N  most subscriptions per connection (default 100000)",
  "      --max-subject-bytes N  longest subject in UTF-8 bytes (default 1024)",
  "      --max-pattern-bytes N  longest pattern in UTF-8 bytes (default 1024)",
  "      --max-queue-size N   largest queue a client may ask for, in events (default 100000)",
  "      --max-queue-bytes N  most bytes queued for one subscriber (default 16MiB)",
  "      --max-queued-bytes N most bytes queued for all subscribers together (default 256MiB)",
  "      --max-reply-bytes N  replies waiting for a client before its requests are not read",
  "                           (default 1MiB); byte sizes take K, M, G suffixes (binary)",
  "      --http-header-timeout-ms MS  an HTTP request's head must arrive within this,",
  "                           and an idle HTTP connection is closed after it (default 10000)",
  "      --slow-consumer-ms MS  block mode: drop a subscriber whose queue stays full",
  "                           this long (default 30000; 0 = never, as the original)",
  "      --tls-cert PATH      PEM certificate chain: serve es+tls:// (with --tls-key)",
  "      --tls-key PATH       PEM private key of --tls-cert",
].join("\n") + "\n";

/** `parseArgs` declarations of these flags. */
export const LIMIT_OPTIONS = {
  "max-connections": { type: "string" },
  "max-subscriptions": { type: "string" },
  "max-queue-size": { type: "string" },
  "max-queue-bytes": { type: "string" },
  "max-queued-bytes": { type: "string" },
  "max-reply-bytes": { type: "string" },
  "http-header-timeout-ms": { type: "string" },
  "slow-consumer-ms": { type: "string" },
  "max-subject-bytes": { type: "string" },
  "max-pattern-bytes": { type: "string" },
  "tls-cert": { type: "string" },
  "tls-key": { type: "string" },
} as const;

/** The parsed values of these flags. */
export type LimitValues = { [K in keyof typeof LIMIT_OPTIONS]?: string | undefined };

/**
 * Turns the limit flags into server options.
 *
 * @throws {UsageError} for a value out of range.
 */
export function limitOptions(v: LimitValues): EventServerOptions {
  const options: EventServerOptions = {};
  const maxConnections = intFlag("--max-connections", v["max-connections"], 1);
  if (maxConnections !== undefined) options.maxConnections = maxConnections;
  const maxSubscriptions = intFlag("--max-subscriptions", v["max-subscriptions"], 1);
  if (maxSubscriptions !== undefined) options.maxSubscriptions = maxSubscriptions;
  const maxQueueSize = intFlag("--max-queue-size", v["max-queue-size"], 1);
  if (maxQueueSize !== undefined) options.maxQueueSize = maxQueueSize;
  const maxQueueBytes = bytesFlag("--max-queue-bytes", v["max-queue-bytes"]);
  if (maxQueueBytes !== undefined) options.maxQueueBytes = maxQueueBytes;
  const maxQueuedBytes = bytesFlag("--max-queued-bytes", v["max-queued-bytes"]);
  if (maxQueuedBytes !== undefined) options.maxQueuedBytes = maxQueuedBytes;
  const maxReplyBytes = bytesFlag("--max-reply-bytes", v["max-reply-bytes"]);
  if (maxReplyBytes !== undefined) options.maxReplyBytes = maxReplyBytes;
  const headerMs = intFlag("--http-header-timeout-ms", v["http-header-timeout-ms"], 100);
  if (headerMs !== undefined) options.httpHeaderTimeoutMs = headerMs;
  const slowConsumerMs = intFlag("--slow-consumer-ms", v["slow-consumer-ms"], 0);
  if (slowConsumerMs !== undefined) options.slowConsumerMs = slowConsumerMs;
  const maxSubjectBytes = intFlag("--max-subject-bytes", v["max-subject-bytes"], 1, 65535);
  if (maxSubjectBytes !== undefined) options.maxSubjectBytes = maxSubjectBytes;
  const maxPatternBytes = intFlag("--max-pattern-bytes", v["max-pattern-bytes"], 1, 65535);
  if (maxPatternBytes !== undefined) options.maxPatternBytes = maxPatternBytes;
  const cert = v["tls-cert"];
  const key = v["tls-key"];
  if ((cert === undefined) !== (key === undefined)) {
    throw new UsageError("--tls-cert and --tls-key must be given together");
  }
  if (cert !== undefined && key !== undefined) {
    let tls;
    try {
      tls = readTlsFiles(cert, key);
    } catch (error) {
      throw new UsageError((error as Error).message);
    }
    options.tlsCert = tls.cert;
    options.tlsKey = tls.key;
  }
  return options;
}

const UNITS: Record<string, number> = { "": 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };

/**
 * Parses a size in bytes: a whole number, optionally with a binary suffix
 * (`64K`, `16M`, `16MiB`, `1G`).
 *
 * @throws {UsageError} quoting the value when it is not one.
 */
export function bytesFlag(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const match = /^\s*(\d+)\s*(?:([kmg])(?:i?b)?|b)?\s*$/i.exec(value);
  const n = match ? Number(match[1]) * UNITS[(match[2] ?? "").toLowerCase()]! : NaN;
  if (!Number.isSafeInteger(n) || n < 1) {
    throw new UsageError(
      `Invalid value for ${name}: ${
        JSON.stringify(value)
      } (expected a size in bytes, e.g. 268435456, 256M or 256MiB)`,
    );
  }
  return n;
}
