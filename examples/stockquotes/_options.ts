/** Command-line options shared by the stockquotes programs: `--es URI`, `--ns URI`, `--count N`, `--interval-ms MS`. */

import { parseArgs } from "node:util";
import type { ClientOptions } from "../../lib/client/mod.ts";

/** Parses the example's flags; without `--es` the name server finds the event server. */
export function exampleOptions(): ClientOptions & { count: number; intervalMs: number } {
  const { values } = parseArgs({
    options: {
      es: { type: "string" },
      ns: { type: "string" },
      count: { type: "string" },
      "interval-ms": { type: "string" },
    },
  });
  return {
    ...(values.es ? { esURI: values.es } : {}),
    ...(values.ns ? { nsURI: values.ns } : {}),
    count: values.count ? Number(values.count) : Infinity,
    intervalMs: values["interval-ms"] ? Number(values["interval-ms"]) : 200,
  };
}
