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

Deno.test("deno task compile refuses a DENORT_BIN that is the Deno CLI, saying what to do", async () => {
  const root = new URL("../", import.meta.url).pathname;
  const build = await new Deno.Command(Deno.execPath(), {
    args: ["task", "compile"],
    cwd: root,
    env: { DENORT_BIN: Deno.execPath(), NO_COLOR: "1" },
  }).output();
  assertEquals(build.code, 1);
  const stderr = new TextDecoder().decode(build.stderr);
  assertMatch(stderr, /is the Deno CLI, not denort/);
  assertMatch(stderr, /deno task install/);
});

Deno.test("deno task install writes an es launcher that runs from any directory", async () => {
  const root = new URL("../", import.meta.url).pathname;
  const dir = await Deno.makeTempDir();
  try {
    const install = await new Deno.Command(Deno.execPath(), {
      args: ["task", "install", "--root", dir],
      cwd: root,
      env: { NO_COLOR: "1" },
    }).output();
    assertEquals(install.code, 0, new TextDecoder().decode(install.stderr));
    const launcher = await Deno.readTextFile(`${dir}/bin/es`);
    // The same narrow permissions as `deno task es`, never -A.
    assertMatch(launcher, /--allow-net --allow-env=ES_/);
    assertEquals(launcher.includes(" -A "), false);
    const version = await new Deno.Command(`${dir}/bin/es`, { args: ["--version"], cwd: dir })
      .output();
    assertEquals(version.code, 0, new TextDecoder().decode(version.stderr));
    assertMatch(new TextDecoder().decode(version.stdout), /^es \d+\.\d+\.\d+/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
