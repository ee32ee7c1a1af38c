// deno-lint-ignore-file no-console
/** The `es` command: picks the subcommand and maps errors to exit codes. */

import { EsError } from "../lib/errors.ts";
import { VERSION } from "../lib/version.ts";
import { completion } from "./completion.ts";
import { explainCommand } from "./explain.ts";
import { ping } from "./ping.ts";
import { publish } from "./publish.ts";
import { serve } from "./serve.ts";
import { stats } from "./stats.ts";
import { subscribe } from "./subscribe.ts";
import { printHelp, UsageError } from "./usage.ts";

const HELP = `
es ${VERSION}: a Deno-native event server (publish/subscribe), after Pyro's Event Server.

Usage: es [COMMAND] [options]

Commands:
  serve                        run the event server (the default)
  ns                           run a standalone name server; ns list [PREFIX], ns resolve NAME
  publish SUBJECT [MESSAGE]    publish an event (or one per line of stdin); alias: pub
  subscribe SUBJECT... [-m PATTERN]...
                               print events as they arrive; alias: sub
  stats                        show the server's counters
  explain SUBJECT              which subscriptions an event on SUBJECT would reach, and why
  ping                         measure the round trip to the event server
  completion bash|zsh          print a shell completion script

Run "es COMMAND --help" for a command's options. Global: --help, --version.
`;

type Command = (args: string[]) => Promise<number>;

const COMMANDS: Record<string, Command> = {
  serve,
  publish,
  pub: publish,
  subscribe,
  sub: subscribe,
  stats,
  explain: explainCommand,
  ping,
  completion,
  ns: async (args) => (await import("./ns.ts")).ns(args),
};

/** Runs the `es` command line; resolves with the process exit code. */
export async function main(args: string[]): Promise<number> {
  // `deno task es -- ARGS` passes the "--" along.
  if (args[0] === "--") args = args.slice(1);
  const [first, ...rest] = args;
  try {
    if (first === "--version" || first === "-V") {
      console.log(`es ${VERSION}`);
      return 0;
    }
    if (first === "--help" || first === "-h" || first === "help") return printHelp(HELP);
    if (first === undefined || first.startsWith("-")) return await serve(args);
    const command = Object.hasOwn(COMMANDS, first) ? COMMANDS[first] : undefined;
    if (!command) throw new UsageError(`Unknown command ${JSON.stringify(first)} (see es --help)`);
    return await command(rest);
  } catch (error) {
    if (error instanceof UsageError) {
      console.error(`es: ${error.message}`);
      return 2;
    }
    if (
      error instanceof EsError || error instanceof TypeError || error instanceof RangeError ||
      error instanceof SyntaxError ||
      error instanceof Deno.errors.AddrInUse || isSystemError(error)
    ) {
      console.error(`es: ${error.message}`);
      return 1;
    }
    throw error;
  }
}

/** Errors from the system (a host that does not resolve, an address or port not allowed). */
function isSystemError(error: unknown): error is Error {
  return Object.values(Deno.errors).some((E) => error instanceof E) ||
    (error instanceof Error && /^failed to lookup address/.test(error.message));
}
