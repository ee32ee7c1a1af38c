// deno-lint-ignore-file no-console
/** `es ping`: round trips to the event server (FLUSH and its OK), like `ping` for hosts. */

import { delay } from "@std/async/delay";
import { openEventServer } from "../lib/client/locate.ts";
import { CLIENT_OPTIONS, intFlag, parse, printHelp } from "./usage.ts";
import { clientOptions } from "./client_flags.ts";
import { IDENT_HELP } from "./trust_flags.ts";

export const HELP = `
Usage: es ping [options]

Connects to the event server (found as other clients find it) and measures
round trips: each is a FLUSH request and its reply. Prints one line per round
trip and a summary; exits 1 when the server cannot be reached.

Options:
      --count N            round trips (default 3)
      --interval-ms MS     pause between them (default 200)
      --es URI             event server (es://HOST:PORT, env ES_URL); else found by name
      --ns URI             name server (ns://HOST:PORT, env ES_NS)
${IDENT_HELP}
      --ca-cert PATH       PEM CA certificate to trust for es+tls:// (env ES_CA_CERT)
  -h, --help               show this help
`;

const OPTIONS = {
  ...CLIENT_OPTIONS,
  count: { type: "string" },
  "interval-ms": { type: "string" },
} as const;

/** Runs `es ping`; resolves with the exit code. */
export async function ping(args: string[]): Promise<number> {
  const { values } = parse(args, OPTIONS);
  if (values.help) return printHelp(HELP);
  const count = intFlag("--count", values.count, 1, 1_000_000) ?? 3;
  const intervalMs = intFlag("--interval-ms", values["interval-ms"], 0, 3_600_000) ?? 200;
  const started = performance.now();
  const connection = await openEventServer(clientOptions(values), "es-ping");
  const connectMs = performance.now() - started;
  console.log(`Connected to ${connection.uri} in ${connectMs.toFixed(2)} ms`);
  const times: number[] = [];
  try {
    for (let i = 1; i <= count; i++) {
      const start = performance.now();
      await connection.flush();
      const ms = performance.now() - start;
      times.push(ms);
      console.log(`round trip ${i} to ${connection.uri}: ${ms.toFixed(3)} ms`);
      if (i < count && intervalMs > 0) await delay(intervalMs);
    }
  } finally {
    await connection.close();
  }
  const min = Math.min(...times);
  const max = Math.max(...times);
  const avg = times.reduce((a, b) => a + b, 0) / times.length;
  console.log(
    `${times.length} round trips: min/avg/max = ${min.toFixed(3)}/${avg.toFixed(3)}/${
      max.toFixed(3)
    } ms`,
  );
  return 0;
}
