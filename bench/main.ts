// deno-lint-ignore-file no-console
/**
 * `deno task bench`: the coordinator. Starts each system fresh, runs the
 * workloads with every client role in a process of its own, and prints (and,
 * for a full run, writes to bench/RESULTS.md) medians with min–max and ratios.
 *
 *   deno task bench [--quick] [--reps N] [--only es,es1,es2,cluster,nats,redis,relay]
 *                   [--workloads W1,W2,W3,W4,W5,M1] [--write | --no-write]
 */

import { parseArgs } from "node:util";
import { record, type Samples, tables } from "./report.ts";
import { writeResults } from "./results_file.ts";
import { waitForQuiet } from "./proc.ts";
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

function usageError(message: string): never {
  console.error(`${message}\n${USAGE}`);
  Deno.exit(2);
}

const { values } = (() => {
  try {
    return parseArgs({
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
  } catch (error) {
    usageError((error as Error).message);
  }
})();
if (values.help) {
  console.log(USAGE);
  Deno.exit(0);
}

/**
 * The entries of `all` named in a comma-separated `list` (when absent, all
 * but those `onRequest` says run only when named); `also` are valid too.
 */
function pick<T>(
  list: string | undefined,
  all: readonly T[],
  key: (t: T) => string,
  also: string[] = [],
  onRequest: (t: T) => boolean = () => false,
): T[] {
  if (list === undefined) return all.filter((t) => !onRequest(t));
  const wanted = list.split(",").map((s) => s.trim().toLowerCase()).filter((s) => s);
  for (const w of wanted) {
    if (!all.some((t) => key(t).toLowerCase() === w) && !also.includes(w)) {
      usageError(`Unknown name ${JSON.stringify(w)}`);
    }
  }
  return all.filter((t) => wanted.includes(key(t).toLowerCase()));
}

const sizes: Sizes = values.quick ? QUICK : FULL;
const reps = Number(values.reps ?? (values.quick ? 1 : 3));
if (!Number.isInteger(reps) || reps < 1) usageError("--reps wants a positive integer");
const workloads = pick(values.workloads, WORKLOADS, (w) => w.name, ["m1"]);
const withM1 = values.workloads === undefined ||
  values.workloads.toUpperCase().split(",").includes("M1");
const full = !values.quick && values.only === undefined && values.workloads === undefined;
const write = values["no-write"] ? false : values.write ?? full;

const systems: System[] = [];
for (const system of pick(values.only, SYSTEMS, (s) => s.key, [], (s) => s.onRequest === true)) {
  const missing = await system.missing();
  if (missing) console.log(`Skipping ${system.label}: ${missing}`);
  else systems.push(system);
}

const samples: Samples = new Map();
const versions = new Map<string, string>();
const failures: string[] = [];
const notes: string[] = [];
const tempDir = await Deno.makeTempDir({ prefix: "es-bench-" });

function show(metrics: Metrics): string {
  return Object.entries(metrics).filter(([k]) => !k.includes("publish") && !k.includes("cpu"))
    .map(([k, v]) => `${k}=${Number.isInteger(v) ? v : v.toFixed(v < 100 ? 1 : 0)}`).join("  ");
}

/** Share of one core that other processes may take during a measurement before it is redone. */
const MAX_OTHER_LOAD = 0.1;
const MAX_ATTEMPTS = 5;

/** Other processes' CPU seconds per second of the measurement, if it says. */
function otherLoad(metrics: Metrics): number {
  const other = Object.entries(metrics).find(([k]) => k.endsWith(" cpu other s"))?.[1];
  const wall = Object.entries(metrics).find(([k]) => k.endsWith(" wall s"))?.[1];
  return other !== undefined && wall ? other / wall : 0;
}

/**
 * Runs `step` and records its metrics under the system's label. The machine may be
 * shared: while other processes took CPU during a run it is redone, and if every
 * attempt was disturbed the least disturbed one counts (and is noted). Never throws.
 */
async function measure(
  rep: number,
  system: System,
  name: string,
  step: () => Promise<Metrics>,
): Promise<void> {
  const line = (text: string) =>
    console.log(`  ${rep}  ${system.label.padEnd(15)} ${name.padEnd(4)} ${text}`);
  let best: { metrics: Metrics; load: number } | undefined;
  const t0 = performance.now();
  try {
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
      const metrics = await step();
      const load = otherLoad(metrics);
      if (best === undefined || load < best.load) best = { metrics, load };
      if (load <= MAX_OTHER_LOAD) break;
      line(`disturbed: other processes took ${(load * 100).toFixed(0)}% of a core`);
      if (attempt < MAX_ATTEMPTS) await waitForQuiet();
    }
  } catch (error) {
    const message = `rep ${rep} ${system.label} ${name}: ${(error as Error).message}`;
    failures.push(message);
    console.log(`  FAILED ${message}`);
    return;
  }
  if (best!.load > MAX_OTHER_LOAD) {
    notes.push(
      `rep ${rep} ${system.label} ${name}: other processes took ${
        (best!.load * 100).toFixed(0)
      }% of a core in the least disturbed of ${MAX_ATTEMPTS} attempts`,
    );
  }
  record(samples, system.label, best!.metrics);
  line(`${show(best!.metrics)}  (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
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
      // Other work on the machine skews every number: start each system on a quiet machine.
      const busy = await waitForQuiet();
      if (busy >= MAX_OTHER_LOAD) {
        const note = `rep ${rep} ${system.label}: the machine stayed busy (${
          (busy * 100).toFixed(0)
        }% of a core used by other processes)`;
        notes.push(note);
        console.log(`  NOTE ${note}`);
      }
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
  await writeResults({
    started,
    reps,
    sizes,
    workloads,
    versions,
    tables: report,
    failures,
    notes,
  });
  console.log("Wrote bench/RESULTS.md");
}
Deno.exit(failures.length ? 1 : 0);
