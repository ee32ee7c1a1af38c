// deno-lint-ignore-file no-console
/** `es stats`: the server's counters, as a table or raw JSON. */

import { openEventServer } from "../lib/client/locate.ts";
import type { ClientOptions } from "../lib/client/options.ts";
import { FrameType } from "../lib/protocol/constants.ts";
import type { ServerStats } from "../lib/node/stats.ts";
import { CLIENT_OPTIONS, parse, printHelp } from "./usage.ts";
import { IDENT_HELP } from "./trust_flags.ts";
import { clientOptions } from "./client_flags.ts";

export const HELP = `
Usage: es stats [options]

Prints the event server's counters as a table.

Options:
      --json               print the raw JSON
      --es URI             event server (es://HOST:PORT); else found by name
      --ns URI             name server (ns://HOST:PORT, env ES_NS)
${IDENT_HELP}
      --ca-cert PATH       PEM CA certificate to trust for es+tls:// (env ES_CA_CERT)
  -h, --help               show this help
`;

/** Fetches the counters over the protocol (works with HTTP off too). */
export async function fetchStats(options: ClientOptions): Promise<ServerStats> {
  const connection = await openEventServer(options, "es-stats");
  try {
    const body = await connection.bodyRequest(FrameType.STATS);
    const stats = JSON.parse(new TextDecoder().decode(body)) as ServerStats;
    // The connection asking is not one of the server's clients.
    stats.connections = Math.max(0, stats.connections - 1);
    return stats;
  } finally {
    await connection.close();
  }
}

function table(rows: (string | number)[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => String(r[i]).length)));
  return rows.map((r) =>
    r.map((cell, i) =>
      typeof cell === "number" ? String(cell).padStart(widths[i]!) : String(cell).padEnd(widths[i]!)
    ).join("  ").trimEnd()
  ).join("\n");
}

/** Renders the counters for a terminal. */
export function formatStats(s: ServerStats): string {
  const t = s.totals;
  const lines = [
    `es ${s.version} at ${s.uri}, up ${(s.uptimeMs / 1000).toFixed(0)} s, ${s.workers} worker(s)`,
    `queueSize ${s.queueSize}, ${s.blockQueue ? "blocking" : "dropping"} when full`,
    "",
    table([
      [
        "connections",
        "publishes",
        "events",
        "routed",
        "delivered",
        "dropped",
        "unrouted",
        "events/s",
      ],
      [
        s.connections,
        t.publishes,
        t.events,
        t.routed,
        t.delivered,
        t.dropped,
        t.unrouted,
        Math.round(s.rate),
      ],
    ]),
    "",
    `Subscribers (${s.subscribers.length}${
      s.subscribersOmitted ? ` listed, ${s.subscribersOmitted} more not listed` : ""
    }):`,
  ];
  if (s.subscribers.length > 0) {
    lines.push(table([
      ["id", "remote", "policy", "queue", "delivered", "dropped", "groups", "subscriptions"],
      ...s.subscribers.map((
        x,
      ) => [
        x.id,
        x.remote,
        x.overflow,
        `${x.queueDepth}/${x.queueSize}`,
        x.delivered,
        x.dropped,
        (x.groups ?? []).join(" ") || "-",
        [
          ...x.subjects,
          ...x.patterns.map((p) => `/${p}/`),
          ...((x.subjectsOmitted ?? 0) + (x.patternsOmitted ?? 0) > 0
            ? [`(+${(x.subjectsOmitted ?? 0) + (x.patternsOmitted ?? 0)} more)`]
            : []),
        ].join(" "),
      ]),
    ]));
  }
  const c = s.cluster;
  if (c) {
    const peers = (c.peers as string[] | undefined) ?? [];
    lines.push(
      "",
      `Cluster on ${(c.servers as string[]).join(",")}: ${
        c.connected ? "connected" : "NOT CONNECTED (local delivery goes on)"
      }, ${peers.length} peer(s)${peers.length ? ": " + peers.join(" ") : ""}`,
      `  sent ${c.sent}, received ${c.received}, dropped here ${c.dropped}, not sent while down ${c.notSent}, reconnects ${c.reconnects}`,
    );
  }
  lines.push("", `Subjects (${s.subjects.length}):`);
  if (s.subjects.length > 0) {
    lines.push(
      table([
        ["subject", "published", "events/s"],
        ...s.subjects.map((x) => [x.subject, x.published, Math.round(x.rate)]),
      ]),
    );
  }
  return lines.join("\n");
}

/** Runs `es stats`; resolves with the exit code. */
export async function stats(args: string[]): Promise<number> {
  const { values } = parse(args, { ...CLIENT_OPTIONS, json: { type: "boolean" } });
  if (values.help) return printHelp(HELP);
  const s = await fetchStats(clientOptions(values));
  console.log(values.json ? JSON.stringify(s, null, 2) : formatStats(s));
  return 0;
}
