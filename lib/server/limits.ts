/**
 * Enforcing the server's limits: connections refused past the maximum,
 * subscriptions per connection, and the counters that stats report.
 */

import { ErrorCode } from "../protocol/constants.ts";
import { FrameError } from "../protocol/errors.ts";
import { encodeBye } from "../protocol/frames.ts";
import { closeQuietly, type Transport, writeAll } from "../protocol/transport.ts";

/** How long a refused connection gets to receive its BYE. */
const REFUSAL_WRITE_MS = 1000;

/** Counters of what the limits and heartbeats did, reported in stats. */
export class ReliabilityCounters {
  /** Connections refused because `maxConnections` was reached. */
  refusedConnections = 0;
  /** Subscribers disconnected for staying full past `slowConsumerMs`. */
  slowConsumers = 0;
  /** Peers dropped for missing heartbeats. */
  heartbeatTimeouts = 0;
  /** Requests refused because `maxSubscriptions` was reached. */
  refusedSubscriptions = 0;

  /** A plain copy for JSON. */
  toJSON(): Record<string, number> {
    return {
      refusedConnections: this.refusedConnections,
      slowConsumers: this.slowConsumers,
      heartbeatTimeouts: this.heartbeatTimeouts,
      refusedSubscriptions: this.refusedSubscriptions,
    };
  }
}

/**
 * Refuses a connection over the limit: a BYE (LIMIT) as its only frame, so
 * the client can say why, then close.
 */
export async function refuseConnection(
  transport: Transport,
  maxConnections: number,
): Promise<void> {
  const bye = encodeBye(
    ErrorCode.LIMIT,
    `Too many connections: the server's limit is ${maxConnections}`,
  );
  const timer = setTimeout(() => closeQuietly(transport), REFUSAL_WRITE_MS);
  try {
    await writeAll(transport, bye);
  } catch {
    // The peer left already.
  } finally {
    clearTimeout(timer);
    closeQuietly(transport);
  }
}

/**
 * Checks that subscribing to `items` keeps a connection within `max`
 * subscriptions (items it already has do not count twice).
 *
 * @throws {FrameError} with code LIMIT; the caller turns it into an ERR reply.
 */
export function checkSubscriptionLimit(
  current: ReadonlySet<string>,
  other: ReadonlySet<string>,
  items: readonly string[],
  max: number,
  counters?: ReliabilityCounters,
): void {
  const fresh = new Set(items.filter((item) => !current.has(item)));
  const total = current.size + other.size + fresh.size;
  if (total <= max) return;
  if (counters) counters.refusedSubscriptions++;
  throw new FrameError(
    ErrorCode.LIMIT,
    `Cannot subscribe: ${total} subscriptions would exceed this connection's limit of ${max}`,
  );
}
