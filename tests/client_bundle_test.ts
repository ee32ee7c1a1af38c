/** The served client: fresh against the source, self-contained, importable by URL from Deno. */

import { assert, assertEquals, assertMatch } from "./_assert.ts";
import { startTestServer } from "./_helpers.ts";
import { buildClientBundle } from "../cli/bundle_client.ts";
import { CLIENT_DTS, CLIENT_JS } from "../lib/http/_generated/client_bundle.ts";

Deno.test("the committed client bundle matches the source (else run `deno task bundle`)", async () => {
  const fresh = await buildClientBundle();
  assert(
    fresh.js === CLIENT_JS,
    "lib/http/_generated/client_bundle.ts: CLIENT_JS is stale; run `deno task bundle`",
  );
  assert(
    fresh.dts === CLIENT_DTS,
    "lib/http/_generated/client_bundle.ts: CLIENT_DTS is stale; run `deno task bundle`",
  );
});

Deno.test("the client bundle is one module: no imports, no npm: or bare specifiers, no Deno.* calls", () => {
  assertEquals(CLIENT_JS.match(/^\s*import\b.*$/gm), null);
  assertEquals(CLIENT_JS.match(/\bimport\s*\(/g), null);
  assertEquals(CLIENT_JS.match(/["'](npm|jsr|node):/g), null);
  assertEquals(CLIENT_JS.match(/\bDeno\./g), null);
  assertEquals(CLIENT_JS.match(/\brequire\s*\(/g), null);
  for (const name of ["Publisher", "Subscriber", "connect", "Client", "Subscription"]) {
    assertMatch(CLIENT_JS, new RegExp(`export \\{[^}]*\\b${name}\\b`));
    assertMatch(CLIENT_DTS, new RegExp(`export (declare (class|function)|interface) ${name}\\b`));
  }
});

/** Runs a Deno program in a fresh cache directory; returns its output. */
async function runDeno(
  args: string[],
  cwd: string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const output = await new Deno.Command(Deno.execPath(), {
    args,
    cwd,
    env: { NO_COLOR: "1", DENO_DIR: `${cwd}/deno_dir` },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
  return { code: output.code, stdout: decode(output.stdout), stderr: decode(output.stderr) };
}

Deno.test("a Deno program imports /client.js over HTTP, type-checks against /client.d.ts, and round-trips an event", async () => {
  await using server = await startTestServer({ httpPort: 0 });
  const host = `127.0.0.1:${server.httpPort}`;
  const tcpHost = server.uri.slice("es://".length);
  const dir = await Deno.makeTempDir({ prefix: "es-import-" });
  try {
    await Deno.writeTextFile(
      `${dir}/main.ts`,
      `import { connect, type Event, Subscriber } from "http://${host}/client.js";
const client = await connect({ esURI: ${JSON.stringify(server.uri)} });
const sub = await client.subscribe("by.url");
await client.publish("by.url", { hello: "world", n: 7 });
for await (const event of sub) {
  const e: Event = event;
  console.log(JSON.stringify({ subject: e.subject, msg: e.msg }));
  break;
}
console.log(typeof Subscriber);
await client.close();
`,
    );
    const run = await runDeno([
      "run",
      "--no-config",
      "--check",
      `--allow-import=${host}`,
      `--allow-net=${host},${tcpHost}`,
      "main.ts",
    ], dir);
    assertEquals(run.code, 0, run.stderr);
    assertEquals(run.stdout.trim().split("\n"), [
      JSON.stringify({ subject: "by.url", msg: { hello: "world", n: 7 } }),
      "function",
    ]);

    // The types really come from /client.d.ts: a misuse fails the check.
    await Deno.writeTextFile(
      `${dir}/wrong.ts`,
      `import { connect } from "http://${host}/client.js";
const client = await connect({ esURI: 42 });
`,
    );
    const check = await runDeno(
      ["check", "--no-config", `--allow-import=${host}`, "wrong.ts"],
      dir,
    );
    assert(check.code !== 0, "a type error in a program using /client.js went unnoticed");
    assertMatch(check.stderr, /esURI/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
