/**
 * The habits users of nats, redis-cli and mosquitto bring to `es`: short
 * aliases, repeated and templated publishes, raw output, timeouts, a direct
 * URL in the environment, ping, errors that say what to do, completion.
 */

import { assert, assertEquals, assertMatch } from "./_assert.ts";
import { runEs, spawnServe } from "./_helpers.ts";
import { COMPLETIONS, flagsOf } from "../cli/completion.ts";
import { fillTemplate } from "../cli/publish.ts";

Deno.test("es pub and es sub are publish and subscribe; pub says what it published", async () => {
  await using server = await spawnServe(["-N", "--no-http"]);
  const sub = runEs(["sub", "--es", server.uri, "--count", "1", "alias.x"]);
  // The subscriber is in force once the server lists its subscription.
  for (let i = 0; i < 200; i++) {
    const stats = await runEs(["stats", "--json", "--es", server.uri]);
    if (JSON.parse(stats.stdout).exactSubjects === 1) break;
  }
  const pub = await runEs(["pub", "--es", server.uri, "alias.x", "hello"]);
  assertEquals(pub.code, 0, pub.stderr);
  assertMatch(pub.stderr, /Published 1 event on alias\.x/);
  const got = await sub;
  assertEquals(got.code, 0, got.stderr);
  assertMatch(got.stdout, /alias\.x {2}hello$/);
});

Deno.test("fillTemplate() fills {{n}} and {{time}}", () => {
  const at = new Date("2026-11-30T12:00:00.000Z");
  assertEquals(
    fillTemplate('{"n": {{n}}, "at": "{{time}}", "again": {{n}}}', 7, at),
    '{"n": 7, "at": "2026-11-30T12:00:00.000Z", "again": 7}',
  );
});

Deno.test("es publish --count N --interval-ms M sends N numbered events; subscribe --raw prints the messages only", async () => {
  await using server = await spawnServe(["-N", "--no-http"]);
  const sub = runEs(["subscribe", "--es", server.uri, "--raw", "--count", "3", "tpl"]);
  for (let i = 0; i < 200; i++) {
    const stats = await runEs(["stats", "--json", "--es", server.uri]);
    if (JSON.parse(stats.stdout).exactSubjects === 1) break;
  }
  const pub = await runEs([
    "publish",
    "--es",
    server.uri,
    "--count",
    "3",
    "--interval-ms",
    "10",
    "tpl",
    '{"n": {{n}}}',
  ]);
  assertEquals(pub.code, 0, pub.stderr);
  assertMatch(pub.stderr, /Published 3 events on tpl/);
  const got = await sub;
  assertEquals(got.stdout.split("\n"), ['{"n":1}', '{"n":2}', '{"n":3}']);
});

Deno.test("es subscribe --timeout: exit 1 when --count is not reached, 0 without --count", async () => {
  await using server = await spawnServe(["-N", "--no-http"]);
  const short = await runEs(["sub", "--es", server.uri, "--timeout", "0.3", "--count", "2", "q"]);
  assertEquals(short.code, 1);
  assertMatch(short.stderr, /timed out after 0\.3 s with 0 of 2 events/);
  const plain = await runEs(["sub", "--es", server.uri, "--timeout", "0.3", "q"]);
  assertEquals(plain.code, 0, plain.stderr);
  const bad = await runEs(["sub", "--es", server.uri, "--timeout", "soon", "q"]);
  assertEquals(bad.code, 2);
  assertMatch(bad.stderr, /--timeout/);
});

Deno.test("ES_URL names the event server for every client command", async () => {
  await using server = await spawnServe(["-N", "--no-http"]);
  const env = { ES_URL: server.uri };
  const pub = await runEs(["publish", "url.x", "1"], { env });
  assertEquals(pub.code, 0, pub.stderr);
  const ping = await runEs(["ping", "--count", "2", "--interval-ms", "0"], { env });
  assertEquals(ping.code, 0, ping.stderr);
  assertMatch(ping.stdout, new RegExp(`round trip 2 to ${server.uri}: [0-9.]+ ms`));
  assertMatch(ping.stdout, /2 round trips: min\/avg\/max = /);
});

Deno.test("es stats does not count its own connection", async () => {
  await using server = await spawnServe(["-N", "--no-http"]);
  const stats = await runEs(["stats", "--json", "--es", server.uri]);
  assertEquals(JSON.parse(stats.stdout).connections, 0);
});

Deno.test("errors say what to do: no name server, a port in use, no server to ping", async () => {
  const noNs = await runEs(["publish", "--ns", "ns://127.0.0.1:1", "x", "1"]);
  assertEquals(noNs.code, 1);
  assertMatch(
    noNs.stderr,
    /no name server at ns:\/\/127\.0\.0\.1:1\. Start "es serve", or pass --es/,
  );
  assertMatch(noNs.stderr, /ES_URL \/ ES_NS/);
  await using server = await spawnServe(["-N", "--no-http"]);
  const port = Number(server.uri.split(":").at(-1));
  const taken = await runEs(["serve", "-N", "--no-http", "-p", String(port)]);
  assertEquals(taken.code, 1);
  assertMatch(taken.stderr, new RegExp(`Port ${port} for the event server is in use`));
  assertMatch(taken.stderr, /-p\/--port/);
  const httpTaken = await runEs(["serve", "-N", "-p", "0", "--http-port", String(port)]);
  assertEquals(httpTaken.code, 1);
  assertMatch(httpTaken.stderr, /for the HTTP side is in use/);
  const nobody = await runEs(["ping", "--es", "es://127.0.0.1:1"]);
  assertEquals(nobody.code, 1);
  assertEquals(nobody.stderr.trim().split("\n").length, 1, nobody.stderr);
});

Deno.test("es completion bash is valid bash and knows every flag of every command's --help", async () => {
  const script = await runEs(["completion", "bash"]);
  assertEquals(script.code, 0);
  const check = await new Deno.Command("bash", { args: ["-n"], stdin: "piped" }).spawn();
  const writer = check.stdin.getWriter();
  await writer.write(new TextEncoder().encode(script.stdout));
  await writer.close();
  assert((await check.status).success, "bash -n refused the script");
  for (const command of ["serve", "publish", "subscribe", "stats", "ping"]) {
    const help = await runEs([command, "--help"]);
    const flags = new Set(flagsOf(help.stdout));
    assert(flags.has("--help"), `${command}: no flags read from its help`);
    for (const flag of flags) {
      assert(COMPLETIONS[command]!.split(" ").includes(flag), `${command} ${flag} not completed`);
    }
  }
  const zsh = await runEs(["completion", "zsh"]);
  assertMatch(zsh.stdout, /bashcompinit/);
  assertEquals((await runEs(["completion", "fish"])).code, 2);
});
