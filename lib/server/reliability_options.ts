/** The server options for limits and TLS, their defaults and their validation. */

/** Default `slowConsumerMs`: a queue full this long belongs to a frozen or deadlocked client. */
export const DEFAULT_SLOW_CONSUMER_MS = 30_000;

/** Limits and TLS, part of `EventServerOptions`. */
export interface ReliabilityOptions {
  /** Most client connections at once; more are refused with a BYE (LIMIT). Default 65536. */
  maxConnections?: number;
  /** Most subscriptions (exact subjects plus patterns) per connection. Default 100000. */
  maxSubscriptions?: number;
  /**
   * Block mode: a subscriber whose queue stays full this long is disconnected
   * with a BYE (SLOW_CONSUMER), which releases the publishers it held and
   * breaks block-mode cycles (two clients that publish to each other before
   * they read). Default 30000; 0 turns it off: publishers wait for ever, as
   * in the original.
   */
  slowConsumerMs?: number;
  /** PEM certificate chain (the text, not a path): clients must then use `es+tls://`. */
  tlsCert?: string;
  /** PEM private key of `tlsCert`. */
  tlsKey?: string;
}

/** The same, with every default filled in. */
export interface ResolvedReliability {
  maxConnections: number;
  maxSubscriptions: number;
  slowConsumerMs: number;
  tls: { cert: string; key: string } | undefined;
}

function wholeNumber(name: string, value: number, min: number): number {
  if (!Number.isSafeInteger(value) || value < min) {
    throw new RangeError(`Invalid ${name} ${value}: must be a whole number of at least ${min}`);
  }
  return value;
}

/**
 * Fills in the defaults of the limit and TLS options.
 *
 * @throws {RangeError} for a value out of range, or a certificate without its key.
 */
export function resolveReliability(options: ReliabilityOptions): ResolvedReliability {
  if ((options.tlsCert === undefined) !== (options.tlsKey === undefined)) {
    throw new RangeError("TLS needs both tlsCert and tlsKey (PEM text), not just one of them");
  }
  return {
    maxConnections: wholeNumber("maxConnections", options.maxConnections ?? 65_536, 1),
    maxSubscriptions: wholeNumber("maxSubscriptions", options.maxSubscriptions ?? 100_000, 1),
    slowConsumerMs: wholeNumber(
      "slowConsumerMs",
      options.slowConsumerMs ?? DEFAULT_SLOW_CONSUMER_MS,
      0,
    ),
    tls: options.tlsCert !== undefined && options.tlsKey !== undefined
      ? { cert: options.tlsCert, key: options.tlsKey }
      : undefined,
  };
}
