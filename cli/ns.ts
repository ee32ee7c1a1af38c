// deno-lint-ignore-file no-console
/** `es ns`: the standalone name server, and `es ns list` / `es ns resolve` to query one. */

import { NamingError } from "../lib/errors.ts";
import { readEnv } from "../lib/client/options.ts";
import { startNameServer } from "../lib/names/name_server.ts";
import { locateNameServer } from "../lib/client/name_proxy.ts";
import { VERSION } from "../lib/version.ts";
import { toJson } from "./client_flags.ts";
import { setupLogging } from "./logging.ts";
import { readTlsFiles } from "../lib/transport/tcp_listen.ts";
import { IDENT_FILE_OPTION, IDENT_HELP, identFlag, readCaCert } from "./trust_flags.ts";
import { parse, portFlag, printHelp, uriFlag, UsageError } from "./usage.ts";

export const HELP = `
Usage: es ns [options]            run a standalone name server
       es ns list [PREFIX]        list registered names (all, or those starting with PREFIX)
       es ns resolve NAME         print the URI registered for NAME

Server options:
  -n, --host HOST          interface to listen on (default 127.0.0.1)
  -p, --port PORT          TCP port, 0 for any free port (default 9090)
${IDENT_HELP}
      --tls-cert PATH      PEM certificate chain: serve ns+tls:// (with --tls-key)
      --tls-key PATH       PEM private key of --tls-cert
      --log-level LEVEL    trace, debug, info, warning, error (default info)
      --log-format FORMAT  text or json (default text)

Query options (list, resolve):
      --ns URI             name server (ns://HOST:PORT, env ES_NS, default ns://127.0.0.1:9090)
${IDENT_HELP}
      --ca-cert PATH       PEM CA certificate to trust for ns+tls:// (env ES_CA_CERT)
      --json               list: print one JSON object
  -h, --help               show this help
`;

const SERVER_OPTIONS = {
  host: { type: "string", short: "n" },
  port: { type: "string", short: "p" },
  ident: { type: "string", short: "i" },
  ...IDENT_FILE_OPTION,
  "tls-cert": { type: "string" },
  "tls-key": { type: "string" },
  "log-level": { type: "string" },
  "log-format": { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

const QUERY_OPTIONS = {
  ns: { type: "string" },
  ident: { type: "string", short: "i" },
  ...IDENT_FILE_OPTION,
  "ca-cert": { type: "string" },
  json: { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const;

/** Runs `es ns`; resolves with the exit code. */
export function ns(args: string[]): Promise<number> {
  const [first, ...rest] = args;
  if (first === "list") return list(rest);
  if (first === "resolve") return resolve(rest);
  return serveNames(args);
}

async function serveNames(args: string[]): Promise<number> {
  const { values: v, positionals } = parse(args, SERVER_OPTIONS, true);
  if (v.help) return printHelp(HELP);
  if (positionals.length > 0) {
    throw new UsageError(
      `Unknown ns command ${JSON.stringify(positionals[0])} (expected list or resolve)`,
    );
  }
  const port = portFlag("--port", v.port) ?? 9090;
  const ident = identFlag(v) ?? readEnv("ES_IDENT");
  if (ident === "") throw new UsageError("Invalid value for --ident: the passphrase is empty");
  const [cert, key] = [v["tls-cert"], v["tls-key"]];
  if ((cert === undefined) !== (key === undefined)) {
    throw new UsageError("--tls-cert and --tls-key must be given together");
  }
  let tls: { tlsCert: string; tlsKey: string } | undefined;
  if (cert !== undefined && key !== undefined) {
    try {
      const material = readTlsFiles(cert, key);
      tls = { tlsCert: material.cert, tlsKey: material.key };
    } catch (error) {
      throw new UsageError((error as Error).message);
    }
  }
  await setupLogging(v["log-level"], v["log-format"]);
  // Listen for signals before the banner: a supervisor may stop us as soon as it reads it.
  const stopped = Promise.withResolvers<void>();
  const stop = () => stopped.resolve();
  Deno.addSignalListener("SIGINT", stop);
  Deno.addSignalListener("SIGTERM", stop);
  try {
    const server = await startNameServer({
      hostname: v.host ?? "127.0.0.1",
      port,
      ident,
      ...tls,
    });
    console.log(`es ${VERSION} — Name Server`);
    console.log(`URI= ${server.uri}`);
    console.log("Name Server started.");
    await stopped.promise;
    console.error("Stopping the name server…");
    await server.close();
  } finally {
    Deno.removeSignalListener("SIGINT", stop);
    Deno.removeSignalListener("SIGTERM", stop);
  }
  console.error("Name Server stopped.");
  return 0;
}

function queryOptions(
  values: {
    ns?: string | undefined;
    ident?: string | undefined;
    "ident-file"?: string | undefined;
    "ca-cert"?: string | undefined;
  },
) {
  const caCert = values["ca-cert"] ?? readEnv("ES_CA_CERT");
  return {
    nsURI: uriFlag("--ns", values.ns, "ns") ?? uriFlag("ES_NS", readEnv("ES_NS"), "ns"),
    ident: identFlag(values) ?? readEnv("ES_IDENT"),
    ...(caCert !== undefined ? { caCerts: [readCaCert(caCert)] } : {}),
  };
}

async function list(args: string[]): Promise<number> {
  const { values, positionals } = parse(args, QUERY_OPTIONS, true);
  if (values.help) return printHelp(HELP);
  if (positionals.length > 1) {
    throw new UsageError(`Too many arguments: expected [PREFIX], got ${positionals.length}`);
  }
  await using proxy = await locateNameServer(queryOptions(values));
  const names = await proxy.list(positionals[0] ?? "");
  if (values.json) {
    console.log(toJson(names));
    return 0;
  }
  const width = Math.max(0, ...Object.keys(names).map((n) => n.length));
  for (const [name, uri] of Object.entries(names)) console.log(`${name.padEnd(width)}  ${uri}`);
  if (Object.keys(names).length === 0) {
    console.error(
      positionals[0] ? `No names start with ${JSON.stringify(positionals[0])}` : "No names",
    );
  }
  return 0;
}

async function resolve(args: string[]): Promise<number> {
  const { values, positionals } = parse(args, QUERY_OPTIONS, true);
  if (values.help) return printHelp(HELP);
  if (positionals.length !== 1) {
    throw new UsageError(
      positionals.length === 0
        ? "Missing NAME (see es ns --help)"
        : `Too many arguments: expected NAME, got ${positionals.length}`,
    );
  }
  const name = positionals[0]!;
  await using proxy = await locateNameServer(queryOptions(values));
  try {
    console.log(await proxy.resolve(name));
  } catch (error) {
    if (!(error instanceof NamingError)) throw error;
    throw new NamingError(`${error.message} on the name server ${proxy.uri}`, { cause: error });
  }
  return 0;
}
