/**
 * The dependency rules of docs/ARCHITECTURE.md, checked on the code: each
 * folder of lib/ imports only from the folders below it, and no module of
 * lib/ imports itself back through others (no import cycle).
 */

import { assertEquals } from "./_assert.ts";

const LIB = new URL("../lib/", import.meta.url);

/** Folder → the folders of lib/ it may import from (the files at lib/'s root are open to all). */
export const LAYERS: Record<string, readonly string[]> = {
  async: [],
  protocol: [],
  transport: ["async"],
  broker: ["protocol", "async"],
  session: ["broker", "protocol", "transport", "async"],
  client: ["protocol", "transport", "async"],
  node: ["session", "broker", "protocol", "transport", "async"],
  names: ["session", "client", "protocol", "transport", "async"],
  cluster: ["node", "broker", "protocol", "transport", "async"],
  dispatch: ["cluster", "node", "broker", "protocol", "transport", "async"],
  http: ["transport"],
  server: [
    "cluster",
    "dispatch",
    "http",
    "names",
    "node",
    "session",
    "broker",
    "protocol",
    "transport",
    "async",
  ],
};

/** Files at lib/'s root that only the public surface may import. */
const ROOT_SURFACE = ["mod.ts"];

/** Every .ts file under lib/ (generated bundles aside), as paths relative to lib/. */
async function libFiles(dir = ""): Promise<string[]> {
  const files: string[] = [];
  for await (const entry of Deno.readDir(new URL(dir, LIB))) {
    const path = dir + entry.name;
    if (entry.isDirectory && entry.name !== "_generated") files.push(...await libFiles(`${path}/`));
    else if (entry.isFile && entry.name.endsWith(".ts")) files.push(path);
  }
  return files;
}

/** The lib/-relative paths `file` imports (static imports and re-exports, types included). */
async function importsOf(file: string): Promise<string[]> {
  const source = await Deno.readTextFile(new URL(file, LIB));
  const found: string[] = [];
  for (const match of source.matchAll(/^\s*(?:import|export)\b[^;]*?\bfrom\s+"(\.[^"]+)"/gm)) {
    const target = new URL(match[1]!, new URL(file, LIB));
    found.push(target.pathname.slice(LIB.pathname.length));
  }
  return found;
}

function folderOf(path: string): string {
  return path.includes("/") ? path.slice(0, path.indexOf("/")) : "";
}

Deno.test("every folder of lib/ imports only from the folders its layer allows", async () => {
  const broken: string[] = [];
  for (const file of await libFiles()) {
    const from = folderOf(file);
    for (const target of await importsOf(file)) {
      const to = folderOf(target);
      if (to === from) continue;
      if (to === "" && !ROOT_SURFACE.includes(target)) continue;
      if (from === "" && file === "mod.ts") continue;
      if (!(LAYERS[from] ?? []).includes(to)) broken.push(`${file} → ${target}`);
    }
  }
  assertEquals(broken, []);
});

Deno.test("lib/ has no import cycle", async () => {
  const files = await libFiles();
  const graph = new Map<string, string[]>();
  for (const file of files) graph.set(file, await importsOf(file));
  const state = new Map<string, "open" | "done">();
  const cycles: string[] = [];
  const visit = (file: string, path: string[]): void => {
    if (state.get(file) === "done") return;
    if (state.get(file) === "open") {
      cycles.push([...path.slice(path.indexOf(file)), file].join(" → "));
      return;
    }
    state.set(file, "open");
    for (const next of graph.get(file) ?? []) visit(next, [...path, file]);
    state.set(file, "done");
  };
  for (const file of files) visit(file, []);
  assertEquals(cycles, []);
});

Deno.test("every folder of lib/ has a layer in the rules", async () => {
  const folders = new Set((await libFiles()).map(folderOf).filter((f) => f !== ""));
  assertEquals([...folders].filter((f) => !(f in LAYERS)), []);
});
