// deno-lint-ignore-file no-console
/** `es subscribe SUBJECT... [-m PATTERN]...`: prints events as they come. */

import { Subscriber } from "../lib/client/subscriber.ts";
import type { Event } from "../lib/client/event.ts";
import type { ClientOptions } from "../lib/client/options.ts";
import { CLIENT_OPTIONS, intFlag, parse, printHelp, UsageError } from "./usage.ts";
import { IDENT_HELP } from "./trust_flags.ts";
import { clientOptions, toJson } from "./client_flags.ts";

const HELP = `
Usage: es subscribe [options] [SUBJECT...] [-m PATTERN...]

Prints one line per event: time, subject, message. Subjects are matched
case-insensitively; patterns are regular expressions matched from the start
of the subject.

Options:
  -m, --match PATTERN      subscribe to a pattern (repeatable)
      --json               print {"subject","msg","time"} JSON lines
      --count N            exit after N events
      --es URI             event server (es://HOST:PORT); else found by name
      --ns URI             name server (ns://HOST:PORT, env ES_NS)
${IDENT_HELP}
      --ca-cert PATH       PEM CA certificate to trust for es+tls:// (env ES_CA_CERT)
  -h, --help               show this help
`;

const OPTIONS = {
  ...CLIENT_OPTIONS,
  match: { type: "string", short: "m", multiple: true },
  json: { type: "boolean" },
  count: { type: "string" },
} as const;

/** Prints each event and stops after `limit` of them. */
class PrintingSubscriber extends Subscriber {
  #json: boolean;
  #remaining: number;
  #encoder = new TextEncoder();

  constructor(options: ClientOptions, json: boolean, limit: number) {
    super({ ...options, threading: false });
    this.#json = json;
    this.#remaining = limit;
  }

  override event(event: Event): void {
    const line = this.#json
      ? toJson({ subject: event.subject, msg: event.msg, time: event.time })
      : `${new Date(event.time).toISOString()}  ${event.subject}  ${
        typeof event.msg === "string" ? event.msg : toJson(event.msg)
      }`;
    Deno.stdout.writeSync(this.#encoder.encode(line + "\n"));
    if (--this.#remaining <= 0) this.abort();
  }
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
  const count = intFlag("--count", values.count, 1) ?? Infinity;
  const subscriber = new PrintingSubscriber(clientOptions(values), values.json ?? false, count);
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
  try {
    if (positionals.length > 0) await subscriber.subscribe(positionals);
    if (patterns.length > 0) await subscriber.subscribeMatch(patterns);
    console.error(`Subscribed to ${[...positionals, ...patterns.map((p) => `/${p}/`)].join(", ")}`);
    await subscriber.listen();
  } finally {
    Deno.removeSignalListener("SIGINT", stop);
    Deno.removeSignalListener("SIGTERM", stop);
    await subscriber.close();
  }
  return 0;
}
