/**
 * Logging from dispatch workers: a worker's log records travel to the main
 * thread and are emitted there, so the process's one logtape configuration
 * (the CLI's, or an embedding program's) applies to every thread.
 */

import { configureSync, getLogger, type LogRecord } from "@logtape/logtape";

/** A log record in a form that crosses threads (no functions, no class instances). */
export interface PortableLogRecord {
  category: readonly string[];
  level: LogRecord["level"];
  message: unknown[];
  rawMessage: string;
  timestamp: number;
  properties: Record<string, unknown>;
}

/** Copies a value if it can cross threads, else keeps its text. */
function portable(value: unknown): unknown {
  try {
    return structuredClone(value);
  } catch {
    return String(value);
  }
}

/** In a worker: sends every `es` log record to the main thread through `post`. */
export function forwardWorkerLogs(post: (record: PortableLogRecord) => void): void {
  configureSync({
    reset: true,
    sinks: {
      main: (record: LogRecord) =>
        post({
          category: record.category,
          level: record.level,
          message: record.message.map(portable),
          rawMessage: typeof record.rawMessage === "string"
            ? record.rawMessage
            : record.rawMessage.join("{}"),
          timestamp: record.timestamp,
          properties: portable(record.properties) as Record<string, unknown>,
        }),
    },
    loggers: [
      { category: ["es"], lowestLevel: "trace", sinks: ["main"] },
      { category: ["logtape", "meta"], lowestLevel: "warning", sinks: ["main"] },
    ],
  });
}

/** On the main thread: emits a record that a worker forwarded. */
export function emitWorkerLog(record: PortableLogRecord): void {
  const { category, ...rest } = record;
  getLogger([...category]).emit(rest);
}
