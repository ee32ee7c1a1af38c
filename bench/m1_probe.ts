// deno-lint-ignore-file no-console
/**
 * Breaks M1 down: an in-process es server (workers from argv) measures its own
 * RSS, JS heap and external memory before and after N idle subscribers.
 * Run: `deno run -A --unstable-net --v8-flags=--expose-gc bench/m1_probe.ts [n] [workers]`.
 */
import { startEventServer } from "../lib/server/event_server.ts";
import { connect } from "../lib/client/mod.ts";

if (Deno.args[0] === "--clients") {
  const url = Deno.args[1]!;
  const n = Number(Deno.args[2]);
  const clients = [];
  for (let i = 0; i < n; i += 200) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(200, n - i) }, () => connect({ esURI: url })),
    );
    await Promise.all(batch.map((c, j) => c.subscribe(`idle.${i + j}`)));
    clients.push(...batch);
  }
  console.log("READY");
  await new Promise(() => {});
} else {
  const n = Number(Deno.args[0] ?? 10_000);
  const workers = Number(Deno.args[1] ?? 1);
  const server = await startEventServer({ port: 0, workers });
  const gc = (globalThis as unknown as { gc?: () => void }).gc;
  const mem = () => {
    gc?.();
    return Deno.memoryUsage();
  };
  await new Promise((r) => setTimeout(r, 500));
  const before = mem();
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", import.meta.filename!, "--clients", server.uri, String(n)],
    stdout: "piped",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  while (!(await reader.read()).value?.includes("READY")) { /* wait */ }
  await new Promise((r) => setTimeout(r, 1000));
  const rawRss = Deno.memoryUsage().rss;
  const after = mem();
  if (Deno.env.get("SNAP")) (await import("node:v8")).writeHeapSnapshot(Deno.env.get("SNAP"));
  const per = (k: keyof Deno.MemoryUsage) => ((after[k] - before[k]) / 1024 / n).toFixed(2);
  console.log(
    `n=${n} workers=${workers}: KiB/conn rss(no gc)=${
      ((rawRss - before.rss) / 1024 / n).toFixed(2)
    } rss=${per("rss")} heapUsed=${per("heapUsed")} heapTotal=${per("heapTotal")} external=${
      per("external")
    } (empty rss ${(before.rss / 1048576).toFixed(1)} MiB)`,
  );
  child.kill();
  await server.close();
  Deno.exit(0);
}
