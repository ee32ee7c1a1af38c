/**
 * Turns the samples of a run into Markdown tables: medians with min–max per
 * system, es against each peer as ratios of medians, memory, and the machine.
 */

import type { System } from "./systems.ts";

/** Every sample of every metric, per system label. */
export type Samples = Map<string, Map<string, number[]>>;

/** Adds one measurement's metrics to the samples. */
export function record(samples: Samples, label: string, metrics: Record<string, number>): void {
  const bySystem = samples.get(label) ?? samples.set(label, new Map()).get(label)!;
  for (const [name, value] of Object.entries(metrics)) {
    const values = bySystem.get(name) ?? bySystem.set(name, []).get(name)!;
    values.push(value);
  }
}

interface Summary {
  median: number;
  min: number;
  max: number;
  n: number;
}

function summarize(values: number[] | undefined): Summary | undefined {
  if (!values || values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return { median, min: sorted[0]!, max: sorted[sorted.length - 1]!, n: sorted.length };
}

type Format = (v: number) => string;

const rate: Format = (v) =>
  v >= 1e6 ? `${(v / 1e6).toFixed(2)}M` : v >= 1e3 ? `${Math.round(v / 1e3)}k` : v.toFixed(0);
const whole: Format = (v) => Math.round(v).toLocaleString("en-US");
const mib: Format = (v) => v.toFixed(v < 10 ? 1 : 0);
const kib: Format = (v) => v.toFixed(1);

/** "median (min–max)", or the median alone for a single sample. */
function cell(s: Summary | undefined, f: Format): string {
  if (s === undefined || Number.isNaN(s.median)) return "—";
  return s.n > 1 && s.min !== s.max ? `${f(s.median)} (${f(s.min)}–${f(s.max)})` : f(s.median);
}

function table(head: string[], rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.join(" | ")} |`;
  const rule = head.map((_, i) => (i === 0 ? "---" : "--:"));
  return [line(head), line(rule), ...rows.map(line)].join("\n");
}

interface Column {
  head: string;
  metric: string;
  format: Format;
  /** For ratios: whether higher is better. */
  higherBetter: boolean;
}

const SPEED: Column[] = [
  { head: "W1 events/s", metric: "W1 rate", format: rate, higherBetter: true },
  { head: "W2 deliveries/s", metric: "W2 rate", format: rate, higherBetter: true },
  { head: "W3 p50 µs", metric: "W3 p50 µs", format: whole, higherBetter: false },
  { head: "W3 p99 µs", metric: "W3 p99 µs", format: whole, higherBetter: false },
  { head: "W4 events/s", metric: "W4 rate", format: rate, higherBetter: true },
  { head: "W5 deliveries/s", metric: "W5 rate", format: rate, higherBetter: true },
];

const MEMORY: Column[] = [
  { head: "idle MiB", metric: "idle MiB", format: mib, higherBetter: false },
  ...["W1", "W2", "W3", "W4", "W5"].map((w) => ({
    head: `peak ${w} MiB`,
    metric: `${w} peak MiB`,
    format: mib,
    higherBetter: false,
  })),
  { head: "M1 KiB/sub", metric: "M1 KiB/sub", format: kib, higherBetter: false },
];

const PUBLISH: Column[] = ["W1", "W2", "W4", "W5"].map((w) => ({
  head: `${w} publish/s`,
  metric: `${w} publish rate`,
  format: rate,
  higherBetter: true,
}));

function valuesTable(samples: Samples, systems: System[], columns: Column[]): string {
  const shown = columns.filter((c) => systems.some((s) => samples.get(s.label)?.has(c.metric)));
  const rows = systems.filter((s) => samples.has(s.label)).map((s) => [
    s.label,
    ...shown.map((c) => cell(summarize(samples.get(s.label)?.get(c.metric)), c.format)),
  ]);
  return table(["system", ...shown.map((c) => c.head)], rows);
}

/** CPU seconds per workload as "server / publishers / subscribers", medians. */
function cpuTable(samples: Samples, systems: System[]): string {
  const names = ["W1", "W2", "W3", "W4", "W5"].filter((w) =>
    systems.some((s) => samples.get(s.label)?.has(`${w} cpu server s`))
  );
  const rows = systems.filter((s) => samples.has(s.label)).map((s) => [
    s.label,
    ...names.map((w) => {
      const parts = ["server", "pubs", "subs", "other"].map((side) =>
        summarize(samples.get(s.label)?.get(`${w} cpu ${side} s`))?.median
      );
      return parts.some((p) => p === undefined)
        ? "—"
        : parts.map((p) => p!.toFixed(p! < 10 ? 2 : 1)).join(" / ");
    }),
  ]);
  return table(["system", ...names], rows);
}

/** Sum of the samples whose metric name ends with `suffix`, per system. */
function total(samples: Samples, label: string, suffix: string): number {
  let sum = 0;
  for (const [name, values] of samples.get(label) ?? []) {
    if (name.endsWith(suffix)) sum += values.reduce((a, b) => a + b, 0);
  }
  return sum;
}

function lossTable(samples: Samples, systems: System[]): string {
  const rows = systems.filter((s) => samples.has(s.label)).map((s) => [
    s.label,
    whole(total(samples, s.label, " lost")),
    whole(total(samples, s.label, " order errors")),
  ]);
  return table(["system", "events lost (all runs)", "out of order (all runs)"], rows);
}

/**
 * Each system over each of the others in `pairs`, ratio of medians; "faster/leaner"
 * is > 1 in every column.
 */
function ratioTable(
  samples: Samples,
  systems: System[],
  pairs: [System, System][],
  head: string,
): string | undefined {
  const med = (label: string, metric: string) => summarize(samples.get(label)?.get(metric))?.median;
  const present = pairs.filter(([a, b]) => samples.has(a.label) && samples.has(b.label));
  const columns = [...SPEED, MEMORY[0]!, MEMORY[2]!, MEMORY[6]!].filter((c) =>
    systems.some((s) => med(s.label, c.metric) !== undefined)
  );
  const rows = present.map(([one, other]) => [
    `${one.label} vs ${other.label}`,
    ...columns.map((c) => {
      const a = med(one.label, c.metric), b = med(other.label, c.metric);
      if (a === undefined || b === undefined || !a || !b) return "—";
      return `${(c.higherBetter ? a / b : b / a).toFixed(2)}×`;
    }),
  ]);
  return rows.length ? table([head, ...columns.map((c) => c.head)], rows) : undefined;
}

/**
 * es against each peer, then each system with `comparedWith` against those systems
 * only (the cluster against one es node and against NATS).
 */
function ratioSections(samples: Samples, systems: System[]): string[] {
  const out: string[] = [];
  const section = (title: string, text: string | undefined) => {
    if (text !== undefined) out.push(`### ${title}`, "", text, "");
  };
  const es = systems.filter((s) => s.isEs && s.comparedWith === undefined);
  const peers = systems.filter((s) => !s.isEs);
  section(
    "es against each peer (ratio of medians; above 1 means es is faster or leaner)",
    ratioTable(
      samples,
      systems,
      es.flatMap((a) => peers.map((b): [System, System] => [a, b])),
      "es vs peer",
    ),
  );
  for (const one of systems.filter((s) => s.comparedWith !== undefined)) {
    const others = one.comparedWith!.flatMap((key) => systems.filter((s) => s.key === key));
    section(
      `${one.label} against ${
        others.map((s) => s.label).join(" and ")
      } (ratio of medians; above 1 means ${one.label} is faster or leaner)`,
      ratioTable(samples, systems, others.map((b): [System, System] => [one, b]), "ratio"),
    );
  }
  return out;
}

/** What the tables of the systems shown need said about them, a paragraph each. */
function notes(samples: Samples, systems: System[]): string[] {
  return systems.filter((s) => s.note !== undefined && samples.has(s.label))
    .flatMap((s) => [`${s.label}: ${s.note}.`, ""]);
}

/** Every table of the run, in Markdown. */
export function tables(samples: Samples, systems: System[]): string {
  return [
    "### Throughput and latency (median, min–max in brackets)",
    "",
    valuesTable(samples, systems, SPEED),
    "",
    ...notes(samples, systems),
    ...ratioSections(samples, systems),
    "### Server memory (resident set; median, min–max in brackets)",
    "",
    valuesTable(samples, systems, MEMORY),
    "",
    "### Loss and order, counted at the subscribers",
    "",
    lossTable(samples, systems),
    "",
    "### Publisher side: events handed to the client per second (same loop for all)",
    "",
    valuesTable(samples, systems, PUBLISH),
    "",
    "### CPU seconds from go to the last report: server / publishers / subscribers / rest of the machine (median)",
    "",
    cpuTable(samples, systems),
  ].join("\n");
}
