// deno-lint-ignore-file no-console
/**
 * `deno task bench`: runs es (at --workers 1 and at --workers = CPU count), nats-server,
 * redis-server and a byte relay on the same workloads, prints one table of
 * medians with ratios and writes bench/RESULTS.md.
 *
 * Flags: --quick (smaller workloads, 1 run), --runs N, --only W1,W3,...,
 * --systems es1,es,nats,redis,relay, --no-write.
 */

import { parseArgs } from "node:util";
import {
  installed,
  type ServerProcess,
  startEs,
  startNats,
  startRedis,
  startRelay,
} from "./servers.ts";
import {
  closeAll,
  FULL,
  m1,
  m2,
  type Metrics,
  QUICK,
  type Sizes,
  w1,
  w2,
  w3,
  w4,
  w5,
} from "./workloads.ts";
import { formatTable, machine, type Results, targets } from "./report.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    quick: { type: "boolean", default: false },
    runs: { type: "string" },
    only: { type: "string" },
    systems: { type: "string", default: "es1,es,nats,redis,relay" },
    "no-write": { type: "boolean", default: false },
  },
});

const sizes: Sizes = values.quick ? QUICK : FULL;
const runs = Number(values.runs ?? (values.quick ? 1 : 3));
const only = values.only ? new Set(values.only.toUpperCase().split(",")) : undefined;
const want = (w: string) => only === undefined || only.has(w);

interface System {
  key: string;
  label: string;
  start(): Promise<ServerProcess>;
}

const all: System[] = [
  { key: "es1", label: "es w1", start: () => startEs(1) },
  {
    key: "es",
    label: `es w${navigator.hardwareConcurrency}`,
    start: () => startEs(navigator.hardwareConcurrency),
  },
  { key: "nats", label: "NATS", start: startNats },
  { key: "redis", label: "Redis", start: startRedis },
  { key: "relay", label: "relay", start: startRelay },
];
const systems: System[] = [];
const versions: Record<string, string> = {};
for (const key of values.systems.split(",")) {
  const system = all.find((s) => s.key === key);
  if (!system) throw new Error(`Unknown system ${JSON.stringify(key)}`);
  if (key === "nats" && !await installed("nats-server")) {
    console.log("nats-server is not installed: skipping NATS (apt-get install nats-server)");
    continue;
  }
  if (key === "redis" && !await installed("redis-server")) {
    console.log("redis-server is not installed: skipping Redis (apt-get install redis-server)");
    continue;
  }
  systems.push(system);
}

const samples: Record<string, Record<string, number[]>> = {};
function record(system: System, metrics: Metrics): void {
  const bySystem = samples[system.label] ??= {};
  for (const [name, value] of Object.entries(metrics)) (bySystem[name] ??= []).push(value);
}

/** Collects the bench process's garbage (with --v8-flags=--expose-gc) and lets things calm down. */
async function quiet(): Promise<void> {
  (globalThis as { gc?: () => void }).gc?.();
  await new Promise((r) => setTimeout(r, 300));
}

async function step(system: System, name: string, run: () => Promise<Metrics>): Promise<void> {
  if (!want(name)) return;
  await quiet();
  const t0 = performance.now();
  try {
    const metrics = await withTimeout(run(), 180_000, `${system.label} ${name}`);
    record(system, metrics);
    const shown = Object.entries(metrics).map(([k, v]) => `${k}=${fmt(v)}`).join(" ");
    console.log(
      `  ${system.label.padEnd(10)} ${name.padEnd(4)} ${shown} (${
        ((performance.now() - t0) / 1000).toFixed(1)
      } s)`,
    );
  } catch (error) {
    console.log(`  ${system.label} ${name} failed: ${(error as Error).message}`);
  }
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    p,
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

function fmt(v: number): string {
  return Math.abs(v) >= 1000 ? Math.round(v).toLocaleString("en-US") : v.toFixed(2);
}

const started = new Date();
for (let run = 1; run <= runs; run++) {
  console.log(`Run ${run}/${runs}`);
  for (const system of systems) {
    const server = await system.start();
    versions[system.label] = server.version;
    const url = server.url;
    // Warm-up (not recorded): the bench process compiles this client's hot paths.
    await w1(url, { ...sizes, w1Events: 20_000 }).catch(() => {});
    await step(system, "W1", () => w1(url, sizes));
    await step(system, "W2", () => w2(url, sizes));
    await step(system, "W3", () => w3(url, sizes));
    await step(system, "W4", () => w4(url, sizes));
    await step(system, "W5", () => w5(url, sizes, false));
    await step(system, "W5", () => w5(url, sizes, true));
    await step(system, "M2", async () => {
      const { metrics, hold } = await m2(url, sizes);
      await closeAll(hold);
      return metrics;
    });
    await server.stop();
    if (want("M1")) {
      const fresh = await system.start();
      await step(system, "M1", () => m1(fresh.url, fresh.pid, sizes));
      await fresh.stop();
    }
  }
}

const results: Results = {};
for (const [label, metrics] of Object.entries(samples)) {
  const out: Record<string, number> = (results[label] = {});
  for (const [name, values] of Object.entries(metrics)) {
    const sorted = [...values].sort((a, b) => a - b);
    out[name] = name.endsWith("lost")
      ? values.reduce((a, b) => a + b, 0)
      : sorted[Math.floor((sorted.length - 1) / 2)]!;
  }
}

const table = formatTable(results);
console.log();
console.log(table);
const checks = targets(results);
console.log(checks);

if (!values["no-write"]) {
  const info = await machine();
  const command = `deno task bench${Deno.args.length ? " " + Deno.args.join(" ") : ""}`;
  const text = [
    "# Benchmark results",
    "",
    `Written by \`${command}\` on ${started.toISOString()} (${runs} run${
      runs > 1 ? "s" : ""
    } per workload, medians; lost events summed over runs).`,
    "",
    "## Machine",
    "",
    info,
    "",
    "## Versions",
    "",
    ...Object.entries(versions).map(([k, v]) => `- ${k}: ${v}`),
    `- clients: es lib/client (\`connect()\`), npm nats@2.29.3, npm ioredis@5.11.1 (auto-pipelining), relay: bench/relay.ts`,
    "",
    "## Results",
    "",
    `Rates are events (deliveries) per second at the subscribers. Ratios are es/peer for es w1 | es w${navigator.hardwareConcurrency};`,
    "for latencies and memory lower is better, so a ratio below 1 favours es there.",
    "",
    "```",
    table,
    "```",
    "",
    "## Targets",
    "",
    "```",
    checks,
    "```",
    "",
  ].join("\n");
  await Deno.writeTextFile(new URL("RESULTS.md", import.meta.url), text);
  console.log("Wrote bench/RESULTS.md");
}
