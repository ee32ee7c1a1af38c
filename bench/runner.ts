/**
 * Runs one workload against one deployment: starts the subscriber processes,
 * then the publisher processes, says "go", tells the subscribers when the
 * publishers are done, and turns their reports into numbers. Also measures
 * idle memory and M1 on a fresh deployment.
 */

import { cpuMsOf, foreignCpu, foreignCpuMs, PeakSampler, rssKiB } from "./proc.ts";
import type { SubReport } from "./protocol.ts";
import { RoleProcess } from "./spawn.ts";
import type { Deployment } from "./systems.ts";
import type { Sizes, Workload } from "./workloads.ts";

/** Named numbers from one measurement. */
export type Metrics = Record<string, number>;

const READY_MS = 120_000;
const RUN_MS = 600_000;
const SETTLE_MS = 1000;

const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Runs `workload` once; throws if a role process fails. */
export async function runWorkload(
  deployment: Deployment,
  workload: Workload,
  sizes: Sizes,
): Promise<Metrics> {
  const plan = workload.plan(sizes);
  const procs: RoleProcess[] = [];
  let sampler: PeakSampler | undefined;
  try {
    const subs = plan.subs.map((s) =>
      new RoleProcess({ ...s, role: "sub", target: deployment.subscribeTo })
    );
    procs.push(...subs);
    await Promise.all(subs.map((p) => p.next("ready", READY_MS)));
    const pubs = plan.pubs.map((p) =>
      new RoleProcess({ ...p, role: "pub", target: deployment.publishTo })
    );
    procs.push(...pubs);
    await Promise.all(pubs.map((p) => p.next("ready", READY_MS)));

    sampler = new PeakSampler(deployment.pids);
    await sampler.start();
    const serverCpuAtGo = await cpuMsOf(deployment.pids);
    const othersAtGo = await foreignCpu();
    const goAt = performance.now();
    await Promise.all(pubs.map((p) => p.send("go")));
    const done = await Promise.all(pubs.map((p) => p.next("done", RUN_MS)));
    await Promise.all(subs.map((p) => p.send("end")));
    const results = await Promise.all(subs.map((p) => p.next("result", RUN_MS)));
    const wallMs = performance.now() - goAt;
    const othersMs = foreignCpuMs(othersAtGo, await foreignCpu());
    const peakKiB = await sampler.stop();
    const serverCpuMs = await cpuMsOf(deployment.pids) - serverCpuAtGo;

    const reports = results.flatMap((r) => r.connections);
    // Reports come in plan order: one per connection of each subscriber process.
    const wanted = plan.subs.flatMap((s) => Array.from({ length: s.connections }, () => s));
    const metrics: Metrics = {
      [`${workload.name} lost`]: reports.reduce(
        (n, r, i) =>
          n + Math.max(0, wanted[i]!.expected - r.count) + Math.max(0, wanted[i]!.warm - r.warm),
        0,
      ),
      [`${workload.name} order errors`]: reports.reduce((n, r) => n + r.disorder, 0),
      [`${workload.name} peak MiB`]: peakKiB / 1024,
      // CPU seconds spent by each side, to see which one the 2 cores ran out for.
      [`${workload.name} cpu server s`]: serverCpuMs / 1000,
      [`${workload.name} cpu pubs s`]: done.reduce((n, d) => n + d.cpuMs, 0) / 1000,
      [`${workload.name} cpu subs s`]: results.reduce((n, r) => n + r.cpuMs, 0) / 1000,
    };
    // The machine may be shared: CPU used meanwhile by processes that are not the bench's.
    metrics[`${workload.name} cpu other s`] = othersMs / 1000;
    metrics[`${workload.name} wall s`] = wallMs / 1000;
    if (workload.latency) {
      const latency = results[0]?.latency;
      metrics[`${workload.name} p50 µs`] = latency?.p50Us ?? NaN;
      metrics[`${workload.name} p99 µs`] = latency?.p99Us ?? NaN;
      metrics[`${workload.name} max µs`] = latency?.maxUs ?? NaN;
    } else {
      metrics[`${workload.name} rate`] = deliveryRate(reports);
      const sent = done.reduce((n, d) => n + d.sent, 0);
      const publishMs = Math.max(...done.map((d) => d.endMs)) -
        Math.min(...done.map((d) => d.startMs));
      metrics[`${workload.name} publish rate`] = sent / (publishMs / 1000);
    }
    return metrics;
  } catch (error) {
    throw new Error(`${(error as Error).message}\nserver output:\n${deployment.tail()}`);
  } finally {
    sampler?.cancel();
    await Promise.all(procs.map((p) => p.stop()));
  }
}

/** Deliveries per second over all connections, from the first delivery to the last. */
export function deliveryRate(reports: SubReport[]): number {
  const timed = reports.filter((r) => r.countAtLast > 0);
  if (timed.length === 0) return 0;
  const first = Math.min(...timed.map((r) => r.firstMs));
  const last = Math.max(...timed.map((r) => r.lastMs));
  const delivered = timed.reduce((n, r) => n + r.countAtLast, 0);
  return delivered / ((last - first) / 1000);
}

/**
 * Idle RSS of a fresh deployment, then M1: `n` idle subscriber connections, each on
 * its own subject, held by one separate process; KiB of server RSS per connection.
 */
export async function measureIdle(deployment: Deployment, n: number): Promise<Metrics> {
  await delay(SETTLE_MS);
  const before = await rssKiB(deployment.pids);
  const metrics: Metrics = { "idle MiB": before / 1024 };
  if (n === 0) return metrics;
  const holder = new RoleProcess({ role: "hold", target: deployment.subscribeTo, connections: n });
  try {
    await holder.next("ready", RUN_MS);
    await delay(SETTLE_MS);
    metrics["M1 KiB/sub"] = (await rssKiB(deployment.pids) - before) / n;
  } catch (error) {
    throw new Error(`${(error as Error).message}\nserver output:\n${deployment.tail()}`);
  } finally {
    await holder.stop();
  }
  return metrics;
}
