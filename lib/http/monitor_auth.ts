/**
 * Who may read the monitoring routes. Their answers name subjects, client
 * addresses and client names: with a passphrase set on the server, or a
 * monitoring token, they answer only a request that carries the token
 * (`Authorization: Bearer TOKEN`). The passphrase itself never travels over
 * HTTP: the dashboard proves it over `/ws` instead, as any client does.
 */

/** Paths that reveal what flows through the server; a new monitoring route belongs here. */
export const MONITORING_PATHS: ReadonlySet<string> = new Set(["/stats", "/metrics"]);

/** What guards the monitoring routes. */
export interface MonitoringGuard {
  /** The server has a passphrase: without the token nothing is shown. */
  readonly passphrase: boolean;
  /** The monitoring token, if one is set. */
  readonly token: string | undefined;
}

const encoder = new TextEncoder();

/** Compares in time that does not depend on where the strings differ (digests of equal length). */
async function sameSecret(given: string, expected: string): Promise<boolean> {
  const [a, b] = await Promise.all(
    [given, expected].map(async (s) =>
      new Uint8Array(await crypto.subtle.digest("SHA-256", encoder.encode(s)))
    ),
  );
  let diff = 0;
  for (let i = 0; i < a!.length; i++) diff |= a![i]! ^ b![i]!;
  return diff === 0;
}

/**
 * The refusal to send when `request` may not read a monitoring route, or
 * undefined when it may.
 *
 * @example
 * ```ts
 * const refusal = await monitoringRefusal(request, { passphrase: true, token: "s3cret" });
 * if (refusal) return refusal; // 401 unless "Authorization: Bearer s3cret"
 * ```
 */
export async function monitoringRefusal(
  request: Request,
  guard: MonitoringGuard,
): Promise<Response | undefined> {
  if (!guard.passphrase && guard.token === undefined) return undefined;
  const bearer = /^Bearer +(\S+) *$/i.exec(request.headers.get("authorization") ?? "")?.[1];
  if (guard.token !== undefined && bearer !== undefined && await sameSecret(bearer, guard.token)) {
    return undefined;
  }
  const how = guard.token !== undefined
    ? 'send the monitoring token as "Authorization: Bearer TOKEN"'
    : 'this server has a passphrase and no monitoring token (--monitor-token): use "es stats -i" or the dashboard, which prove the passphrase over /ws';
  return new Response(
    `${bearer === undefined ? "Unauthorized" : "Wrong monitoring token"}: ${how}\n`,
    {
      status: 401,
      headers: {
        "content-type": "text/plain; charset=utf-8",
        "cache-control": "no-store",
        "www-authenticate": 'Bearer realm="es monitoring"',
      },
    },
  );
}
