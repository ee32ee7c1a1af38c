/** Resident memory of a child process, for tests that bound what a server takes. */

/**
 * Samples the resident memory (VmRSS) of process `pid` every 20 ms until
 * stopped, with `sh` (Deno reads another process's /proc only under
 * --allow-all); `stop()` returns the highest, in MiB.
 */
export function sampleResident(pid: number): { first: Promise<number>; stop(): Promise<number> } {
  const child = new Deno.Command("sh", {
    args: ["-c", `while grep VmRSS /proc/${pid}/status; do sleep 0.02; done`],
    stdout: "piped",
    stderr: "null",
  }).spawn();
  let peak = 0;
  const first = Promise.withResolvers<number>();
  const reading = (async () => {
    for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) {
      for (const match of chunk.matchAll(/VmRSS:\s+(\d+)\s*kB/g)) {
        peak = Math.max(peak, Number(match[1]) / 1024);
        first.resolve(peak);
      }
    }
  })();
  return {
    first: first.promise,
    async stop() {
      await new Promise((r) => setTimeout(r, 100)); // a few samples more
      child.kill();
      await child.status;
      await reading;
      return peak;
    },
  };
}
