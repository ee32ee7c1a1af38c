// deno-lint-ignore-file no-console
/**
 * `deno task compile`: `deno compile` into dist/es with the flags of
 * `deno task es`. deno compile embeds a runtime (denort) that it downloads;
 * where that cannot happen, this says so plainly, and it refuses a
 * `DENORT_BIN` that is the Deno CLI itself (the "binary" would then run
 * Deno's own command line, not es).
 */

import { checkoutPaths, esTaskFlags } from "./task_flags.ts";

const decoder = new TextDecoder();

/** Why `bin` is not a denort binary, or undefined when it may be one. */
export async function notDenort(bin: string): Promise<string | undefined> {
  let out: Deno.CommandOutput;
  try {
    out = await new Deno.Command(bin, { args: ["--version"], stdin: "null" }).output();
  } catch (error) {
    return `DENORT_BIN=${bin} cannot be run: ${(error as Error).message}`;
  }
  const text = decoder.decode(out.stdout) + decoder.decode(out.stderr);
  if (/^deno \d+\.\d+\.\d+/m.test(text)) {
    return `DENORT_BIN=${bin} is the Deno CLI, not denort (the runtime deno compile embeds): a binary built from it would run Deno's own command line. Point DENORT_BIN at denort ${Deno.version.deno} for this platform, or use "deno task install" instead`;
  }
  return undefined;
}

if (import.meta.main) {
  const denort = Deno.env.get("DENORT_BIN");
  if (denort) {
    const why = await notDenort(denort);
    if (why) {
      console.error(`es compile: ${why}`);
      Deno.exit(1);
    }
  }
  const { main } = checkoutPaths();
  const args = [
    "compile",
    ...await esTaskFlags(),
    "--include",
    new URL("../lib/dispatch/worker_main.ts", import.meta.url).pathname,
    "--output",
    new URL("../dist/es", import.meta.url).pathname,
    main,
  ];
  const out = await new Deno.Command(Deno.execPath(), { args, stdout: "inherit", stderr: "piped" })
    .output();
  const stderr = decoder.decode(out.stderr);
  if (out.code !== 0 && !denort && /denort|dl\.deno\.land|download/i.test(stderr)) {
    console.error(
      `es compile: deno compile needs its runtime (denort ${Deno.version.deno}), which it downloads from dl.deno.land, and that failed here. Either set DENORT_BIN to a denort binary of that version, or put es on your PATH with "deno task install" (no compiling needed).\n\n${stderr.trim()}`,
    );
  } else if (stderr) {
    console.error(stderr.trimEnd());
  }
  Deno.exit(out.code);
}
