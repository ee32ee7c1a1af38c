/**
 * Starts the systems under test as child processes on loopback ephemeral
 * ports: es (the real `main.ts serve`), nats-server, redis-server and the relay.
 */

const ROOT = new URL("../", import.meta.url);
const ES_FLAGS =
  (JSON.parse(await Deno.readTextFile(new URL("deno.json", ROOT))).tasks.es as string)
    .split(" ").slice(2, -1);

/** A running server process. */
export interface ServerProcess {
  name: string;
  /** Where clients connect: es://, nats://, redis:// or relay://host:port. */
  url: string;
  pid: number;
  version: string;
  stop(): Promise<void>;
}

/** Whether an executable is on the PATH. */
export async function installed(command: string): Promise<boolean> {
  try {
    const out = await new Deno.Command("sh", { args: ["-c", `command -v ${command}`] }).output();
    return out.success;
  } catch {
    return false;
  }
}

function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

/** Reads a child's output until `pattern` matches; returns the match. */
async function waitFor(
  stream: ReadableStream<Uint8Array>,
  pattern: RegExp,
  what: string,
): Promise<RegExpMatchArray> {
  const reader = stream.pipeThrough(new TextDecoderStream()).getReader();
  let seen = "";
  const timer = setTimeout(() => reader.cancel(), 20_000);
  try {
    while (true) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`${what} exited before it was ready; output:\n${seen}`);
      seen += value;
      const m = seen.match(pattern);
      if (m) {
        // Keep draining so the child never blocks on a full pipe.
        void (async () => {
          try {
            while (!(await reader.read()).done) { /* discard */ }
          } catch { /* cancelled */ }
        })();
        return m;
      }
    }
  } finally {
    clearTimeout(timer);
  }
}

function stopper(child: Deno.ChildProcess): () => Promise<void> {
  return async () => {
    try {
      child.kill("SIGTERM");
    } catch { /* gone */ }
    const timer = setTimeout(() => {
      try {
        child.kill("SIGKILL");
      } catch { /* gone */ }
    }, 5000);
    await child.status;
    clearTimeout(timer);
  };
}

/** Starts `es serve` with `workers` dispatch workers. */
export async function startEs(workers: number | undefined): Promise<ServerProcess> {
  // BENCH_ES_FLAGS adds Deno flags, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof" to profile es.
  const extra = (Deno.env.get("BENCH_ES_FLAGS") ?? "").split(" ").filter((f) => f);
  const args = [
    "run",
    ...ES_FLAGS,
    ...extra,
    new URL("main.ts", ROOT).pathname,
    "serve",
    "-p",
    "0",
    "-N",
  ];
  args.push("--no-http");
  if (workers !== undefined) args.push("--workers", String(workers));
  const child = new Deno.Command(Deno.execPath(), {
    args,
    stdout: "piped",
    stderr: "null",
    env: { NO_COLOR: "1" },
  }).spawn();
  const m = await waitFor(child.stdout, /URI= (es:\/\/\S+)[\s\S]*workers=(\d+)/, "es");
  return {
    name: `es w${m[2]}`,
    url: m[1]!,
    pid: child.pid,
    version: `deno ${Deno.version.deno}`,
    stop: stopper(child),
  };
}

/** Starts nats-server on a free loopback port. */
export async function startNats(): Promise<ServerProcess> {
  const port = freePort();
  const version = new TextDecoder().decode(
    (await new Deno.Command("nats-server", { args: ["--version"] }).output()).stdout,
  ).trim();
  const child = new Deno.Command("nats-server", {
    args: ["-a", "127.0.0.1", "-p", String(port)],
    stdout: "null",
    stderr: "piped",
  }).spawn();
  await waitFor(child.stderr, /Server is ready/, "nats-server");
  return {
    name: "NATS",
    url: `nats://127.0.0.1:${port}`,
    pid: child.pid,
    version,
    stop: stopper(child),
  };
}

/** Starts redis-server on a free loopback port, without persistence or pub/sub buffer limits. */
export async function startRedis(): Promise<ServerProcess> {
  const port = freePort();
  const version = new TextDecoder().decode(
    (await new Deno.Command("redis-server", { args: ["--version"] }).output()).stdout,
  ).trim().split(" ").slice(0, 3).join(" ");
  const child = new Deno.Command("redis-server", {
    args: [
      "--bind",
      "127.0.0.1",
      "--port",
      String(port),
      "--save",
      "",
      "--appendonly",
      "no",
      "--client-output-buffer-limit",
      "pubsub 0 0 0",
      "--maxclients",
      "15000",
    ],
    stdout: "piped",
    stderr: "null",
  }).spawn();
  await waitFor(child.stdout, /Ready to accept connections/, "redis-server");
  return {
    name: "Redis",
    url: `redis://127.0.0.1:${port}`,
    pid: child.pid,
    version,
    stop: stopper(child),
  };
}

/** Starts the byte relay (bench/relay.ts). */
export async function startRelay(): Promise<ServerProcess> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-net", new URL("relay.ts", import.meta.url).pathname],
    stdout: "piped",
    stderr: "null",
  }).spawn();
  const m = await waitFor(child.stdout, /RELAY= (\d+)/, "relay");
  return {
    name: "relay",
    url: `relay://127.0.0.1:${m[1]}`,
    pid: child.pid,
    version: `deno ${Deno.version.deno}`,
    stop: stopper(child),
  };
}

/** Resident memory of a process in KiB (Linux). */
export async function rssKiB(pid: number): Promise<number> {
  const status = await Deno.readTextFile(`/proc/${pid}/status`);
  const m = status.match(/VmRSS:\s+(\d+) kB/);
  return m ? Number(m[1]) : NaN;
}
