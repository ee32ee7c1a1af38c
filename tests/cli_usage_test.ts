/**
 * Tests of `parse()` in cli/usage.ts: std's `parseArgs` made strict, so that
 * every command refuses what it does not know with one clear line.
 */

import { assertEquals, assertThrows } from "./_assert.ts";
import { CLIENT_OPTIONS, parse, UsageError } from "../cli/usage.ts";

const OPTIONS = {
  ...CLIENT_OPTIONS,
  port: { type: "string", short: "p" },
  "no-ns": { type: "boolean", short: "N" },
  match: { type: "string", short: "m", multiple: true },
  json: { type: "boolean" },
} as const;

Deno.test("parse() reads long, short, inline and grouped options", () => {
  const { values, positionals } = parse(
    ["--es", "es://h:1", "-p0", "-Nh", "--json", "-m", "^a", "--match=^b", "-i", "pw"],
    OPTIONS,
  );
  assertEquals(values, {
    es: "es://h:1",
    port: "0",
    "no-ns": true,
    help: true,
    json: true,
    match: ["^a", "^b"],
    ident: "pw",
  });
  assertEquals(positionals, []);
});

Deno.test("parse() leaves options not given undefined, and the last of a repeated one wins", () => {
  const { values } = parse(["--es", "es://a:1", "--es", "es://b:2"], OPTIONS);
  assertEquals(values, { es: "es://b:2" });
  assertEquals(values.json, undefined);
  assertEquals(values.match, undefined);
});

Deno.test("parse() keeps positionals as typed, also after -- and after a boolean", () => {
  const { values, positionals } = parse(
    ["subj", "--json", "true", "007", "-", "--", "--not-a-flag", "-5"],
    OPTIONS,
    true,
  );
  assertEquals(values, { json: true });
  assertEquals(positionals, ["subj", "true", "007", "-", "--not-a-flag", "-5"]);
});

Deno.test("parse() takes a negative number or a dash-free value as a value", () => {
  assertEquals(parse(["-p", "-5"], OPTIONS).values.port, "-5");
  assertEquals(parse(["--port", "-5"], OPTIONS).values.port, "-5");
  assertEquals(parse(["--ident=-secret"], OPTIONS).values.ident, "-secret");
  assertEquals(parse(["--ident=a=b"], OPTIONS).values.ident, "a=b");
  assertEquals(parse(["--es="], OPTIONS).values.es, "");
});

Deno.test("parse() refuses what the command does not take with a UsageError", async (t) => {
  const cases: [string[], RegExp][] = [
    [["--bogus"], /^Unknown option "--bogus"$/],
    [["--bogus=1"], /^Unknown option "--bogus"$/],
    [["-x"], /^Unknown option "-x"$/],
    [["-Nx"], /^Unknown option "-x" in "-Nx"$/],
    [["-5"], /^Unknown option "-5"$/],
    [["--__proto__"], /^Unknown option "--__proto__"$/],
    [["--no-json"], /^Unknown option "--no-json"$/],
    [["--es"], /^Missing value for --es$/],
    [["-p"], /^Missing value for --port$/],
    [["--es", "--json"], /^Missing value for --es$/],
    [["-i", "-N"], /^Missing value for --ident$/],
    [["--json=yes"], /^Option --json takes no value: "--json=yes"$/],
    [["stray"], /^Unexpected argument "stray": this command takes only options$/],
  ];
  for (const [args, message] of cases) {
    await t.step(args.join(" "), () => {
      assertThrows(
        () => parse(args, OPTIONS),
        (e) => e instanceof UsageError && message.test(e.message),
      );
    });
  }
});
