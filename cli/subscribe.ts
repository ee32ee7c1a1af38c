// deno-lint-ignore-file no-console
/** `es subscribe SUBJECT... [-m PATTERN]...`: prints events as they come. */

import { Subscriber } from "../lib/client/subscriber.ts";
import type { Event } from "../lib/client/event.ts";
import type { ClientOptions, Overflow } from "../lib/client/options.ts";
import { CLIENT_OPTIONS, intFlag, parse, printHelp, UsageError } from "./usage.ts";
import { IDENT_HELP } from "./trust_flags.ts";
import { clientOptions, toJson } from "./client_flags.ts";

export const HELP = `
Usage: es subscribe [options] [SUBJECT...] [-m PATTERN...]     (alias: es sub)

Prints one line per event: time, subject, message. Subjects are matched
case-insensitively; patterns are regular expressions matched from the start
of the subject.

Options:
  -m, --match PATTERN      subscribe to a pattern (repeatable)
      --json               print {"subject","msg","time"} JSON lines
      --raw                print the message only (strings and bytes as they are), one per line
      --count N            exit after N events
      --timeout SECONDS    stop after SECONDS; exit code 1 if --count was not reached by then
      --group NAME         join queue group NAME: of its members, one gets each event
      --overflow POLICY    when this subscriber's queue on the server is full: block,
                           drop-new, drop-old or latest (default: the server's policy)
      --queue-size N       size of this subscriber's queue on the server (default: the server's)
      --es URI             event server (es://HOST:PORT, env ES_URL); else found by name
      --ns URI             name server (ns://HOST:PORT, env ES_NS)
${IDENT_HELP}
      --ca-cert PATH       PEM CA certificate to trust for es+tls:// (env ES_CA_CERT)
  -h, --help               show this help
`;

const OPTIONS = {
  ...CLIENT_OPTIONS,
  match: { type: "string", short: "m", multiple: true },
  json: { type: "boolean" },
  raw: { type: "boolean" },
  count: { type: "string" },
  timeout: { type: "string" },
  group: { type: "string" },
  overflow: { type: "string" },
  "queue-size": { type: "string" },
} as const;

const POLICIES: readonly Overflow[] = ["block", "drop-new", "drop-old", "latest"];

/** How events are printed. */
type Format = "text" | "json" | "raw";

/** Prints each event and stops after `limit` of them. */
class PrintingSubscriber extends Subscriber {
  #format: Format;
  #remaining: number;
  #encoder = new TextEncoder();
  /** Events printed. */
  printed = 0;

  constructor(options: ClientOptions, format: Format, limit: number) {
    super({ ...options, threading: false });
    this.#format = format;
    this.#remaining = limit;
  }

  override event(event: Event): void {
    writeAll(this.#render(event));
    this.printed++;
    if (--this.#remaining <= 0) this.abort();
  }

  override missed(count: number): void {
    console.error(`missed ${count} event${count === 1 ? "" : "s"}`);
  }

  #render(event: Event): Uint8Array {
    const msg = event.msg;
    if (this.#format === "raw") {
      const body = msg instanceof Uint8Array
        ? msg
        : this.#encoder.encode(typeof msg === "string" ? msg : toJson(msg));
      const line = new Uint8Array(body.length + 1);
      line.set(body);
      line[body.length] = 0x0a;
      return line;
    }
    const text = this.#format === "json"
      ? toJson({ subject: event.subject, msg, time: event.time })
      : `${new Date(event.time).toISOString()}  ${event.subject}  ${
        typeof msg === "string" ? msg : toJson(msg)
      }`;
    return this.#encoder.encode(text + "\n");
  }
}

/** Writes all of `bytes` to stdout. */
function writeAll(bytes: Uint8Array): void {
  let written = 0;
  while (written < bytes.length) written += Deno.stdout.writeSync(bytes.subarray(written));
}

/** Parses `--timeout SECONDS` (a positive number, fractions allowed) into milliseconds. */
function timeoutFlag(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const seconds = Number(value);
  if (!/^\d+(\.\d+)?$/.test(value.trim()) || !(seconds > 0) || seconds > 31_536_000) {
    throw new UsageError(
      `Invalid value for --timeout: ${
        JSON.stringify(value)
      } (expected a number of seconds above 0)`,
    );
  }
  return seconds * 1000;
}

/** Runs `es subscribe`; resolves with the exit code. */
export async function subscribe(args: string[]): Promise<number> {
  const { values, positionals } = parse(args, OPTIONS, true);
  if (values.help) return printHelp(HELP);
  const patterns = values.match ?? [];
  if (positionals.length === 0 && patterns.length === 0) {
    throw new UsageError(
      "Nothing to subscribe to: give SUBJECT or -m PATTERN (see es subscribe --help)",
    );
  }
  if (values.json && values.raw) throw new UsageError("--json and --raw cannot be used together");
  const count = intFlag("--count", values.count, 1) ?? Infinity;
  const timeoutMs = timeoutFlag(values.timeout);
  const format: Format = values.json ? "json" : values.raw ? "raw" : "text";
  const options = clientOptions(values);
  if (values.overflow !== undefined) {
    if (!POLICIES.includes(values.overflow as Overflow)) {
      throw new UsageError(
        `Invalid value for --overflow: ${JSON.stringify(values.overflow)} (expected ${
          POLICIES.join(", ")
        })`,
      );
    }
    options.overflow = values.overflow as Overflow;
  }
  const queueSize = intFlag("--queue-size", values["queue-size"], 1);
  if (queueSize !== undefined) options.queueSize = queueSize;
  const group = values.group;
  if (group === "") throw new UsageError("Invalid value for --group: the name is empty");
  const subscriber = new PrintingSubscriber(options, format, count);
  subscriber.addEventListener("disconnect", (e) => {
    console.error(
      `Disconnected: ${e.detail.error.message}${e.detail.willReconnect ? "; reconnecting" : ""}`,
    );
  });
  subscriber.addEventListener("reconnect", (e) => {
    console.error(`Reconnected to ${e.detail.uri} after ${e.detail.downMs} ms`);
  });
  const stop = () => subscriber.abort();
  Deno.addSignalListener("SIGINT", stop);
  Deno.addSignalListener("SIGTERM", stop);
  let timedOut = false;
  const timer = timeoutMs === undefined ? undefined : setTimeout(() => {
    timedOut = true;
    subscriber.abort();
  }, timeoutMs);
  try {
    const how = group === undefined ? {} : { group };
    if (positionals.length > 0) await subscriber.subscribe(positionals, how);
    if (patterns.length > 0) await subscriber.subscribeMatch(patterns, how);
    console.error(`Subscribed to ${[...positionals, ...patterns.map((p) => `/${p}/`)].join(", ")}`);
    await subscriber.listen();
  } finally {
    clearTimeout(timer);
    Deno.removeSignalListener("SIGINT", stop);
    Deno.removeSignalListener("SIGTERM", stop);
    await subscriber.close();
  }
  if (timedOut && count !== Infinity && subscriber.printed < count) {
    console.error(
      `es: timed out after ${values.timeout} s with ${subscriber.printed} of ${count} events`,
    );
    return 1;
  }
  return 0;
}
