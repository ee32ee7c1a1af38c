// deno-lint-ignore-file no-console
/**
 * `es completion bash|zsh`: a shell completion script for commands and
 * flags, read from each command's own `--help`, so it cannot drift from them.
 */

import { HELP as EXPLAIN_HELP } from "./explain.ts";
import { HELP as NS_HELP } from "./ns.ts";
import { HELP as PING_HELP } from "./ping.ts";
import { HELP as PUBLISH_HELP } from "./publish.ts";
import { HELP as SERVE_HELP } from "./serve.ts";
import { HELP as STATS_HELP } from "./stats.ts";
import { HELP as SUBSCRIBE_HELP } from "./subscribe.ts";
import { parse, printHelp, UsageError } from "./usage.ts";

const HELP = `
Usage: es completion bash|zsh

Prints a completion script. Load it in the current shell, or from your rc file:

  bash:  source <(es completion bash)
  zsh:   source <(es completion zsh)
`;

/** The flags a help text lists in its options (lines like `  -p, --port PORT   …`). */
export function flagsOf(help: string): string[] {
  const flags: string[] = [];
  for (const match of help.matchAll(/^\s+(?:(-[a-zA-Z]), )?(--[a-z][a-z-]*)/gm)) {
    if (match[1]) flags.push(match[1]);
    flags.push(match[2]!);
  }
  return [...new Set(flags)];
}

/** Every command and the words that may follow it, read from the commands' own help. */
export const COMPLETIONS: Record<string, string> = {
  serve: flagsOf(SERVE_HELP).join(" "),
  ns: ["list", "resolve", ...flagsOf(NS_HELP)].join(" "),
  publish: flagsOf(PUBLISH_HELP).join(" "),
  pub: flagsOf(PUBLISH_HELP).join(" "),
  subscribe: flagsOf(SUBSCRIBE_HELP).join(" "),
  sub: flagsOf(SUBSCRIBE_HELP).join(" "),
  stats: flagsOf(STATS_HELP).join(" "),
  explain: flagsOf(EXPLAIN_HELP).join(" "),
  ping: flagsOf(PING_HELP).join(" "),
  completion: "bash zsh",
};

function bash(): string {
  const cases = Object.entries(COMPLETIONS)
    .map(([command, words]) => `    ${command}) words="${words}" ;;`)
    .join("\n");
  return `# es completion for bash: source <(es completion bash)
_es() {
  local cur="\${COMP_WORDS[COMP_CWORD]}"
  local words
  if [ "$COMP_CWORD" -eq 1 ]; then
    words="${Object.keys(COMPLETIONS).join(" ")} --help --version"
  else
    case "\${COMP_WORDS[1]}" in
${cases}
    *) words="" ;;
    esac
  fi
  COMPREPLY=($(compgen -W "$words" -- "$cur"))
}
complete -o default -F _es es
`;
}

function zsh(): string {
  return `# es completion for zsh: source <(es completion zsh)
autoload -U +X bashcompinit && bashcompinit
${bash()}`;
}

/** Runs `es completion`; resolves with the exit code. */
export function completion(args: string[]): Promise<number> {
  const { values, positionals } = parse(args, { help: { type: "boolean", short: "h" } }, true);
  if (values.help) return Promise.resolve(printHelp(HELP));
  const shell = positionals[0];
  if (shell !== "bash" && shell !== "zsh") {
    throw new UsageError(`Unknown shell ${JSON.stringify(shell ?? "")}: expected bash or zsh`);
  }
  console.log(shell === "bash" ? bash() : zsh());
  return Promise.resolve(0);
}
