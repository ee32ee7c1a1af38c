// deno-lint-ignore-file no-console
/** `es publish SUBJECT [MESSAGE]`: one event, or one per line of stdin. */

import { TextLineStream } from "./text_lines.ts";
import { Publisher } from "../lib/client/publisher.ts";
import { CLIENT_OPTIONS, parse, printHelp, UsageError } from "./usage.ts";
import { IDENT_HELP } from "./trust_flags.ts";
import { clientOptions, parseMessage } from "./client_flags.ts";

const HELP = `
Usage: es publish [options] SUBJECT [MESSAGE]

Publishes MESSAGE on SUBJECT. MESSAGE is sent as JSON when it parses as JSON,
else as a string. Without MESSAGE, each line of standard input is one event.

Options:
      --es URI             event server (es://HOST:PORT); else found by name
      --ns URI             name server (ns://HOST:PORT, env ES_NS)
${IDENT_HELP}
      --ca-cert PATH       PEM CA certificate to trust for es+tls:// (env ES_CA_CERT)
  -h, --help               show this help
`;

/** Runs `es publish`; resolves with the exit code. */
export async function publish(args: string[]): Promise<number> {
  const { values, positionals } = parse(args, CLIENT_OPTIONS, true);
  if (values.help) return printHelp(HELP);
  if (positionals.length === 0) throw new UsageError("Missing SUBJECT (see es publish --help)");
  if (positionals.length > 2) {
    throw new UsageError(
      `Too many arguments: expected SUBJECT [MESSAGE], got ${positionals.length} (quote the message)`,
    );
  }
  const [subject, message] = positionals as [string, string | undefined];
  await using publisher = new Publisher(clientOptions(values));
  if (message !== undefined) {
    await publisher.publish(subject, parseMessage(message));
  } else {
    const lines = Deno.stdin.readable.pipeThrough(new TextDecoderStream()).pipeThrough(
      new TextLineStream(),
    );
    let count = 0;
    for await (const line of lines) {
      if (line === "") continue;
      await publisher.publish(subject, parseMessage(line));
      count++;
    }
    console.error(`Published ${count} event${count === 1 ? "" : "s"} on ${subject}`);
  }
  await publisher.flush();
  return 0;
}
