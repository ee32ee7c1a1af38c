// deno-lint-ignore-file no-console
/**
 * Test helper: a real nats-server (Debian's) on a free loopback port, for the
 * cluster tests. `natsServerPath` is undefined where it is not installed;
 * the tests then skip, saying why.
 */

/** The nats-server binary, if installed. */
export const natsServerPath: string | undefined = ["/usr/sbin/nats-server", "/usr/bin/nats-server"]
  .find((path) => {
    try {
      return Deno.statSync(path).isFile;
    } catch {
      return false;
    }
  });

if (natsServerPath === undefined) {
  console.warn(
    "cluster tests skipped: nats-server is not installed (.ci/install-deps installs it)",
  );
}

/** A free TCP port on loopback (closed again: nats-server binds it next). */
function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = listener.addr.port;
  listener.close();
  return port;
}

/** A running nats-server; `restart()` stops it and starts it again on the same port. */
export class NatsServer implements AsyncDisposable {
  readonly port: number;
  readonly url: string;
  #child: Deno.ChildProcess | undefined;

  private constructor(port: number) {
    this.port = port;
    this.url = `nats://127.0.0.1:${port}`;
  }

  /** Starts one and waits until it accepts connections. */
  static async start(): Promise<NatsServer> {
    const server = new NatsServer(freePort());
    await server.#spawn();
    return server;
  }

  async #spawn(): Promise<void> {
    this.#child = new Deno.Command(natsServerPath!, {
      args: ["-a", "127.0.0.1", "-p", String(this.port)],
      stdout: "null",
      stderr: "null",
      clearEnv: true,
    }).spawn();
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      try {
        (await Deno.connect({ hostname: "127.0.0.1", port: this.port })).close();
        return;
      } catch {
        await new Promise((r) => setTimeout(r, 20));
      }
    }
    throw new Error(`nats-server did not start on port ${this.port}`);
  }

  /** Stops it (SIGKILL: as a crash would). */
  async stop(): Promise<void> {
    const child = this.#child;
    this.#child = undefined;
    if (!child) return;
    try {
      child.kill("SIGKILL");
    } catch { /* already gone */ }
    await child.status;
  }

  /** Stops it and starts it again on the same port. */
  async restart(): Promise<void> {
    await this.stop();
    await this.#spawn();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}
