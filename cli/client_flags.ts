/** Client flags shared by `publish`, `subscribe` and `stats`: where the server is, and the passphrase. */

import { type ClientOptions, readEnv } from "../lib/client/options.ts";
import { identFlag } from "./trust_flags.ts";
import { uriFlag, UsageError } from "./usage.ts";

/** Turns `--es`, `--ns`, `-i`/`--ident-file` and `--ca-cert` (else env `ES_CA_CERT`) into client options. */
export function clientOptions(
  values: {
    es?: string | undefined;
    ns?: string | undefined;
    ident?: string | undefined;
    "ident-file"?: string | undefined;
    "ca-cert"?: string | undefined;
  },
): ClientOptions {
  const options: ClientOptions = {};
  const es = uriFlag("--es", values.es, "es");
  const ns = uriFlag("--ns", values.ns, "ns");
  if (es !== undefined) options.esURI = es;
  if (ns !== undefined) options.nsURI = ns;
  const ident = identFlag(values);
  if (ident !== undefined) options.ident = ident;
  const caCert = values["ca-cert"] ?? readEnv("ES_CA_CERT");
  if (caCert !== undefined) {
    try {
      options.caCerts = [Deno.readTextFileSync(caCert)];
    } catch (error) {
      throw new UsageError(
        `Cannot read the CA certificate ${JSON.stringify(caCert)}: ${(error as Error).message}`,
      );
    }
  }
  return options;
}

/** Parses MESSAGE as JSON when it is JSON, else keeps it as a string. */
export function parseMessage(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** JSON for printing: bytes as arrays of numbers, BigInts as numbers-as-strings. */
export function toJson(value: unknown): string {
  return JSON.stringify(value, (_key, v) => {
    if (v instanceof Uint8Array) return Array.from(v);
    if (typeof v === "bigint") return v.toString();
    return v;
  });
}
