// deno-lint-ignore-file no-console
/** `es explain SUBJECT`: which subscriptions an event on SUBJECT would reach, and why. */

import { openEventServer } from "../lib/client/locate.ts";
import type { ClientOptions } from "../lib/client/options.ts";
import { FrameType } from "../lib/protocol/constants.ts";
import type { ExplainMatch } from "../lib/node/explain.ts";
import { CLIENT_OPTIONS, parse, printHelp, UsageError } from "./usage.ts";
import { IDENT_HELP } from "./trust_flags.ts";
import { clientOptions, toJson } from "./client_flags.ts";

export const HELP = `
Usage: es explain [options] SUBJECT

Shows which subscriptions an event published on SUBJECT would reach, and why:
the connection, exact subject or pattern, queue group, the overflow policy and
how full its queue is. Nothing is published.

Options:
      --json               print the raw JSON
      --es URI             event server (es://HOST:PORT, env ES_URL); else found by name
      --ns URI             name server (ns://HOST:PORT, env ES_NS)
${IDENT_HELP}
      --ca-cert PATH       PEM CA certificate to trust for es+tls:// (env ES_CA_CERT)
  -h, --help               show this help
`;

const OPTIONS = { ...CLIENT_OPTIONS, json: { type: "boolean" } } as const;

/** The server's answer. */
export interface Explanation {
  subject: string;
  matches: ExplainMatch[];
  /** Matches left out of the reply. */
  more: number;
}

/** Asks the server (over the protocol) what an event on `subject` would reach. */
export async function fetchExplanation(
  options: ClientOptions,
  subject: string,
): Promise<Explanation> {
  const connection = await openEventServer(options, "es-explain");
  try {
    const body = await connection.bodyRequest(
      FrameType.EXPLAIN,
      new TextEncoder().encode(subject),
    );
    return JSON.parse(new TextDecoder().decode(body));
  } finally {
    await connection.close();
  }
}

/** Renders an explanation for a terminal. */
export function formatExplanation(e: Explanation): string {
  const id = (m: ExplainMatch) => `${m.worker ?? 0}/${m.connection}`;
  const connections = new Set(e.matches.filter((m) => m.group === "").map(id)).size;
  const groups = new Map<string, Set<string>>();
  for (const m of e.matches) {
    if (m.group !== "") groups.set(m.group, (groups.get(m.group) ?? new Set()).add(id(m)));
  }
  // A queue group reaches one of its members per event, not each of them.
  const inGroups = [...groups].map(([group, members]) => `${group}: one of ${members.size}`);
  const subscriptions = e.matches.length + e.more;
  const plain = `${connections} connection${connections === 1 ? "" : "s"}`;
  const grouped = `one member of each queue group (${inGroups.join(", ")})`;
  const reach = inGroups.length === 0
    ? plain
    : connections === 0
    ? grouped
    : `${plain} and ${grouped}`;
  const head = `An event on ${
    JSON.stringify(e.subject)
  } would reach ${reach} through ${subscriptions} subscription${subscriptions === 1 ? "" : "s"}`;
  if (e.matches.length === 0) return `${head}: nobody wants it (it would vanish).`;
  const lines = [head + ":"];
  for (const m of e.matches) {
    lines.push(
      `  #${m.connection} ${m.remote} (${m.client || "client"})  ${m.kind} ${
        m.kind === "pattern" ? `/${m.item}/` : m.item
      }${m.group ? `  group ${m.group}` : ""}  ${m.overflow}, queue ${m.queueDepth}/${m.queueSize}`,
      `      why: ${m.why}`,
    );
  }
  if (e.more > 0) lines.push(`  … and ${e.more} more`);
  return lines.join("\n");
}

/** Runs `es explain`; resolves with the exit code. */
export async function explainCommand(args: string[]): Promise<number> {
  const { values, positionals } = parse(args, OPTIONS, true);
  if (values.help) return printHelp(HELP);
  if (positionals.length !== 1) {
    throw new UsageError("Expected one SUBJECT (see es explain --help)");
  }
  const explanation = await fetchExplanation(clientOptions(values), positionals[0]!);
  console.log(values.json ? toJson(explanation) : formatExplanation(explanation));
  return 0;
}
