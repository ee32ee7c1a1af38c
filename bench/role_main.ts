/**
 * Entry point of a role process: `deno run -A bench/role_main.ts '<RoleSpec JSON>'`.
 * Publishers, subscribers and idle holders each run in a process of their own,
 * so no client's loop can starve another's. Messages go out as JSON lines on
 * stdout; commands ("go", "end", "exit") come in as lines on stdin.
 */

import { type BenchConnection, open } from "./clients.ts";
import type { HoldRole, PubRole, RoleCommand, RoleMessage, RoleSpec, SubRole } from "./protocol.ts";
import { nowMs } from "./protocol.ts";
import { cpuMsOf } from "./proc.ts";
import { pacedLoop, publishLoop } from "./publish_loop.ts";
import { Sink } from "./sink.ts";

/** After "end", a subscriber that has seen nothing new for this long reports what it has. */
const IDLE_MS = 2000;
/** Connections opened at once by a role with many of them. */
const OPEN_BATCH = 200;

const encoder = new TextEncoder();

/** CPU time this process has used, in milliseconds. */
const cpuMs = () => cpuMsOf(["self"]);

function say(message: RoleMessage): void {
  Deno.stdout.writeSync(encoder.encode(JSON.stringify(message) + "\n"));
}

/** Yields each command line read on stdin. */
async function* commands(): AsyncGenerator<RoleCommand> {
  let rest = "";
  for await (const chunk of Deno.stdin.readable.pipeThrough(new TextDecoderStream())) {
    const lines = (rest + chunk).split("\n");
    rest = lines.pop()!;
    for (const line of lines) if (line.trim()) yield line.trim() as RoleCommand;
  }
}

async function waitFor(input: AsyncGenerator<RoleCommand>, wanted: RoleCommand): Promise<void> {
  for (let r = await input.next(); !r.done; r = await input.next()) {
    if (r.value === wanted) return;
  }
  throw new Error(`stdin closed before "${wanted}"`);
}

async function openMany(spec: RoleSpec, count: number): Promise<BenchConnection[]> {
  const out: BenchConnection[] = [];
  for (let i = 0; i < count; i += OPEN_BATCH) {
    const n = Math.min(OPEN_BATCH, count - i);
    out.push(...await Promise.all(Array.from({ length: n }, () => open(spec.target))));
  }
  return out;
}

async function closeAll(conns: BenchConnection[]): Promise<void> {
  for (let i = 0; i < conns.length; i += OPEN_BATCH) {
    await Promise.allSettled(conns.slice(i, i + OPEN_BATCH).map((c) => c.close()));
  }
}

async function subscriber(spec: SubRole, input: AsyncGenerator<RoleCommand>): Promise<void> {
  const { promise: allComplete, resolve } = Promise.withResolvers<void>();
  let complete = 0;
  const sinks = Array.from(
    { length: spec.connections },
    () => new Sink(spec.expected, spec.latency, () => ++complete === spec.connections && resolve()),
  );
  const conns = await openMany(spec, spec.connections);
  for (const [i, conn] of conns.entries()) {
    if (spec.pattern) await conn.subscribePattern(spec.pattern, sinks[i]!.on);
    else await conn.subscribe(spec.subjects ?? [], sinks[i]!.on);
  }
  say({ type: "ready" });
  const cpuAtReady = await cpuMs();
  // Report when every connection has its events, or when the publishers are done and
  // nothing has arrived for a while (the rest is lost).
  const idle = (async () => {
    await waitFor(input, "end");
    const total = () => sinks.reduce((n, s) => n + s.count + s.warm, 0);
    let seen = total();
    let since = performance.now();
    while (performance.now() - since < IDLE_MS) {
      await new Promise((r) => setTimeout(r, 20));
      if (total() !== seen) [seen, since] = [total(), performance.now()];
    }
  })();
  // Once every event is in, "end" may never come (stdin closes): that is no error.
  idle.catch(() => {});
  await Promise.race([allComplete, idle]);
  const latency = sinks[0]?.latency();
  say({
    type: "result",
    connections: sinks.map((s) => s.report()),
    ...(latency ? { latency } : {}),
    cpuMs: await cpuMs() - cpuAtReady,
  });
  await closeAll(conns);
}

async function publisher(spec: PubRole, input: AsyncGenerator<RoleCommand>): Promise<void> {
  const conns = await openMany(spec, spec.connections);
  say({ type: "ready" });
  await waitFor(input, "go");
  const startMs = nowMs();
  const cpuAtGo = await cpuMs();
  await Promise.all(conns.map((conn, i) => {
    const id = spec.firstPublisherId + i;
    return spec.ratePerSec
      ? pacedLoop(conn, spec.subjects[0]!, spec.warm, spec.count, id, spec.ratePerSec)
      : publishLoop(conn, spec.subjects, spec.warm, spec.count, id);
  }));
  const endMs = nowMs();
  const sent = (spec.warm + spec.count) * spec.connections;
  say({ type: "done", sent, startMs, endMs, cpuMs: await cpuMs() - cpuAtGo });
  await closeAll(conns);
}

async function holder(spec: HoldRole, input: AsyncGenerator<RoleCommand>): Promise<void> {
  const conns = await openMany(spec, spec.connections);
  for (let i = 0; i < conns.length; i += OPEN_BATCH) {
    await Promise.all(
      conns.slice(i, i + OPEN_BATCH).map((c, j) => c.subscribe([`idle.${i + j}`], () => {})),
    );
  }
  say({ type: "ready" });
  await waitFor(input, "exit");
  await closeAll(conns);
}

const spec = JSON.parse(Deno.args[0] ?? "null") as RoleSpec;
const input = commands();
try {
  switch (spec.role) {
    case "sub":
      await subscriber(spec, input);
      break;
    case "pub":
      await publisher(spec, input);
      break;
    case "hold":
      await holder(spec, input);
      break;
  }
  Deno.exit(0);
} catch (error) {
  say({
    type: "error",
    message: error instanceof Error ? error.stack ?? error.message : `${error}`,
  });
  Deno.exit(1);
}
