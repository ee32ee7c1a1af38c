/**
 * Flags for trust (SPEC §8): the passphrase from a file instead of the
 * command line (where `ps` shows it to every user of the machine), and for
 * `es serve` the origins allowed on `/ws`, the monitoring token and the CA
 * to trust for a `ns+tls://` name server.
 */

import { readEnv } from "../lib/client/options.ts";
import type { EventServerOptions } from "../lib/server/options.ts";
import { normalizeOrigin } from "../lib/server/trust_options.ts";
import { UsageError } from "./usage.ts";

/** Help lines for `-i` and `--ident-file`, the same in every command. */
export const IDENT_HELP = [
  "  -i, --ident PASSPHRASE   passphrase (env ES_IDENT); -i shows in ps to every user:",
  "                           prefer ES_IDENT or --ident-file; an empty one is refused",
  "                           (an empty ES_IDENT counts as unset)",
  "      --ident-file PATH    read the passphrase from PATH (a final newline is ignored)",
].join("\n");

/** Help lines of the `es serve` trust flags. */
export const SERVE_TRUST_HELP = [
  "      --allow-origin ORIGIN  let pages from ORIGIN (http://HOST:PORT) open /ws, besides",
  "                           the server's own; repeatable; '*' allows every page",
  "      --monitor-token TOKEN  credential for /stats and /metrics (Authorization: Bearer",
  "                           TOKEN; env ES_MONITOR_TOKEN); with -i they need it",
  "      --ca-cert PATH       PEM CA certificate to trust for --ns ns+tls://… (env ES_CA_CERT)",
].join("\n") + "\n";

/** `parseArgs` declaration of `--ident-file`. */
export const IDENT_FILE_OPTION = { "ident-file": { type: "string" } } as const;

/** `parseArgs` declarations of the `es serve` trust flags. */
export const SERVE_TRUST_OPTIONS = {
  "allow-origin": { type: "string", multiple: true },
  "monitor-token": { type: "string" },
  "ca-cert": { type: "string" },
} as const;

/**
 * The passphrase given by `-i` or `--ident-file` (not the environment, which
 * the caller reads where it applies).
 *
 * @throws {UsageError} for both flags at once, an unreadable file, or an empty passphrase.
 */
export function identFlag(
  values: { ident?: string | undefined; "ident-file"?: string | undefined },
): string | undefined {
  const path = values["ident-file"];
  if (path === undefined) return values.ident;
  if (values.ident !== undefined) {
    throw new UsageError("--ident and --ident-file cannot be used together");
  }
  let text: string;
  try {
    text = Deno.readTextFileSync(path);
  } catch (error) {
    throw new UsageError(
      `Cannot read the passphrase file ${JSON.stringify(path)}: ${(error as Error).message}`,
    );
  }
  const ident = text.replace(/\r?\n$/, "");
  if (ident === "") {
    throw new UsageError(`Invalid passphrase file ${JSON.stringify(path)}: it is empty`);
  }
  return ident;
}

/** Reads a PEM file for `--ca-cert` (or `ES_CA_CERT`). */
export function readCaCert(path: string): string {
  try {
    return Deno.readTextFileSync(path);
  } catch (error) {
    throw new UsageError(
      `Cannot read the CA certificate ${JSON.stringify(path)}: ${(error as Error).message}`,
    );
  }
}

/**
 * Turns the `es serve` trust flags (and `ES_MONITOR_TOKEN`, `ES_CA_CERT`) into server options.
 *
 * @throws {UsageError} for an invalid origin or token, or an unreadable CA file.
 */
export function serveTrustOptions(
  v: {
    "allow-origin"?: string[] | undefined;
    "monitor-token"?: string | undefined;
    "ca-cert"?: string | undefined;
  },
): EventServerOptions {
  const options: EventServerOptions = {};
  const origins = v["allow-origin"];
  if (origins !== undefined) {
    try {
      options.allowOrigins = origins.map(normalizeOrigin);
    } catch (error) {
      throw new UsageError(`Invalid value for --allow-origin: ${(error as Error).message}`);
    }
  }
  const token = v["monitor-token"] ?? readEnv("ES_MONITOR_TOKEN");
  if (token !== undefined) {
    if (!/^[\x21-\x7e]+$/.test(token)) {
      throw new UsageError(
        "Invalid value for --monitor-token: use printable ASCII characters without spaces",
      );
    }
    options.monitorToken = token;
  }
  const caCert = v["ca-cert"] ?? readEnv("ES_CA_CERT");
  if (caCert !== undefined) options.caCerts = [readCaCert(caCert)];
  return options;
}
