// deno-lint-ignore-file no-console
/** `es publish SUBJECT [MESSAGE]` (alias `pub`): events from the command line or from stdin. */

import { delay } from "@std/async/delay";
import { TextLineStream } from "./text_lines.ts";
import { Publisher } from "../lib/client/publisher.ts";
import { CLIENT_OPTIONS, intFlag, parse, printHelp, UsageError } from "./usage.ts";
import { IDENT_HELP } from "./trust_flags.ts";
import { clientOptions, parseMessage } from "./client_flags.ts";

export const HELP = `
Usage: es publish [options] SUBJECT [MESSAGE]     (alias: es pub)

Publishes MESSAGE on SUBJECT. MESSAGE is sent as JSON when it parses as JSON,
else as a string; {{n}} in it becomes the event's number (1, 2, …) and
{{time}} the time (ISO 8601). Without MESSAGE, each line of standard input is
one event. Says on stderr what it published once the server has it.

Options:
      --count N            publish MESSAGE N times (default 1)
      --interval-ms MS     wait MS between two of them (default 0)
      --es URI             event server (es://HOST:PORT, env ES_URL); else found by name
      --ns URI             name server (ns://HOST:PORT, env ES_NS)
${IDENT_HELP}
      --ca-cert PATH       PEM CA certificate to trust for es+tls:// (env ES_CA_CERT)
  -h, --help               show this help

Example:
  es publish --count 5 --interval-ms 1000 sensors.t1 '{"n": {{n}}, "at": "{{time}}"}'
`;

const OPTIONS = {
  ...CLIENT_OPTIONS,
  count: { type: "string" },
  "interval-ms": { type: "string" },
} as const;

/** MESSAGE with its placeholders filled in for event number `n`. */
export function fillTemplate(template: string, n: number, now = new Date()): string {
  return template.replaceAll("{{n}}", String(n)).replaceAll("{{time}}", now.toISOString());
}

/** Runs `es publish`; resolves with the exit code. */
export async function publish(args: string[]): Promise<number> {
  const { values, positionals } = parse(args, OPTIONS, true);
  if (values.help) return printHelp(HELP);
  if (positionals.length === 0) throw new UsageError("Missing SUBJECT (see es publish --help)");
  if (positionals.length > 2) {
    throw new UsageError(
      `Too many arguments: expected SUBJECT [MESSAGE], got ${positionals.length} (quote the message)`,
    );
  }
  const [subject, message] = positionals as [string, string | undefined];
  const count = intFlag("--count", values.count, 1);
  const intervalMs = intFlag("--interval-ms", values["interval-ms"], 0, 3_600_000) ?? 0;
  if (message === undefined && (count !== undefined || intervalMs > 0)) {
    throw new UsageError("--count and --interval-ms need a MESSAGE (stdin gives one per line)");
  }
  await using publisher = new Publisher(clientOptions(values));
  let published = 0;
  if (message !== undefined) {
    for (let n = 1; n <= (count ?? 1); n++) {
      if (n > 1 && intervalMs > 0) {
        // Each event is confirmed before the pause, so a slow loop shows progress as it goes.
        await publisher.flush();
        await delay(intervalMs);
      }
      await publisher.publish(subject, parseMessage(fillTemplate(message, n)));
      published++;
    }
  } else {
    const lines = Deno.stdin.readable.pipeThrough(new TextDecoderStream()).pipeThrough(
      new TextLineStream(),
    );
    for await (const line of lines) {
      if (line === "") continue;
      await publisher.publish(subject, parseMessage(line));
      published++;
    }
  }
  await publisher.flush();
  console.error(`Published ${published} event${published === 1 ? "" : "s"} on ${subject}`);
  return 0;
}
