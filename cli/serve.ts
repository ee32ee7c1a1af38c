// deno-lint-ignore-file no-console
/** `es serve`: the event server, with its banner and graceful stop. */

import { type EventServer, startEventServer } from "../lib/server/event_server.ts";
import type { EventServerOptions } from "../lib/server/options.ts";
import { VERSION } from "../lib/version.ts";
import { setupLogging } from "./logging.ts";
import { intFlag, parse, portFlag, printHelp, uriFlag, UsageError } from "./usage.ts";
import { readEnv } from "../lib/client/options.ts";
import { LIMIT_HELP, LIMIT_OPTIONS, limitOptions } from "./limit_flags.ts";
import {
  IDENT_FILE_OPTION,
  IDENT_HELP,
  identFlag,
  SERVE_TRUST_HELP,
  SERVE_TRUST_OPTIONS,
  serveTrustOptions,
} from "./trust_flags.ts";

export const HELP = `
Usage: es [serve] [options]

Runs the event server, with an embedded name server unless told otherwise.

Options:
  -n, --host HOST          interface to listen on (default 127.0.0.1)
  -p, --port PORT          TCP port, 0 for any free port (default 7766)
  -N, --no-ns              no name server: clients need --es / esURI
      --ns URI             register with this name server instead of embedding one (env ES_NS)
      --ns-port PORT       port of the embedded name server (default 9090)
      --replace            take over the event server's name from a live server
${IDENT_HELP}
      --queue-size N       events queued per subscriber (default 1000, env ES_QUEUESIZE)
      --block-queue        full queue holds publishers, nothing lost (default; env ES_BLOCKQUEUE=1)
      --no-block-queue     full queue drops new events for that subscriber (env ES_BLOCKQUEUE=0)
      --workers N          dispatch nodes (threads) sharing the port (default: one per two CPUs)
      --cluster URLS       join the es servers on these NATS servers (nats://HOST:PORT,…; env ES_CLUSTER)
      --http-port PORT     HTTP side: client module, stats, dashboard (default 7767, 0 = any)
      --no-http            no HTTP side
      --heartbeat-ms MS    heartbeat interval (default 30000)
      --max-frame-bytes N  largest frame accepted (default 1048576)
${LIMIT_HELP}${SERVE_TRUST_HELP}      --log-level LEVEL    trace, debug, info, warning, error (default info)
      --log-format FORMAT  text or json (default text)
  -h, --help               show this help
`;

const OPTIONS = {
  host: { type: "string", short: "n" },
  port: { type: "string", short: "p" },
  "no-ns": { type: "boolean", short: "N" },
  ns: { type: "string" },
  "ns-port": { type: "string" },
  replace: { type: "boolean" },
  ident: { type: "string", short: "i" },
  ...IDENT_FILE_OPTION,
  "queue-size": { type: "string" },
  "block-queue": { type: "boolean" },
  "no-block-queue": { type: "boolean" },
  workers: { type: "string" },
  cluster: { type: "string" },
  "http-port": { type: "string" },
  "no-http": { type: "boolean" },
  "heartbeat-ms": { type: "string" },
  "max-frame-bytes": { type: "string" },
  ...LIMIT_OPTIONS,
  ...SERVE_TRUST_OPTIONS,
  "log-level": { type: "string" },
  "log-format": { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

/** Reads `ES_BLOCKQUEUE` (1/0, true/false). */
function envBlockQueue(): boolean | undefined {
  const value = readEnv("ES_BLOCKQUEUE");
  if (value === undefined) return undefined;
  if (/^(1|true|yes|on)$/i.test(value)) return true;
  if (/^(0|false|no|off)$/i.test(value)) return false;
  throw new UsageError(
    `Invalid value for ES_BLOCKQUEUE: ${JSON.stringify(value)} (expected 1 or 0)`,
  );
}

/** Parses `--cluster nats://HOST:PORT[,nats://HOST:PORT…]`. */
function clusterFlag(value: string): string[] {
  const urls = value.split(",").map((s) => s.trim()).filter((s) => s !== "");
  const bad = urls.find((u) => !/^(nats|tls):\/\/(\[[^\]]+\]|[^:/\s]+)(:\d{1,5})?\/?$/i.test(u));
  if (urls.length === 0 || bad !== undefined) {
    throw new UsageError(
      `Invalid value for --cluster: ${
        JSON.stringify(bad ?? value)
      } (expected nats://HOST:PORT, comma-separated)`,
    );
  }
  return urls;
}

/** Turns `es serve` flags (and the environment) into server options. */
export function serveOptions(args: string[]): EventServerOptions | undefined {
  const { values: v } = parse(args, OPTIONS);
  if (v.help) return undefined;
  if (v["block-queue"] && v["no-block-queue"]) {
    throw new UsageError("--block-queue and --no-block-queue cannot be used together");
  }
  if (v["no-ns"] && v.ns) throw new UsageError("--no-ns and --ns cannot be used together");
  const options: EventServerOptions = {};
  if (v.host !== undefined) options.hostname = v.host;
  const port = portFlag("--port", v.port);
  if (port !== undefined) options.port = port;
  const ns = uriFlag("--ns", v.ns, "ns") ??
    (v["no-ns"] ? undefined : uriFlag("ES_NS", readEnv("ES_NS"), "ns"));
  options.nameServer = v["no-ns"] ? "none" : ns ?? "embedded";
  const nsPort = portFlag("--ns-port", v["ns-port"]);
  if (nsPort !== undefined) options.nsPort = nsPort;
  if (v.replace) options.replace = true;
  const ident = identFlag(v) ?? readEnv("ES_IDENT");
  if (ident === "") {
    throw new UsageError(
      "Invalid value for --ident: the passphrase is empty (give one, or none for no passphrase)",
    );
  }
  if (ident !== undefined) options.ident = ident;
  const queueSize = intFlag("--queue-size", v["queue-size"], 1) ??
    intFlag("ES_QUEUESIZE", readEnv("ES_QUEUESIZE"), 1);
  if (queueSize !== undefined) options.queueSize = queueSize;
  const block = v["no-block-queue"] ? false : v["block-queue"] ? true : envBlockQueue();
  if (block !== undefined) options.blockQueue = block;
  const workers = intFlag("--workers", v.workers, 1, 256);
  if (workers !== undefined) options.workers = workers;
  const cluster = v.cluster ?? readEnv("ES_CLUSTER");
  if (cluster !== undefined) options.cluster = clusterFlag(cluster);
  if (v["no-http"] && v["http-port"]) {
    throw new UsageError("--no-http and --http-port cannot be used together");
  }
  const httpPort = portFlag("--http-port", v["http-port"]);
  if (v["no-http"]) options.httpPort = false;
  else if (httpPort !== undefined) options.httpPort = httpPort;
  const heartbeatMs = intFlag("--heartbeat-ms", v["heartbeat-ms"], 100);
  if (heartbeatMs !== undefined) options.heartbeatMs = heartbeatMs;
  const maxFrameBytes = intFlag("--max-frame-bytes", v["max-frame-bytes"], 1024, 64 * 1024 * 1024);
  if (maxFrameBytes !== undefined) options.maxFrameBytes = maxFrameBytes;
  Object.assign(options, limitOptions(v), serveTrustOptions(v));
  return options;
}

/** Runs `es serve`; resolves with the exit code once the server has stopped. */
export async function serve(args: string[]): Promise<number> {
  const options = serveOptions(args);
  if (options === undefined) return printHelp(HELP);
  const { values: v } = parse(args, OPTIONS);
  await setupLogging(v["log-level"], v["log-format"]);
  // Listen for signals before the banner: a supervisor may stop us as soon as it reads it.
  const stopped = Promise.withResolvers<void>();
  const stop = () => stopped.resolve();
  Deno.addSignalListener("SIGINT", stop);
  Deno.addSignalListener("SIGTERM", stop);
  let server: EventServer;
  try {
    server = await startEventServer(options);
    console.log(`es ${VERSION} — Event Server`);
    console.log(`URI= ${server.uri}`);
    if (server.nsURI) console.log(`NS= ${server.nsURI}`);
    if (server.httpPort !== undefined) {
      console.log(
        `HTTP= http://${
          server.uri.replace(/^[a-z+]+:\/\//, "").replace(/:\d+$/, "")
        }:${server.httpPort}/`,
      );
    }
    const o = server.options;
    console.log(
      `queueSize=${o.queueSize} blockQueue=${o.blockQueue} workers=${o.workers} auth=${
        o.ident ? "on" : "off"
      }`,
    );
    if (o.cluster.length > 0) console.log(`CLUSTER= ${o.cluster.join(",")}`);
    console.log("Event Server started.");

    await stopped.promise;
  } finally {
    // Also when the start fails (port taken, name held): no listener outlives the command.
    Deno.removeSignalListener("SIGINT", stop);
    Deno.removeSignalListener("SIGTERM", stop);
  }
  console.error("Stopping the event server…");
  await server.close();
  console.error("Event Server stopped.");
  return 0;
}
