/**
 * The bench's tables: es against each peer, and a system with `comparedWith`
 * (the cluster) only against the systems it names, with its note.
 */

import { assert, assertEquals } from "./_assert.ts";
import { record, type Samples, tables } from "../bench/report.ts";
import type { System } from "../bench/systems.ts";

function system(key: string, isEs: boolean, extra: Partial<System> = {}): System {
  return {
    key,
    label: key,
    isEs,
    missing: () => Promise.resolve(undefined),
    start: () => Promise.reject(new Error("not started in this test")),
    ...extra,
  };
}

const SYSTEMS = [
  system("es", true),
  system("cluster", true, { comparedWith: ["es", "nats"], note: "three processes counted" }),
  system("nats", false),
  system("redis", false),
];

function samples(): Samples {
  const s: Samples = new Map();
  record(s, "es", { "W1 rate": 400_000, "idle MiB": 50 });
  record(s, "cluster", { "W1 rate": 100_000, "idle MiB": 100 });
  record(s, "nats", { "W1 rate": 200_000, "idle MiB": 10 });
  record(s, "redis", { "W1 rate": 800_000, "idle MiB": 5 });
  return s;
}

/** The rows of the Markdown table under the heading that starts with `title`. */
function rowsUnder(text: string, title: string): string[] {
  const lines = text.split("\n");
  const start = lines.findIndex((l) => l.startsWith(`### ${title}`));
  assert(start >= 0, `no heading "${title}" in:\n${text}`);
  const rows: string[] = [];
  for (const line of lines.slice(start + 3)) {
    if (!line.startsWith("|")) break;
    rows.push(line);
  }
  return rows.slice(1);
}

Deno.test("bench tables set es against each peer, and not the cluster", () => {
  const rows = rowsUnder(tables(samples(), SYSTEMS), "es against each peer");
  assertEquals(rows, [
    "| es vs nats | 2.00× | 0.20× |",
    "| es vs redis | 0.50× | 0.10× |",
  ]);
});

Deno.test("bench tables set the cluster against one es node and NATS only, and say its note", () => {
  const text = tables(samples(), SYSTEMS);
  assertEquals(rowsUnder(text, "cluster against es and nats"), [
    "| cluster vs es | 0.25× | 0.50× |",
    "| cluster vs nats | 0.50× | 0.10× |",
  ]);
  assert(text.includes("\ncluster: three processes counted.\n"), text);
});
