import { assertEquals, assertMatch } from "./_assert.ts";

/**
 * `deno compile` needs its runtime, denort, which it downloads from a host
 * this machine cannot reach. The test runs when DENORT_BIN names a denort
 * binary (deno compile honours it) or a downloaded one is in Deno's cache.
 */
function denortAvailable(): string | undefined {
  const bin = Deno.env.get("DENORT_BIN");
  if (bin) {
    try {
      if (Deno.statSync(bin).isFile) return `DENORT_BIN=${bin}`;
    } catch {
      return undefined;
    }
  }
  const cache = Deno.env.get("DENO_DIR") ?? `${Deno.env.get("HOME")}/.cache/deno`;
  try {
    for (const entry of Deno.readDirSync(`${cache}/dl/release/v${Deno.version.deno}`)) {
      if (entry.name.startsWith("denort")) return `cached ${entry.name}`;
    }
  } catch {
    // No cache directory: no runtime.
  }
  return undefined;
}

const runtime = denortAvailable();
if (!runtime) {
  // deno-lint-ignore no-console
  console.warn(
    "compile_test: skipped — deno compile's runtime (denort) cannot be downloaded here; " +
      "set DENORT_BIN to a denort binary to run it.",
  );
}

Deno.test({
  name: "deno task compile builds dist/es, which runs like main.ts",
  ignore: runtime === undefined,
  async fn() {
    const root = new URL("../", import.meta.url).pathname;
    const build = await new Deno.Command(Deno.execPath(), { args: ["task", "compile"], cwd: root })
      .output();
    assertEquals(build.code, 0, new TextDecoder().decode(build.stderr));
    const version = await new Deno.Command(`${root}dist/es`, { args: ["--version"] }).output();
    assertEquals(version.code, 0);
    assertMatch(new TextDecoder().decode(version.stdout), /^es \d+\.\d+\.\d+/);
  },
});
