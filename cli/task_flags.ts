/**
 * The runtime flags of `deno task es`, read from deno.json: the one place
 * they are written, shared by `deno task install` and `deno task compile`.
 */

const ROOT = new URL("../", import.meta.url);

/** The flags between `deno run` and `main.ts` in the `es` task. */
export async function esTaskFlags(): Promise<string[]> {
  const config = JSON.parse(await Deno.readTextFile(new URL("deno.json", ROOT)));
  const words = String(config.tasks.es).split(/\s+/);
  return words.slice(2, words.indexOf("main.ts"));
}

/** Absolute paths of the checkout's deno.json and main.ts. */
export function checkoutPaths(): { config: string; main: string } {
  return {
    config: new URL("deno.json", ROOT).pathname,
    main: new URL("main.ts", ROOT).pathname,
  };
}
