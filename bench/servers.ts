/**
 * Starts the servers under test as child processes on loopback, each on an
 * ephemeral port, and reads the real port from what each prints when ready:
 * `es serve` (with the runtime flags of deno.json's "start" task), nats-server,
 * redis-server (persistence off) and the relay.
 */

import type { Target } from "./protocol.ts";

const ROOT = new URL("../", import.meta.url);
const READY_TIMEOUT_MS = 30_000;
const STOP_GRACE_MS = 5000;
const TAIL_BYTES = 8192;

/** One server process that the bench started. */
export interface ServerProcess {
  pid: number;
  /** Where clients connect. */
  target: Target;
  /** The server's own words about its version. */
  version: string;
  /** The last output it printed (for errors). */
  tail(): string;
  stop(): Promise<void>;
}

/**
 * The Deno flags `deno task start` runs main.ts with, read from deno.json so the
 * bench measures what users start (`deno run FLAGS main.ts serve`).
 */
export async function startTaskFlags(): Promise<string[]> {
  const config = JSON.parse(await Deno.readTextFile(new URL("deno.json", ROOT)));
  const task = config.tasks?.start;
  const line: string = typeof task === "string" ? task : task?.command;
  const words = (line ?? "").trim().split(/\s+/);
  const main = words.indexOf("main.ts");
  if (words[0] !== "deno" || words[1] !== "run" || main < 0 || words[main + 1] !== "serve") {
    throw new Error(`deno.json "start" is not "deno run FLAGS main.ts serve": ${line}`);
  }
  return words.slice(2, main);
}

/** Whether an executable is on the PATH. */
export async function installed(command: string): Promise<boolean> {
  try {
    return (await new Deno.Command(command, { args: ["--version"] }).output()).success;
  } catch {
    return false;
  }
}

/** Spawns `command` and waits until its `ready` output matches `pattern`. */
async function launch(
  command: string,
  args: string[],
  ready: "stdout" | "stderr",
  pattern: RegExp,
): Promise<{ child: Deno.ChildProcess; match: RegExpMatchArray; tail: () => string }> {
  const child = new Deno.Command(command, {
    args,
    cwd: ROOT.pathname,
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).spawn();
  let seen = "";
  /** The ready stream's output until it matched (then no longer kept). */
  let watched: string | undefined = "";
  const { promise: matched, resolve, reject } = Promise.withResolvers<RegExpMatchArray>();
  // Both streams are drained for the child's whole life, so it never blocks on a full pipe.
  const drain = async (stream: ReadableStream<Uint8Array>, watch: boolean) => {
    for await (const text of stream.pipeThrough(new TextDecoderStream())) {
      seen = (seen + text).slice(-TAIL_BYTES);
      if (!watch || watched === undefined) continue;
      watched += text;
      const m = watched.match(pattern);
      if (m) {
        watched = undefined;
        resolve(m);
      }
    }
  };
  void Promise.allSettled([
    drain(child.stdout, ready === "stdout"),
    drain(child.stderr, ready === "stderr"),
  ]).then(() => reject(new Error(`${command} exited before it was ready:\n${seen}`)));
  const timer = setTimeout(
    () => reject(new Error(`${command} not ready in ${READY_TIMEOUT_MS} ms:\n${seen}`)),
    READY_TIMEOUT_MS,
  );
  try {
    const match = await matched;
    return { child, match, tail: () => seen.slice(-TAIL_BYTES) };
  } catch (error) {
    try {
      child.kill("SIGKILL");
    } catch { /* gone */ }
    throw error;
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
    }, STOP_GRACE_MS);
    await child.status;
    clearTimeout(timer);
  };
}

/**
 * Starts `es serve` with the "start" task's flags plus `serveArgs`, then saves the
 * client it serves at /client.js to `tempDir`: role processes import that file.
 * BENCH_ES_FLAGS adds Deno flags, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof".
 */
export async function startEs(serveArgs: string[], tempDir: string): Promise<ServerProcess> {
  const extra = (Deno.env.get("BENCH_ES_FLAGS") ?? "").split(" ").filter((f) => f);
  const args = [
    "run",
    ...await startTaskFlags(),
    ...extra,
    "main.ts",
    "serve",
    "--port",
    "0",
    "--http-port",
    "0",
    "--ns-port",
    "0",
    ...serveArgs,
  ];
  // Deno itself is the child (no `deno task` shell in between), so its pid is the server's.
  const { child, match, tail } = await launch(
    Deno.execPath(),
    args,
    "stdout",
    /^(.*)\n[\s\S]*URI= (es:\/\/\S+)[\s\S]*HTTP= (http:\/\/\S+)[\s\S]*Event Server started\./,
  );
  const stop = stopper(child);
  try {
    const response = await fetch(new URL("client.js", match[3]!));
    if (!response.ok) throw new Error(`GET /client.js: ${response.status}`);
    const file = `${tempDir}/es-client-${child.pid}.js`;
    await Deno.writeTextFile(file, await response.text());
    return {
      pid: child.pid,
      target: { kind: "es", url: match[2]!, clientModule: `file://${file}` },
      version: `${match[1]!.trim()} on deno ${Deno.version.deno}`,
      tail,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** Starts nats-server on a random loopback port (`-p -1`); no JetStream, so nothing persists. */
export async function startNats(): Promise<ServerProcess> {
  const { child, match, tail } = await launch(
    "nats-server",
    ["-a", "127.0.0.1", "-p", "-1"],
    "stderr",
    /Version:\s+(\S+)[\s\S]*client connections on (\S+:\d+)[\s\S]*Server is ready/,
  );
  return {
    pid: child.pid,
    target: { kind: "nats", url: `nats://${match[2]}` },
    version: `nats-server ${match[1]}`,
    tail,
    stop: stopper(child),
  };
}

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = listener.addr.port;
  listener.close();
  return port;
}

/**
 * Starts redis-server on a free loopback port with persistence off. The pub/sub
 * output-buffer limit is lifted: with it a subscriber that falls behind is cut
 * off, whereas es (blocking by default) and the relay slow the publisher instead.
 */
export async function startRedis(): Promise<ServerProcess> {
  const port = freePort();
  const { child, match, tail } = await launch(
    "redis-server",
    [
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
    "stdout",
    /Redis version=([\d.]+)[\s\S]*Ready to accept connections/,
  );
  return {
    pid: child.pid,
    target: { kind: "redis", url: `redis://127.0.0.1:${port}` },
    version: `redis-server ${match[1]}`,
    tail,
    stop: stopper(child),
  };
}

/** Starts the bare Deno relay (bench/relay.ts). */
export async function startRelay(): Promise<ServerProcess> {
  const { child, match, tail } = await launch(
    Deno.execPath(),
    [
      "run",
      "--allow-net",
      new URL("relay.ts", import.meta.url).pathname,
    ],
    "stdout",
    /RELAY= (relay:\/\/\S+)/,
  );
  return {
    pid: child.pid,
    target: { kind: "relay", url: match[1]! },
    version: `bench/relay.ts on deno ${Deno.version.deno}`,
    tail,
    stop: stopper(child),
  };
}
