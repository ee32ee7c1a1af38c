// deno-lint-ignore-file no-console
/**
 * `deno task install [--root DIR]`: puts an `es` command on PATH without
 * compiling. It writes DIR/bin/es (default ~/.deno/bin), a launcher that
 * runs this checkout's main.ts with the same narrow permissions and config as
 * `deno task es` — what `deno install -g` does, but offline too, since it
 * keeps using the checkout's vendor/ folder.
 */

import { checkoutPaths, esTaskFlags } from "./task_flags.ts";

function rootDir(args: string[]): string {
  const at = args.indexOf("--root");
  if (at >= 0 && args[at + 1]) return args[at + 1]!;
  const home = Deno.env.get("DENO_INSTALL_ROOT") ?? `${Deno.env.get("HOME")}/.deno`;
  return home;
}

/** Quotes a word for sh. */
function sh(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", `'"'"'`)}'`;
}

if (import.meta.main) {
  const bin = `${rootDir(Deno.args)}/bin`;
  const { config, main } = checkoutPaths();
  const command = [Deno.execPath(), "run", ...await esTaskFlags(), "--config", config, main];
  const script = `#!/bin/sh\n# es, written by "deno task install" from ${config}\nexec ${
    command.map(sh).join(" ")
  } "$@"\n`;
  await Deno.mkdir(bin, { recursive: true });
  const path = `${bin}/es`;
  await Deno.writeTextFile(path, script, { mode: 0o755 });
  await Deno.chmod(path, 0o755);
  console.log(`Installed ${path}`);
  const onPath = (Deno.env.get("PATH") ?? "").split(":").includes(bin);
  if (!onPath) console.log(`Add it to your PATH:  export PATH="${bin}:$PATH"`);
}
