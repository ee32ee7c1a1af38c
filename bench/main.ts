// deno-lint-ignore-file no-console
/**
 * `deno task bench`: the coordinator. Starts each system fresh, runs the
 * workloads with every client role in a process of its own, and prints (and,
 * for a full run, writes to bench/RESULTS.md) medians with min–max and ratios.
 *
 *   deno task bench [--quick] [--reps N] [--only es,es1,nats,redis,relay]
 *                   [--workloads W1,W2,W3,W4,W5,M1] [--write | --no-write]
 */

import { parseArgs } from "node:util";
import { machine, method, record, type Samples, tables } from "./report.ts";
import { measureIdle, type Metrics, runWorkload } from "./runner.ts";
import { type Deployment, type System, SYSTEMS } from "./systems.ts";
import { FULL, QUICK, type Sizes, type Workload, WORKLOADS } from "./workloads.ts";

const USAGE = `Usage: deno task bench [options]
  --quick            one repetition, smaller counts (for development)
  --reps N           repetitions (default 3, or 1 with --quick)
  --only KEYS        systems, comma-separated: ${SYSTEMS.map((s) => s.key).join(",")}
  --workloads NAMES  workloads, comma-separated: ${WORKLOADS.map((w) => w.name).join(",")},M1
  --write            write bench/RESULTS.md (default only for a full run)
  --no-write         do not write bench/RESULTS.md
Env BENCH_ES_FLAGS adds Deno flags to the es servers (e.g. "--cpu-prof").`;

const { values } = parseArgs({
  args: Deno.args,
  options: {
    quick: { type: "boolean", default: false },
    reps: { type: "string" },
    only: { type: "string" },
    workloads: { type: "string" },
    write: { type: "boolean" },
    "no-write": { type: "boolean", default: false },
    help: { type: "boolean", short: "h", default: false },
  },
});
if (values.help) {
  console.log(USAGE);
  Deno.exit(0);
}

function pick<T>(list: string | undefined, all: readonly T[], key: (t: T) => string): T[] {
  if (list === undefined) return [...all];
  const wanted = list.split(",").map((s) => s.trim()).filter((s) => s);
  for (const w of wanted) {
    if (!all.some((t) => key(t).toLowerCase() === w.toLowerCase()) && w.toUpperCase() !== "M1") {
      console.error(`Unknown name ${JSON.stringify(w)}\n${USAGE}`);
      Deno.exit(2);
    }
  }
  return all.filter((t) => wanted.some((w) => w.toLowerCase() === key(t).toLowerCase()));
}

const sizes: Sizes = values.quick ? QUICK : FULL;
const reps = Number(values.reps ?? (values.quick ? 1 : 3));
if (!Number.isInteger(reps) || reps < 1) {
  console.error(`--reps wants a positive integer\n${USAGE}`);
  Deno.exit(2);
}
const workloads = pick(values.workloads, WORKLOADS, (w) => w.name);
const withM1 = values.workloads === undefined ||
  values.workloads.toUpperCase().split(",").includes("M1");
const full = !values.quick && values.only === undefined && values.workloads === undefined;
const write = values["no-write"] ? false : values.write ?? full;

const systems: System[] = [];
for (const system of pick(values.only, SYSTEMS, (s) => s.key)) {
  const missing = await system.missing();
  if (missing) console.log(`Skipping ${system.label}: ${missing}`);
  else systems.push(system);
}

const samples: Samples = new Map();
const versions = new Map<string, string>();
const failures: string[] = [];
const tempDir = await Deno.makeTempDir({ prefix: "es-bench-" });

function show(metrics: Metrics): string {
  return Object.entries(metrics).filter(([k]) => !k.includes("publish"))
    .map(([k, v]) => `${k}=${Number.isInteger(v) ? v : v.toFixed(v < 100 ? 1 : 0)}`).join("  ");
}

/** Runs `step`, records its metrics under the system's label, and never throws. */
async function measure(
  rep: number,
  system: System,
  name: string,
  step: () => Promise<Metrics>,
): Promise<void> {
  const t0 = performance.now();
  try {
    const metrics = await step();
    record(samples, system.label, metrics);
    const seconds = ((performance.now() - t0) / 1000).toFixed(1);
    console.log(
      `  ${rep}  ${system.label.padEnd(15)} ${name.padEnd(4)} ${show(metrics)}  (${seconds} s)`,
    );
  } catch (error) {
    const message = `rep ${rep} ${system.label} ${name}: ${(error as Error).message}`;
    failures.push(message);
    console.log(`  FAILED ${message}`);
  }
}

async function deploy(system: System): Promise<Deployment> {
  const deployment = await system.start(tempDir);
  versions.set(system.label, deployment.versions.join(", "));
  return deployment;
}

/** A short W1 whose numbers are thrown away: the server compiles its hot paths. */
async function warmUp(deployment: Deployment, workload: Workload): Promise<void> {
  await runWorkload(deployment, workload, { ...QUICK, w1Events: 50_000 }).catch(() => {});
}

const started = new Date();
console.log(
  `${reps} repetition(s), ${values.quick ? "quick" : "full"} sizes, systems: ${
    systems.map((s) => s.label).join(", ")
  }`,
);
try {
  for (let rep = 1; rep <= reps; rep++) {
    for (const system of systems) {
      // Idle memory and M1 on a fresh server, before any workload has grown its heap.
      await measure(rep, system, withM1 ? "M1" : "idle", async () => {
        const deployment = await deploy(system);
        try {
          return await measureIdle(deployment, withM1 ? sizes.m1Subscribers : 0);
        } finally {
          await deployment.stop();
        }
      });
      if (workloads.length === 0) continue;
      let deployment: Deployment;
      try {
        deployment = await deploy(system);
      } catch (error) {
        failures.push(`rep ${rep} ${system.label}: ${(error as Error).message}`);
        continue;
      }
      try {
        await warmUp(deployment, WORKLOADS[0]!);
        for (const w of workloads) {
          if (w.routes && !deployment.routes) continue;
          await measure(rep, system, w.name, () => runWorkload(deployment, w, sizes));
        }
      } finally {
        await deployment.stop();
      }
    }
  }
} finally {
  await Deno.remove(tempDir, { recursive: true }).catch(() => {});
}

const report = tables(samples, systems);
console.log(`\n${report}\n`);
for (const f of failures) console.log(`FAILED ${f}`);

if (write) {
  const config = JSON.parse(await Deno.readTextFile(new URL("../deno.json", import.meta.url)));
  const imports = config.imports as Record<string, string>;
  const text = [
    "# Benchmark results",
    "",
    `Written by \`deno task bench${Deno.args.length ? " " + Deno.args.join(" ") : ""}\`, ` +
    `${started.toISOString()}. Do not edit by hand: run the bench again.`,
    "",
    method(reps),
    "",
    "Workloads:",
    "",
    ...workloads.map((w) => `- ${w.name}: ${w.title}`),
    "- M1: server RSS per idle subscriber connection (one subject each, " +
    `${sizes.m1Subscribers.toLocaleString("en-US")} held by a separate process), KiB`,
    "",
    "## Machine and versions",
    "",
    ...(await machine()).map((l) => `- ${l}`),
    ...[...versions].map(([label, v]) => `- ${label}: ${v}`),
    `- clients: es client served by each es server at \`/client.js\`, \`${imports.nats}\`, ` +
    `\`${imports.ioredis}\`, relay framing in bench/relay_client.ts; Deno ${Deno.version.deno}`,
    "",
    "## Results",
    "",
    report,
    ...(failures.length ? ["", "## Failures", "", ...failures.map((f) => `- ${f}`)] : []),
    "",
  ].join("\n");
  const file = new URL("RESULTS.md", import.meta.url);
  await Deno.writeTextFile(file, text);
  // Keep `deno fmt --check` clean: the tables are aligned by the formatter.
  await new Deno.Command(Deno.execPath(), { args: ["fmt", "-q", file.pathname] }).output();
  console.log("Wrote bench/RESULTS.md");
}
Deno.exit(failures.length ? 1 : 0);
