// deno-lint-ignore-file no-console
/**
 * Argument parsing for every `es` command: `parseArgs` from `node:util`,
 * with bad flags and bad values turned into one clear line and exit code 2.
 */

import { parseArgs, type ParseArgsConfig } from "node:util";

/** A bad flag or value; the CLI prints its message and exits with code 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

type Options = NonNullable<ParseArgsConfig["options"]>;

/** Flags every client command takes. */
export const CLIENT_OPTIONS = {
  es: { type: "string" },
  ns: { type: "string" },
  ident: { type: "string", short: "i" },
  "ca-cert": { type: "string" },
  help: { type: "boolean", short: "h" },
} as const satisfies Options;

/**
 * Parses `args` strictly.
 *
 * @throws {UsageError} for an unknown flag, a missing value or a stray argument.
 */
export function parse<T extends Options>(args: string[], options: T, positionals = false) {
  try {
    return parseArgs({
      args: joinNegativeValues(args, options),
      options,
      allowPositionals: positionals,
      strict: true,
    });
  } catch (error) {
    // parseArgs explains some errors over several lines; the first one says what was wrong.
    const message = (error as Error).message.replace(/\. To specify a positional.*$/s, "");
    throw new UsageError(message.split("\n")[0]!);
  }
}

/**
 * `--queue-size -5` would make parseArgs call the value ambiguous; joining it
 * as `--queue-size=-5` lets the flag's own check say what is wrong with it.
 */
function joinNegativeValues(args: string[], options: Options): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === "--") {
      out.push(...args.slice(i));
      break;
    }
    const next = args[i + 1];
    const name = arg.startsWith("--")
      ? arg.slice(2)
      : Object.keys(options).find((k) => arg === `-${options[k]!.short}`);
    if (
      name !== undefined && options[name]?.type === "string" && next !== undefined &&
      /^-\d/.test(next)
    ) {
      out.push(`--${name}=${next}`);
      i++;
    } else {
      out.push(arg);
    }
  }
  return out;
}

/** Parses a whole number within bounds, or says which flag was wrong. */
export function intFlag(
  name: string,
  value: string | undefined,
  min: number,
  max = Number.MAX_SAFE_INTEGER,
): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!/^-?\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < min || n > max) {
    throw new UsageError(
      `Invalid value for ${name}: ${
        JSON.stringify(value)
      } (expected a whole number from ${min} to ${max})`,
    );
  }
  return n;
}

/** Parses a port number. */
export function portFlag(name: string, value: string | undefined): number | undefined {
  return intFlag(name, value, 0, 65535);
}

/** Checks that a URI flag has the right scheme. */
export function uriFlag(
  name: string,
  value: string | undefined,
  scheme: "es" | "ns",
): string | undefined {
  if (value === undefined) return undefined;
  if (
    !new RegExp(
      `^(${scheme}|${scheme}\\+tls${
        scheme === "es" ? "|wss?" : ""
      })://(\\[[^\\]]+\\]|[^:/]+):\\d{1,5}/?$`,
      "i",
    ).test(value)
  ) {
    throw new UsageError(
      `Invalid value for ${name}: ${JSON.stringify(value)} (expected ${scheme}://HOST:PORT)`,
    );
  }
  return value;
}

/** Prints a help text to stdout. */
export function printHelp(text: string): number {
  console.log(text.trim());
  return 0;
}
