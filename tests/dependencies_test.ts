/**
 * The two lock files (docs/DEPENDENCIES.md): `deno.lock` pins what running
 * es needs (and what `deno.json`'s import map names), because `deno task`
 * downloads every npm package pinned there before it runs anything;
 * `tests/deno.lock` pins that and what only the tests use.
 */

import { assertEquals } from "./_assert.ts";

const ROOT = new URL("../", import.meta.url);

interface Lock {
  specifiers: Record<string, string>;
  npm?: Record<string, { integrity: string }>;
  jsr?: Record<string, { integrity: string }>;
}

async function readJson<T>(path: string): Promise<T> {
  return JSON.parse(await Deno.readTextFile(new URL(path, ROOT))) as T;
}

Deno.test("deno.lock pins no npm package that only the tests use", async () => {
  const lock = await readJson<Lock>("deno.lock");
  const { imports } = await readJson<{ imports: Record<string, string> }>("deno.json");
  const mapped = new Set(Object.values(imports).filter((s) => s.startsWith("npm:")));
  const stray = Object.keys(lock.specifiers).filter((s) => s.startsWith("npm:") && !mapped.has(s));
  assertEquals(
    stray,
    [],
    `deno.lock pins ${stray.join(", ")}, which the tests import: a test ran without ` +
      "--lock=tests/deno.lock (use `deno task test`, or pass it). Restore deno.lock " +
      "(git checkout deno.lock) so that `deno task start` does not download them.",
  );
});

Deno.test("tests/deno.lock pins everything deno.lock pins, the same way", async () => {
  const lock = await readJson<Lock>("deno.lock");
  const testLock = await readJson<Lock>("tests/deno.lock");
  for (const section of ["specifiers", "npm", "jsr"] as const) {
    const entries = Object.entries(lock[section] ?? {});
    const other = testLock[section] ?? {};
    const differing = entries
      .filter(([key, value]) => JSON.stringify(other[key]) !== JSON.stringify(value))
      .map(([key]) => key);
    assertEquals(
      differing,
      [],
      `"${section}" entries of deno.lock missing or different in tests/deno.lock`,
    );
  }
});
