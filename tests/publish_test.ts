/**
 * Ready for JSR: `deno doc --lint` passes on every entry of `deno.json`'s
 * `exports`, and `deno publish --dry-run` passes (no slow types) with only the
 * library and its documents in the package. Both run offline.
 */

import { assert, assertEquals } from "./_assert.ts";
import { childEnv } from "./_env.ts";

const ROOT = new URL("../", import.meta.url);

/** Runs `deno ARGS` in the checkout; its exit code and its output (stdout and stderr). */
async function deno(args: string[]): Promise<{ code: number; output: string }> {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args,
    cwd: ROOT,
    clearEnv: true,
    env: childEnv(),
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  return { code, output: decoder.decode(stdout) + decoder.decode(stderr) };
}

async function exportedModules(): Promise<string[]> {
  const config = JSON.parse(await Deno.readTextFile(new URL("deno.json", ROOT)));
  return Object.values(config.exports as Record<string, string>);
}

Deno.test("deno doc --lint finds nothing to fix in any exported module", async () => {
  const modules = await exportedModules();
  assert(modules.includes("./lib/mod.ts"), `exports: ${modules.join(", ")}`);
  const { code, output } = await deno(["doc", "--lint", ...modules]);
  assertEquals(code, 0, output);
  assert(!/error\[/.test(output), output);
});

Deno.test("deno publish --dry-run passes and packs the library without tests, bench or CLI", async () => {
  // --allow-dirty: the check must not depend on whether the work tree has uncommitted changes.
  const { code, output } = await deno(["publish", "--dry-run", "--allow-dirty"]);
  assertEquals(code, 0, output);
  assert(output.includes("Dry run complete"), output);
  const files = [...output.matchAll(/file:\/\/\S+/g)].map((m) => m[0].slice(ROOT.href.length));
  for (const module of await exportedModules()) {
    assert(files.includes(module.slice(2)), `${module} is not in the package:\n${output}`);
  }
  assert(files.includes("LICENSE"), output);
  const stray = files.filter((f) => /^(tests|bench|examples|cli|vendor|\.ci|tmp)\//.test(f));
  assertEquals(stray, [], output);
});
