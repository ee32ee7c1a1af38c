/**
 * SPEC §8, the passphrase out of `ps`: every command that takes `-i` takes
 * `--ident-file PATH`, and its help says that `-i` shows in `ps`. Through the
 * real `es` processes; the server's command line is read as `ps` reads it.
 */

import { assert, assertEquals, assertMatch } from "./_assert.ts";
import { EsProcess, runEs, spawnServe, waitUntil } from "./_helpers.ts";

const IDENT = "correct horse battery staple";

/** The command line of process `pid`, as every user of the machine can read it. */
async function commandLine(pid: number): Promise<string> {
  const { stdout } = await new Deno.Command("ps", {
    args: ["-o", "args=", "-p", String(pid)],
    stdout: "piped",
  }).output();
  return new TextDecoder().decode(stdout);
}

Deno.test("--ident-file keeps the passphrase out of ps, for es serve, es ns and the client commands", async () => {
  const dir = await Deno.makeTempDir({ prefix: "es-ident-" });
  try {
    const file = `${dir}/passphrase`;
    await Deno.writeTextFile(file, `${IDENT}\n`, { mode: 0o600 });
    await using server = await spawnServe(["--ns-port", "0", "--no-http", "--ident-file", file]);
    assert(server.stdoutLines.some((l) => l.includes("auth=on")));
    const args = await commandLine(server.child.pid);
    assertMatch(args, /--ident-file/);
    assert(!args.includes("horse"), `ps shows the passphrase: ${args}`);

    // Without it, refused; with the file (final newline ignored), in.
    const refused = await runEs(["publish", "--es", server.uri, "x", "1"]);
    assertMatch(refused.stderr, /requires a passphrase/);
    await using sub = new EsProcess([
      "subscribe",
      "--ns",
      server.nsURI!,
      "--ident-file",
      file,
      "file.ident",
      "--count",
      "1",
      "--json",
    ]);
    await waitUntil(() => sub.stderr.includes("Subscribed"), 15_000, "the subscriber");
    const published = await runEs([
      "publish",
      "--ns",
      server.nsURI!,
      "--ident-file",
      file,
      "file.ident",
      '"by file"',
    ]);
    assertEquals(published.code, 0, published.stderr);
    assertEquals((await sub.status()).code, 0, sub.stderr);
    assertEquals(JSON.parse(sub.stdoutLines[0]!).msg, "by file");
    const stats = await runEs(["stats", "--json", "--es", server.uri, "--ident-file", file]);
    assertEquals(stats.code, 0, stats.stderr);
    const listed = await runEs(["ns", "list", "--ns", server.nsURI!, "--ident-file", file]);
    assertEquals(listed.code, 0, listed.stderr);
    assertMatch(listed.stdout, /:EventService/);

    // es ns takes it too.
    await using ns = new EsProcess(["ns", "-p", "0", "--ident-file", file]);
    const uri = (await ns.waitForLine((l) => l.startsWith("URI="))).slice(4).trim();
    assertEquals((await runEs(["ns", "list", "--ns", uri])).code, 1);
    assertEquals((await runEs(["ns", "list", "--ns", uri, "--ident-file", file])).code, 0);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("--ident-file: a missing or empty file, or with -i, exits 2 with one clear line", async () => {
  const dir = await Deno.makeTempDir({ prefix: "es-ident-" });
  try {
    const empty = `${dir}/empty`;
    await Deno.writeTextFile(empty, "\n");
    const cases: [string[], RegExp][] = [
      [["serve", "-N", "--ident-file", `${dir}/nope`], /Cannot read the passphrase file ".*nope"/],
      [["serve", "-N", "--ident-file", empty], /Invalid passphrase file ".*empty": it is empty/],
      [["publish", "-i", "x", "--ident-file", empty, "s", "1"], /cannot be used together/],
      [["ns", "list", "--ident-file", `${dir}/nope`], /Cannot read the passphrase file/],
      [["ns", "-p", "0", "--ident-file", empty], /it is empty/],
    ];
    for (const [args, why] of cases) {
      const result = await runEs(args);
      assertEquals(result.code, 2, `${args.join(" ")}: ${result.stderr}`);
      assertMatch(result.stderr, why);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("every command that takes -i says in --help that it shows in ps, and offers --ident-file", async () => {
  for (const command of [["serve"], ["ns"], ["publish"], ["subscribe"], ["stats"], ["ping"]]) {
    const help = await runEs([...command, "--help"]);
    assertEquals(help.code, 0);
    assertMatch(help.stdout, /-i, --ident PASSPHRASE .*shows in ps/, command[0]);
    assertMatch(help.stdout, /prefer ES_IDENT or --ident-file/, command[0]);
    assertMatch(help.stdout, /--ident-file PATH/, command[0]);
  }
});
