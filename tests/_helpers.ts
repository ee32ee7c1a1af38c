/**
 * Test helpers: an in-process server on port 0, the real `es` program as a
 * child process (read until its banner) in an environment without the user's
 * `ES_*` variables, and bounded waiting.
 */

import { delay } from "@std/async";
import { childEnv } from "./_env.ts";
import { type EventServer, startEventServer } from "../lib/server/event_server.ts";
import type { EventServerOptions } from "../lib/server/options.ts";

const ROOT = new URL("../", import.meta.url);

/** The permission flags of `deno task es`, so child processes run as users run them. */
export const ES_RUN_FLAGS = JSON.parse(await Deno.readTextFile(new URL("deno.json", ROOT))).tasks.es
  .split(" ").slice(2, -1) as string[];

/**
 * Starts an in-process event server on a free port, with no name server and no
 * HTTP unless asked, on one thread unless asked (tests look at its
 * connections and hooks; tests/dispatch_test.ts and the `es serve` tests cover
 * the default of one thread per CPU).
 */
export function startTestServer(options: EventServerOptions = {}): Promise<EventServer> {
  return startEventServer({ port: 0, httpPort: false, nameServer: "none", workers: 1, ...options });
}

/** The lines a running `es` printed so far, and ways to wait for more. */
export class EsProcess implements AsyncDisposable {
  readonly child: Deno.ChildProcess;
  readonly stdoutLines: string[] = [];
  stderr = "";
  /** How the process ended, once it has and its output is read to the end. */
  exit: Deno.CommandStatus | undefined;
  #waiters: (() => void)[] = [];
  #done: Promise<void>;

  /**
   * @param args Arguments of `es`.
   * @param options `runArgs` replaces the whole `deno run` command line (to run examples).
   */
  constructor(
    args: string[],
    options: {
      env?: Record<string, string>;
      stdin?: boolean;
      runArgs?: string[];
      /** Runs it under `ulimit -n` of this many file descriptors (through `sh`). */
      limitFiles?: number;
    } = {},
  ) {
    const run = [
      "run",
      ...(options.runArgs ?? [...ES_RUN_FLAGS, new URL("main.ts", ROOT).pathname, ...args]),
    ];
    const limited = options.limitFiles !== undefined;
    this.child = new Deno.Command(limited ? "sh" : Deno.execPath(), {
      args: limited
        ? ["-c", `ulimit -n ${options.limitFiles} && exec "$0" "$@"`, Deno.execPath(), ...run]
        : run,
      stdout: "piped",
      stderr: "piped",
      stdin: options.stdin ? "piped" : "null",
      clearEnv: true,
      env: childEnv(options.env),
    }).spawn();
    this.#done = Promise.all([
      this.#pump(this.child.stdout, true),
      this.#pump(this.child.stderr, false),
    ]).then(() => {});
    // Waiting for output stops at once when the process is gone.
    void Promise.all([this.child.status, this.#done]).then(([status]) => {
      this.exit = status;
      this.#wake();
    });
  }

  #wake(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w();
  }

  /** Resolves on new output, on exit, or after `ms` at most. */
  async #changed(ms: number): Promise<void> {
    const { promise, resolve } = Promise.withResolvers<void>();
    this.#waiters.push(resolve);
    const timer = setTimeout(resolve, ms);
    await promise;
    clearTimeout(timer);
  }

  /** The failure of a wait: why, and everything the process printed. */
  #failure(why: string): Error {
    return new Error(
      `${why}\nstdout:\n${this.stdoutLines.join("\n")}\nstderr:\n${this.stderr}`,
    );
  }

  #exitedEarly(what: string): Error {
    const { code, signal } = this.exit!;
    return this.#failure(
      `The process exited (${signal ? `signal ${signal}` : `code ${code}`}) before ${what}.`,
    );
  }

  async #pump(stream: ReadableStream<Uint8Array>, isStdout: boolean): Promise<void> {
    let rest = "";
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
      if (!isStdout) {
        this.stderr += chunk;
        continue;
      }
      const parts = (rest + chunk).split("\n");
      rest = parts.pop()!;
      this.stdoutLines.push(...parts);
      this.#wake();
    }
    if (rest) this.stdoutLines.push(rest);
    this.#wake();
  }

  /** Everything printed on stdout so far. */
  get stdout(): string {
    return this.stdoutLines.join("\n");
  }

  #writer: WritableStreamDefaultWriter<Uint8Array> | undefined;

  /** Writes one line to the child's stdin (made with `stdin: true`). */
  async write(line: string): Promise<void> {
    this.#writer ??= this.child.stdin.getWriter();
    await this.#writer.write(new TextEncoder().encode(line + "\n"));
  }

  /** Closes the child's stdin. */
  async endInput(): Promise<void> {
    this.#writer ??= this.child.stdin.getWriter();
    await this.#writer.close();
  }

  /**
   * Waits until stdout has a line that `test` accepts; returns it.
   *
   * @throws {Error} at once when the process exits without printing one, or
   * after `timeoutMs`; the message has the process's stdout and stderr.
   */
  async waitForLine(test: (line: string) => boolean, timeoutMs = 15_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    while (true) {
      const found = this.stdoutLines.find(test);
      if (found !== undefined) return found;
      if (this.exit) throw this.#exitedEarly("printing the awaited line");
      const left = deadline - Date.now();
      if (left <= 0) throw this.#failure("Timed out waiting for output.");
      await this.#changed(Math.min(left, 200));
    }
  }

  /**
   * Waits until stdout has `count` lines that `test` accepts.
   *
   * @throws {Error} at once when the process exits without printing them, or
   * after `timeoutMs`; the message has the process's stdout and stderr.
   */
  async waitForLines(
    count: number,
    test: (line: string) => boolean = () => true,
    timeoutMs = 15_000,
  ): Promise<string[]> {
    const deadline = Date.now() + timeoutMs;
    while (true) {
      const found = this.stdoutLines.filter(test);
      if (found.length >= count) return found;
      if (this.exit) throw this.#exitedEarly(`printing ${count} lines (got ${found.length})`);
      const left = deadline - Date.now();
      if (left <= 0) throw this.#failure(`Timed out: ${found.length} of ${count} lines.`);
      await this.#changed(Math.min(left, 200));
    }
  }

  /** Waits for the process to exit; returns its status. */
  async status(timeoutMs = 15_000): Promise<Deno.CommandStatus> {
    const timer = setTimeout(() => this.kill("SIGKILL"), timeoutMs);
    try {
      const status = await this.child.status;
      await this.#done;
      return status;
    } finally {
      clearTimeout(timer);
    }
  }

  kill(signal: Deno.Signal = "SIGTERM"): void {
    try {
      this.child.kill(signal);
    } catch {
      // Already exited.
    }
  }

  /** Stops the process (SIGTERM) and waits for it. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.#writer?.close().catch(() => {}); // The child may be gone.
    this.kill("SIGTERM");
    await this.status();
  }
}

/**
 * Runs an example program as its own comment says: the flags of its first
 * `deno run FLAGS PATH` line (e.g. `deno run --allow-net examples/x/main.ts`),
 * then ARGS.
 *
 * @throws {Error} when the example has no such line.
 */
export function runExample(path: string, args: string[] = [], stdin = false): EsProcess {
  return new EsProcess([], {
    stdin,
    runArgs: [...exampleRunFlags(path), new URL(path, ROOT).pathname, ...args],
  });
}

/** The permission flags an example's comment gives for running it. */
export function exampleRunFlags(path: string): string[] {
  const source = Deno.readTextFileSync(new URL(path, ROOT));
  const escaped = path.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const line = source.match(new RegExp(`deno run ((?:--\\S+ )*)${escaped}`));
  if (line === null) throw new Error(`${path} has no "deno run FLAGS ${path}" line`);
  return line[1]!.split(" ").filter((flag) => flag !== "");
}

/** A running `es serve` with the URIs from its banner. */
export interface ServeProcess extends EsProcess {
  uri: string;
  nsURI: string | undefined;
  httpURL: string | undefined;
}

/** Starts `es serve` on free ports and waits for "Event Server started.". */
export async function spawnServe(
  args: string[] = [],
  env?: Record<string, string>,
  options: { limitFiles?: number } = {},
): Promise<ServeProcess> {
  const child = new EsProcess(["serve", "-p", "0", ...args], {
    ...(env ? { env } : {}),
    ...options,
  });
  try {
    await child.waitForLine((l) => l === "Event Server started.");
  } catch (error) {
    await child[Symbol.asyncDispose]();
    throw error;
  }
  const value = (prefix: string) =>
    child.stdoutLines.find((l) => l.startsWith(prefix))?.slice(prefix.length).trim();
  return Object.assign(child, {
    uri: value("URI=")!,
    nsURI: value("NS="),
    httpURL: value("HTTP="),
  });
}

/** Runs `es ARGS` to completion and returns its output. */
export async function runEs(
  args: string[],
  options: { stdin?: string; env?: Record<string, string>; timeoutMs?: number } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const child = new EsProcess(args, {
    stdin: options.stdin !== undefined,
    ...(options.env ? { env: options.env } : {}),
  });
  if (options.stdin !== undefined) {
    const writer = child.child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(options.stdin));
    await writer.close();
  }
  const status = await child.status(options.timeoutMs);
  return { code: status.code, stdout: child.stdoutLines.join("\n"), stderr: child.stderr };
}

/** Polls `condition` every few milliseconds until it holds or the time is up. */
export async function waitUntil(
  condition: () => boolean | Promise<boolean>,
  timeoutMs = 10_000,
  what = "condition",
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await delay(10);
  }
}

/** Resolves after `ms` milliseconds (std's, also abortable by a signal). */
export { delay };
