// deno-lint-ignore-file no-console
/**
 * Argument parsing for every `es` command: `parseArgs` from `@std/cli`, made
 * strict. std's parser accepts anything (unknown flags become values, a flag
 * missing its value gets `""`, a boolean swallows a following `true`); here
 * every argument is first checked against the command's declared options, so
 * that a bad flag or value is one clear line and exit code 2.
 */

import { parseArgs } from "@std/cli/parse-args";

/** A bad flag or value; the CLI prints its message and exits with code 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/** One option of a command: `--NAME VALUE` (string) or `--NAME` (boolean), maybe `-X` too. */
export interface OptionSpec {
  type: "string" | "boolean";
  /** The one-letter form, `-X`. */
  short?: string;
  /** A string option that may be given again; its values are collected in order. */
  multiple?: boolean;
}

/** A command's options by long name. */
export type Options = Record<string, OptionSpec>;

/** The parsed value of one option: `true`, the string, or the strings of a `multiple` one. */
export type OptionValue<S extends OptionSpec> = S["type"] extends "boolean" ? boolean
  : S extends { multiple: true } ? string[]
  : string;

/** The parsed options; an option not given is `undefined`. */
export type Values<T extends Options> = { [K in keyof T]?: OptionValue<T[K]> | undefined };

/** Flags every client command takes. */
export const CLIENT_OPTIONS = {
  es: { type: "string" },
  ns: { type: "string" },
  ident: { type: "string", short: "i" },
  "ident-file": { type: "string" },
  "ca-cert": { type: "string" },
  help: { type: "boolean", short: "h" },
} as const satisfies Options;

/**
 * Parses `args` strictly.
 *
 * @param args The command's arguments.
 * @param options The options it takes.
 * @param positionals Whether it takes arguments that are not options.
 * @returns The options given, and the other arguments as they were typed.
 * @throws {UsageError} for an unknown flag, a missing value, a value given to
 * a boolean flag, or an argument where none is taken.
 */
export function parse<T extends Options>(
  args: string[],
  options: T,
  positionals = false,
): { values: Values<T>; positionals: string[] } {
  const { flags, rest } = canonical(args, options);
  if (!positionals && rest.length > 0) {
    throw new UsageError(
      `Unexpected argument ${JSON.stringify(rest[0])}: this command takes only options`,
    );
  }
  const names = Object.keys(options);
  // Positionals after "--" stay strings (std would turn "007" into 7).
  const parsed = parseArgs([...flags, "--", ...rest], {
    string: names.filter((name) => options[name]!.type === "string"),
    boolean: names.filter((name) => options[name]!.type === "boolean"),
    collect: names.filter((name) => options[name]!.multiple),
    unknown: (arg: string) => {
      throw new UsageError(`Unknown option ${JSON.stringify(arg)}`);
    },
  });
  const values: Record<string, unknown> = {};
  for (const name of names) {
    const value = parsed[name];
    const given = Array.isArray(value) ? value.length > 0 : value !== undefined && value !== false;
    if (given) values[name] = value;
  }
  return { values: values as Values<T>, positionals: parsed._.map(String) };
}

/**
 * Checks each argument against `options` and rewrites the options in one
 * unambiguous form for std's parser: `--name=value` for strings, `--name` for
 * booleans; everything else (and all after `--`) is returned in `rest`.
 */
function canonical(args: string[], options: Options): { flags: string[]; rest: string[] } {
  const flags: string[] = [];
  const rest: string[] = [];
  const byShort = new Map<string, string>();
  for (const [name, spec] of Object.entries(options)) {
    if (spec.short !== undefined) byShort.set(spec.short, name);
    if (spec.type === "string" && name.startsWith("no-")) {
      // std reads "--no-x=value" as the negation of "x".
      throw new TypeError(`String option ${JSON.stringify(name)} must not start with "no-"`);
    }
  }
  let i = 0; // the next argument to read
  while (i < args.length) {
    const arg = args[i++]!;
    if (arg === "--") {
      rest.push(...args.slice(i));
      break;
    }
    if (!arg.startsWith("-") || arg === "-") {
      rest.push(arg);
      continue;
    }
    // The value of a string option: inline ("--es=URI", "-p0"), else the next argument.
    const take = (name: string, inline: string | undefined): void => {
      let value = inline;
      if (value === undefined) {
        const next = args[i];
        if (next === undefined || (next.startsWith("-") && next !== "-" && !/^-\d/.test(next))) {
          throw new UsageError(`Missing value for --${name}`);
        }
        value = next;
        i++;
      }
      flags.push(`--${name}=${value}`);
    };
    if (arg.startsWith("--")) {
      const eq = arg.indexOf("=");
      const name = eq === -1 ? arg.slice(2) : arg.slice(2, eq);
      const spec = Object.hasOwn(options, name) ? options[name]! : undefined;
      if (spec === undefined) throw new UsageError(`Unknown option ${JSON.stringify(`--${name}`)}`);
      if (spec.type === "string") {
        take(name, eq === -1 ? undefined : arg.slice(eq + 1));
      } else if (eq !== -1) {
        throw new UsageError(`Option --${name} takes no value: ${JSON.stringify(arg)}`);
      } else {
        flags.push(`--${name}`);
      }
      continue;
    }
    // "-Nh": boolean letters together; "-p0" or "-Np 0": a string letter takes the rest or the next.
    for (let j = 1; j < arg.length; j++) {
      const name = byShort.get(arg[j]!);
      if (name === undefined) {
        throw new UsageError(
          `Unknown option ${JSON.stringify(`-${arg[j]}`)}${
            arg.length > 2 ? ` in ${JSON.stringify(arg)}` : ""
          }`,
        );
      }
      if (options[name]!.type === "boolean") {
        flags.push(`--${name}`);
        continue;
      }
      const inline = arg.slice(j + 1).replace(/^=/, "");
      take(name, inline === "" ? undefined : inline);
      break;
    }
  }
  return { flags, rest };
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
  const one = new RegExp(
    `^(${scheme}|${scheme}\\+tls${
      scheme === "es" ? "|wss?" : ""
    })://(\\[[^\\]]+\\]|[^:/,]+):\\d{1,5}/?$`,
    "i",
  );
  // An event server may be given as a list, es://a:7766,es://b:7766: the client uses one of them.
  const parts = scheme === "es" ? value.split(",").map((p) => p.trim()) : [value];
  if (parts.length === 0 || !parts.every((p) => one.test(p))) {
    throw new UsageError(
      `Invalid value for ${name}: ${JSON.stringify(value)} (expected ${scheme}://HOST:PORT${
        scheme === "es" ? ", or several separated by commas" : ""
      })`,
    );
  }
  return value;
}

/** Prints a help text to stdout. */
export function printHelp(text: string): number {
  console.log(text.trim());
  return 0;
}
