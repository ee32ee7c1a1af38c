/** The server options for trust (SPEC §8): browsers, monitoring, naming over TLS, guessing. */

import { AuthThrottle } from "../session/auth_throttle.ts";

/** Trust settings, part of `EventServerOptions`. */
export interface TrustOptions {
  /**
   * Origins whose pages may open `/ws` (a request with an `Origin` header),
   * e.g. `"https://app.example.com"`; `"*"` allows every origin. Default: only
   * the server's own HTTP origin. Clients that send no `Origin` (programs, not
   * browsers) are not concerned.
   */
  allowOrigins?: readonly string[];
  /**
   * A credential for the monitoring routes (`/stats`, `/metrics`), sent as
   * `Authorization: Bearer TOKEN`. With it, or with a passphrase, those
   * routes answer only requests that carry it.
   */
  monitorToken?: string;
  /** PEM CA certificates to trust when registering with a `ns+tls://` name server. */
  caCerts?: string[];
}

/** The same, checked, with shared state made. */
export interface ResolvedTrust {
  /** Normalized origins (`URL.origin`), or `["*"]`; undefined: the server's own. */
  allowOrigins: readonly string[] | undefined;
  monitorToken: string | undefined;
  caCerts: string[] | undefined;
  /** Refused handshakes per host, shared by every dispatch thread (see `NodeOptions`). */
  authRecords?: SharedArrayBuffer | undefined;
}

/**
 * The origin `value` stands for, as browsers send it in `Origin`.
 *
 * @example
 * ```ts
 * normalizeOrigin("HTTP://App.Example:80/"); // "http://app.example"
 * ```
 *
 * @throws {RangeError} quoting `value` when it is not `scheme://host[:port]`.
 */
export function normalizeOrigin(value: string): string {
  if (value === "*") return value;
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    url = undefined;
  }
  const bare = url !== undefined && (url.pathname === "/" || url.pathname === "") &&
    url.search === "" && url.hash === "" && url.username === "" && url.password === "";
  if (url === undefined || !bare || url.origin === "null") {
    throw new RangeError(
      `Invalid origin ${
        JSON.stringify(value)
      }: expected SCHEME://HOST[:PORT] as a browser sends it (e.g. "http://127.0.0.1:8000"), or "*"`,
    );
  }
  return url.origin;
}

/**
 * Checks the trust options and makes the shared throttle memory.
 *
 * @throws {RangeError} for an invalid origin or an empty monitoring token.
 */
export function resolveTrust(options: TrustOptions): ResolvedTrust {
  const token = options.monitorToken;
  if (token !== undefined && !/^[\x21-\x7e]+$/.test(token)) {
    throw new RangeError(
      "Invalid monitorToken: it must be one or more printable ASCII characters without spaces",
    );
  }
  return {
    allowOrigins: options.allowOrigins?.map(normalizeOrigin),
    monitorToken: token,
    caCerts: options.caCerts,
    authRecords: AuthThrottle.memory(),
  };
}
