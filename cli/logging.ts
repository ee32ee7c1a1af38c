/** Logging for the `es` command: logtape, to stderr, as text or JSON lines. */

import {
  configure,
  getTextFormatter,
  jsonLinesFormatter,
  type LogLevel,
  type LogRecord,
} from "@logtape/logtape";
import { UsageError } from "./usage.ts";

const LEVELS = ["trace", "debug", "info", "warning", "error", "fatal"] as const;

/** Sets up logging; call once, before the server starts. */
export async function setupLogging(level = "info", format = "text"): Promise<void> {
  const lowest = level === "warn" ? "warning" : level;
  if (!(LEVELS as readonly string[]).includes(lowest)) {
    throw new UsageError(
      `Invalid value for --log-level: ${JSON.stringify(level)} (expected one of ${
        LEVELS.join(", ")
      })`,
    );
  }
  if (format !== "text" && format !== "json") {
    throw new UsageError(
      `Invalid value for --log-format: ${JSON.stringify(format)} (expected text or json)`,
    );
  }
  const formatter = format === "json"
    ? jsonLinesFormatter
    : getTextFormatter({ timestamp: "date-time-tz" });
  const encoder = new TextEncoder();
  const stderr = (record: LogRecord) => {
    let line = formatter(record);
    if (!line.endsWith("\n")) line += "\n";
    Deno.stderr.writeSync(encoder.encode(line));
  };
  await configure({
    reset: true,
    sinks: { stderr },
    loggers: [
      { category: ["es"], lowestLevel: lowest as LogLevel, sinks: ["stderr"] },
      { category: ["logtape", "meta"], lowestLevel: "warning", sinks: ["stderr"] },
    ],
  });
}
