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
    count: wholeNumber("--count", values.count, 1) ?? Infinity,
    intervalMs: wholeNumber("--interval-ms", values["interval-ms"], 0) ?? 200,
  };
}

/** A flag's whole-number value; a typo must not turn into NaN (a market that never ticks). */
function wholeNumber(flag: string, value: string | undefined, min: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < min) {
    throw new RangeError(
      `Invalid ${flag} ${JSON.stringify(value)}: expected a whole number >= ${min}`,
    );
  }
  return n;
}
