/**
 * bench/RESULTS.md: the method in one paragraph, the workloads, the machine and
 * the versions, then the tables of the run. Written only by `deno task bench`.
 */

import { type Sizes, W3_RATE, type Workload } from "./workloads.ts";

const FILE = new URL("RESULTS.md", import.meta.url);

/** What the document is made of. */
export interface RunRecord {
  started: Date;
  reps: number;
  sizes: Sizes;
  workloads: Workload[];
  /** Version line per system label. */
  versions: Map<string, string>;
  tables: string;
  failures: string[];
  notes: string[];
}

/** The method, in one paragraph. */
function method(reps: number): string {
  return `Every role runs in its own process: the servers (started by the bench on loopback, ` +
    `ephemeral ports), one process per publisher group and per subscriber group (W2's 16 ` +
    `subscriber connections are split over two processes), all clients in Deno ${Deno.version.deno} ` +
    `with each system's usual client: the es client as served by the running server at ` +
    `\`/client.js\`, npm \`nats\`, npm \`ioredis\` (default options), and a framing client for ` +
    `the relay. Payloads are 64 bytes. The publish loop is the same for every system: it never ` +
    `awaits a single publish, yields to the event loop every 1,000 publishes, then flushes. Each ` +
    `publisher first sends about 10% extra warm-up events, which subscribers count but do not ` +
    `time. Rates are counted at the subscribers, from the first to the last measured delivery. ` +
    `W3 publishes ${W3_RATE.toLocaleString("en-US")} events/s with the send time in the payload ` +
    `and reports one-way latency. Server memory is the resident set of the server process ` +
    `(/proc VmRSS, peak from VmHWM reset before each workload). ${reps} repetition${
      reps > 1 ? "s" : ""
    }, systems interleaved within each; each system starts on a quiet machine, and a ` +
    `measurement during which other processes took more than 10% of a core is redone (up to ` +
    `five attempts; the least disturbed counts).`;
}

/** nproc, CPU model, memory, kernel. */
async function machine(): Promise<string[]> {
  const cpuinfo = await Deno.readTextFile("/proc/cpuinfo").catch(() => "");
  const meminfo = await Deno.readTextFile("/proc/meminfo").catch(() => "");
  const memKiB = Number(meminfo.match(/MemTotal:\s+(\d+)/)?.[1] ?? NaN);
  return [
    `nproc: ${navigator.hardwareConcurrency}`,
    `CPU: ${cpuinfo.match(/model name\s*:\s*(.+)/)?.[1] ?? "unknown"}`,
    `memory: ${(memKiB / 1024 / 1024).toFixed(1)} GiB`,
    `OS: ${Deno.build.os} ${Deno.build.arch}, kernel ${Deno.osRelease()}`,
  ];
}

/** Writes bench/RESULTS.md and formats it, so `deno fmt --check` stays clean. */
export async function writeResults(run: RunRecord): Promise<void> {
  const config = JSON.parse(await Deno.readTextFile(new URL("../deno.json", import.meta.url)));
  const imports = config.imports as Record<string, string>;
  const command = `deno task bench${Deno.args.length ? " " + Deno.args.join(" ") : ""}`;
  const list = (items: string[]) => items.map((i) => `- ${i}`);
  const text = [
    "# Benchmark results",
    "",
    `Written by \`${command}\` on ${run.started.toISOString()}; do not edit by hand.`,
    "",
    method(run.reps),
    "",
    "Workloads:",
    "",
    ...list(run.workloads.map((w) => `${w.name}: ${w.title}`)),
    `- M1: server RSS per idle subscriber connection (one subject each, ${
      run.sizes.m1Subscribers.toLocaleString("en-US")
    } held by a separate process), KiB`,
    "",
    "## Machine and versions",
    "",
    ...list(await machine()),
    ...list([...run.versions].map(([label, v]) => `${label}: ${v}`)),
    `- clients: the es client each es server serves at \`/client.js\`, \`${imports.nats}\`, ` +
    `\`${imports.ioredis}\`, bench/relay_client.ts for the relay; Deno ${Deno.version.deno}`,
    "",
    "## Results",
    "",
    run.tables,
    ...(run.failures.length ? ["", "## Failures", "", ...list(run.failures)] : []),
    ...(run.notes.length ? ["", "## Notes", "", ...list(run.notes)] : []),
    "",
  ].join("\n");
  await Deno.writeTextFile(FILE, text);
  await new Deno.Command(Deno.execPath(), { args: ["fmt", "-q", FILE.pathname] }).output();
}
