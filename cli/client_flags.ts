/** Client flags shared by `publish`, `subscribe` and `stats`: where the server is, and the passphrase. */

import type { ClientOptions } from "../lib/client/options.ts";
import { uriFlag } from "./usage.ts";

/** Turns `--es`, `--ns` and `-i` into client options. */
export function clientOptions(
  values: { es?: string | undefined; ns?: string | undefined; ident?: string | undefined },
): ClientOptions {
  const options: ClientOptions = {};
  const es = uriFlag("--es", values.es, "es");
  const ns = uriFlag("--ns", values.ns, "ns");
  if (es !== undefined) options.esURI = es;
  if (ns !== undefined) options.nsURI = ns;
  if (values.ident !== undefined) options.ident = values.ident;
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
