import { assert, assertEquals, assertMatch } from "./_assert.ts";
import { startTestServer, waitUntil } from "./_helpers.ts";

const ROOT = new URL("../", import.meta.url);

/** A running example program, with its output gathered. */
class Example implements AsyncDisposable {
  readonly child: Deno.ChildProcess;
  stdout = "";
  stderr = "";
  #writer: WritableStreamDefaultWriter<Uint8Array> | undefined;
  #done: Promise<unknown>;

  constructor(path: string, args: string[] = [], stdin = false) {
    this.child = new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-net", "--allow-env", new URL(path, ROOT).pathname, ...args],
      stdin: stdin ? "piped" : "null",
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1" },
    }).spawn();
    if (stdin) this.#writer = this.child.stdin.getWriter();
    const pump = async (stream: ReadableStream<Uint8Array>, key: "stdout" | "stderr") => {
      for await (const chunk of stream.pipeThrough(new TextDecoderStream())) this[key] += chunk;
    };
    this.#done = Promise.all([
      pump(this.child.stdout, "stdout"),
      pump(this.child.stderr, "stderr"),
    ]);
  }

  async write(line: string): Promise<void> {
    await this.#writer!.write(new TextEncoder().encode(line + "\n"));
  }

  async endInput(): Promise<void> {
    await this.#writer?.close();
    this.#writer = undefined;
  }

  async status(timeoutMs = 20_000): Promise<Deno.CommandStatus> {
    const timer = setTimeout(() => this.child.kill("SIGKILL"), timeoutMs);
    try {
      const status = await this.child.status;
      await this.#done;
      return status;
    } finally {
      clearTimeout(timer);
    }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    try {
      await this.#writer?.close();
    } catch { /* the child is gone */ }
    try {
      this.child.kill("SIGTERM");
    } catch { /* already exited */ }
    await this.status();
  }
}

Deno.test("examples/allinone runs to completion by itself", async () => {
  await using example = new Example("examples/allinone/main.ts");
  const status = await example.status();
  assertEquals(status.code, 0, example.stderr);
  assertMatch(example.stdout, /^Name server ns:\/\/127\.0\.0\.1:\d+, event server es:\/\//);
  assertEquals(example.stdout.match(/^weather\.\w+: \w+ is \d+ °C$/gm)?.length, 5);
  assertMatch(example.stdout, /Received 5 readings\. Done\./);
});

Deno.test("examples/chatbox: two people chat on one channel", async () => {
  await using server = await startTestServer();
  const args = ["--es", server.uri, "--channel", "test"];
  await using alice = new Example("examples/chatbox/main.ts", [...args, "--nick", "alice"], true);
  await waitUntil(() => alice.stdout.includes("Joined"), 20_000, "alice to join");
  await using bob = new Example("examples/chatbox/main.ts", [...args, "--nick", "bob"], true);
  await waitUntil(() => bob.stdout.includes("Joined ChatBox.Channel.test as bob"), 20_000, "bob");
  await waitUntil(() => alice.stdout.includes("[bob] (joined)"), 10_000, "alice to see bob");
  await alice.write("hello bob");
  await waitUntil(() => bob.stdout.includes("[alice] hello bob"), 10_000, "bob to see alice");
  await bob.write("hi alice");
  await waitUntil(() => alice.stdout.includes("[bob] hi alice"), 10_000, "alice to see bob's line");
  assert(!alice.stdout.includes("[alice]"), "no echo of one's own lines");
  await bob.endInput();
  assertEquals((await bob.status()).code, 0, bob.stderr);
  await waitUntil(() => alice.stdout.includes("[bob] (left)"), 10_000, "alice to see bob leave");
  await alice.endInput();
  assertEquals((await alice.status()).code, 0, alice.stderr);
});

Deno.test("examples/stockquotes_no_ns: the viewer prints the market's matching quotes", async () => {
  await using server = await startTestServer();
  await using viewer = new Example("examples/stockquotes_no_ns/viewer.ts", [
    server.uri,
    "^STOCKQUOTE\\.S",
    "3",
  ]);
  await waitUntil(() => viewer.stdout.includes("Watching"), 20_000, "the viewer to subscribe");
  await using market = new Example("examples/stockquotes_no_ns/market.ts", [server.uri]);
  assertEquals((await viewer.status()).code, 0, viewer.stderr);
  const quotes = viewer.stdout.split("\n").filter((l) => /^\d{4}-/.test(l));
  assertEquals(quotes.length, 3);
  for (const q of quotes) assertMatch(q, /^\S+ (SUN|SAP|SEEBEYOND)\s+\d+\.\d{2}$/);
  assert(market.stdout.includes("Market open"));
});
