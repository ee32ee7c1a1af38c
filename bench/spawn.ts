/**
 * The coordinator's handle on one role process: spawns bench/role_main.ts,
 * reads its JSON lines, writes its commands, and makes sure it ends.
 */

import type { RoleCommand, RoleMessage, RoleSpec } from "./protocol.ts";

const ROLE_MAIN = new URL("role_main.ts", import.meta.url).pathname;

/** A running role process. */
export class RoleProcess implements AsyncDisposable {
  readonly spec: RoleSpec;
  readonly #child: Deno.ChildProcess;
  readonly #messages: RoleMessage[] = [];
  #wake: (() => void) | undefined;
  #closed = false;
  readonly #stdin: WritableStreamDefaultWriter<Uint8Array>;
  readonly #encoder = new TextEncoder();

  constructor(spec: RoleSpec) {
    this.spec = spec;
    this.#child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", ROLE_MAIN, JSON.stringify(spec)],
      stdin: "piped",
      stdout: "piped",
      stderr: "inherit",
      env: { NO_COLOR: "1" },
    }).spawn();
    this.#stdin = this.#child.stdin.getWriter();
    void this.#read();
  }

  async #read(): Promise<void> {
    let rest = "";
    try {
      for await (const chunk of this.#child.stdout.pipeThrough(new TextDecoderStream())) {
        const lines = (rest + chunk).split("\n");
        rest = lines.pop()!;
        for (const line of lines) {
          if (!line.startsWith("{")) continue;
          this.#messages.push(JSON.parse(line) as RoleMessage);
          this.#wake?.();
        }
      }
    } finally {
      this.#closed = true;
      this.#wake?.();
    }
  }

  /** Waits for the next message of `type`; an "error" message or an early exit throws. */
  async next<T extends RoleMessage["type"]>(
    type: T,
    timeoutMs: number,
  ): Promise<Extract<RoleMessage, { type: T }>> {
    const deadline = performance.now() + timeoutMs;
    while (true) {
      const i = this.#messages.findIndex((m) => m.type === type || m.type === "error");
      if (i >= 0) {
        const [message] = this.#messages.splice(i, 1);
        if (message!.type === "error") throw new Error(`${this.spec.role}: ${message!.message}`);
        return message as Extract<RoleMessage, { type: T }>;
      }
      if (this.#closed) throw new Error(`${this.spec.role} process exited before "${type}"`);
      const left = deadline - performance.now();
      if (left <= 0) throw new Error(`${this.spec.role} process: no "${type}" in ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.#wake = undefined;
    }
  }

  /** Sends a command; a process that already left is not an error. */
  async send(command: RoleCommand): Promise<void> {
    try {
      await this.#stdin.write(this.#encoder.encode(command + "\n"));
    } catch {
      // It exited after its report.
    }
  }

  /** Waits for the process to leave by itself, then kills it. */
  async stop(graceMs = 10_000): Promise<void> {
    await this.send("exit");
    try {
      await this.#stdin.close();
    } catch {
      // Already closed.
    }
    const timer = setTimeout(() => {
      try {
        this.#child.kill("SIGKILL");
      } catch {
        // Gone.
      }
    }, graceMs);
    await this.#child.status;
    clearTimeout(timer);
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.stop();
  }
}
