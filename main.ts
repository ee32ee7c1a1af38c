/** Entry point of the `es` command (`deno task es`, `deno run main.ts`, the compiled binary). */

import { main } from "./cli/main.ts";

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
