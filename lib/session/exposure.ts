/** A warning for servers that listen beyond loopback without a passphrase. */

import { getLogger } from "@logtape/logtape";

const log = getLogger(["es", "server"]);

/** True for addresses only this machine can reach. */
export function isLoopback(hostname: string): boolean {
  const h = hostname.replace(/^\[(.*)\]$/, "$1").toLowerCase();
  return h === "localhost" || h === "::1" || /^127\.\d+\.\d+\.\d+$/.test(h);
}

/** Logs a warning when `hostname` is reachable from other machines and `ident` is unset. */
export function warnIfExposed(hostname: string, ident: string | undefined, what: string): void {
  if (ident || isLoopback(hostname)) return;
  log.warn(
    "{what} listens on {hostname}, beyond loopback, without a passphrase: anyone who can reach it may use it (set --ident or ES_IDENT)",
    { what, hostname },
  );
}
