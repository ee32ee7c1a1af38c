/**
 * Server memory and CPU time from /proc (Linux). Memory: resident set now, and the peak over a
 * stretch of time. The peak comes from two sources, whichever is higher: the
 * kernel's high-water mark (VmHWM, reset at the start through clear_refs) and
 * VmRSS sampled on a short timer (for when the reset is not allowed).
 */

const SAMPLE_MS = 25;

/** VmRSS and VmHWM of a process in KiB. */
export async function memoryKiB(pid: number): Promise<{ rss: number; hwm: number }> {
  const status = await Deno.readTextFile(`/proc/${pid}/status`);
  const field = (name: string) => Number(status.match(new RegExp(`${name}:\\s+(\\d+) kB`))?.[1]);
  return { rss: field("VmRSS"), hwm: field("VmHWM") };
}

/** Summed VmRSS of the processes in KiB. */
export async function rssKiB(pids: number[]): Promise<number> {
  let total = 0;
  for (const pid of pids) total += (await memoryKiB(pid)).rss;
  return total;
}

/** Resets a process's VmHWM to its current RSS; false where that is not allowed. */
async function resetPeak(pid: number): Promise<boolean> {
  try {
    await Deno.writeTextFile(`/proc/${pid}/clear_refs`, "5");
    return true;
  } catch {
    return false;
  }
}

/** Tracks the peak summed RSS of some processes from `start()` to `stop()`. */
export class PeakSampler {
  readonly #pids: number[];
  #peak = 0;
  #reset = false;
  #timer: ReturnType<typeof setInterval> | undefined;

  constructor(pids: number[]) {
    this.#pids = pids;
  }

  async start(): Promise<void> {
    const resets = await Promise.all(this.#pids.map(resetPeak));
    this.#reset = resets.every((ok) => ok);
    this.#peak = await rssKiB(this.#pids);
    this.#timer = setInterval(() => {
      rssKiB(this.#pids).then((kib) => this.#peak = Math.max(this.#peak, kib), () => {});
    }, SAMPLE_MS);
  }

  /** Stops sampling without a result (idempotent). */
  cancel(): void {
    clearInterval(this.#timer);
  }

  /** The peak in KiB. With several processes the kernel's marks are summed (an upper bound). */
  async stop(): Promise<number> {
    this.cancel();
    let peak = Math.max(this.#peak, await rssKiB(this.#pids));
    if (this.#reset) {
      let hwm = 0;
      for (const pid of this.#pids) hwm += (await memoryKiB(pid)).hwm;
      peak = Math.max(peak, hwm);
    }
    return peak;
  }
}

/** Kernel clock ticks per second, the unit of CPU times in /proc/PID/stat. */
const TICKS_PER_SEC = await (async () => {
  try {
    const out = await new Deno.Command("getconf", { args: ["CLK_TCK"] }).output();
    return Number(new TextDecoder().decode(out.stdout)) || 100;
  } catch {
    return 100;
  }
})();

/** CPU time (user + system) the processes have used, summed, in milliseconds. */
export async function cpuMsOf(pids: (number | "self")[]): Promise<number> {
  let ticks = 0;
  for (const pid of pids) {
    const stat = await Deno.readTextFile(`/proc/${pid}/stat`);
    // Fields after the parenthesised command name; utime and stime are the 14th and 15th.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    ticks += Number(fields[11]) + Number(fields[12]);
  }
  return ticks / TICKS_PER_SEC * 1000;
}

/** CPU time per process outside this process's tree, by "pid@start" (pids get reused). */
export type ForeignCpu = Map<string, number>;

/** Reads the CPU time of every process that is not this one or descended from it. */
export async function foreignCpu(): Promise<ForeignCpu> {
  const procs: { pid: number; ppid: number; key: string; ms: number }[] = [];
  for await (const entry of Deno.readDir("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    try {
      const stat = await Deno.readTextFile(`/proc/${entry.name}/stat`);
      const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      procs.push({
        pid: Number(entry.name),
        ppid: Number(f[1]),
        key: `${entry.name}@${f[19]}`,
        ms: (Number(f[11]) + Number(f[12])) / TICKS_PER_SEC * 1000,
      });
    } catch {
      // It exited meanwhile.
    }
  }
  const ours = new Set([Deno.pid]);
  for (let grew = true; grew;) {
    grew = false;
    for (const p of procs) {
      if (!ours.has(p.pid) && ours.has(p.ppid)) [grew] = [true, ours.add(p.pid)];
    }
  }
  return new Map(procs.filter((p) => !ours.has(p.pid)).map((p) => [p.key, p.ms]));
}

/** CPU milliseconds other processes used between two readings (new ones count in full). */
export function foreignCpuMs(before: ForeignCpu, after: ForeignCpu): number {
  let ms = 0;
  for (const [key, total] of after) ms += total - (before.get(key) ?? 0);
  return ms;
}

/**
 * Waits until the machine is quiet: other processes using less than `maxBusy` of one
 * core over a second. Returns the share last seen (what it gave up on after `timeoutMs`).
 */
export async function waitForQuiet(maxBusy = 0.1, timeoutMs = 60_000): Promise<number> {
  const deadline = performance.now() + timeoutMs;
  while (true) {
    const before = await foreignCpu();
    await new Promise((r) => setTimeout(r, 1000));
    const busy = foreignCpuMs(before, await foreignCpu()) / 1000;
    if (busy < maxBusy || performance.now() > deadline) return busy;
  }
}
