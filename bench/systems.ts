/**
 * The systems a run compares. A system is started fresh by the bench and
 * deployed as a `Deployment`: where publishers connect, where subscribers
 * connect, and which processes' memory counts. Adding a system is one entry in
 * `SYSTEMS`; the "cluster" system (two `es serve --cluster nats://…` nodes
 * behind one nats-server, bench/cluster.ts) returns node A as `publishTo`,
 * node B as `subscribeTo`, and the pids of both nodes and the nats-server.
 */

import { startCluster } from "./cluster.ts";
import type { Target } from "./protocol.ts";
import {
  installed,
  type ServerProcess,
  startEs,
  startNats,
  startRedis,
  startRelay,
} from "./servers.ts";

/** A system under test, running. */
export interface Deployment {
  publishTo: Target;
  subscribeTo: Target;
  /** Server processes whose resident memory is measured (summed). */
  pids: number[];
  /** False for the relay, which copies every byte to every subscriber. */
  routes: boolean;
  versions: string[];
  /** Recent output of the servers, for error messages. */
  tail(): string;
  stop(): Promise<void>;
}

/** A system the bench knows how to start. */
export interface System {
  /** Name on the command line (`--only`). */
  key: string;
  /** Name in tables. */
  label: string;
  /** Whether this is es (ratios are es against each peer). */
  isEs: boolean;
  /**
   * Keys of the systems this one is set against, in a ratio table of its own,
   * instead of against every peer.
   */
  comparedWith?: readonly string[];
  /** What a reader of the tables must know about it (which processes count, say). */
  note?: string;
  /** Run only when named with `--only` (not part of a full run). */
  onRequest?: boolean;
  /** Why it cannot run on this machine, if it cannot. */
  missing(): Promise<string | undefined>;
  start(tempDir: string): Promise<Deployment>;
}

/** One server process as a deployment: publishers and subscribers use the same address. */
function single(server: ServerProcess, routes = true): Deployment {
  return {
    publishTo: server.target,
    subscribeTo: server.target,
    pids: [server.pid],
    routes,
    versions: [server.version],
    tail: server.tail,
    stop: server.stop,
  };
}

const always = () => Promise.resolve(undefined);

function needs(command: string, pkg: string): () => Promise<string | undefined> {
  return async () =>
    await installed(command) ? undefined : `${command} is not installed (apt-get install ${pkg})`;
}

/** Every system, in table order. */
export const SYSTEMS: readonly System[] = [
  {
    key: "es",
    label: "es",
    isEs: true,
    missing: always,
    // The defaults a user gets: `serve` with no flag beyond the ports.
    start: async (tempDir) => single(await startEs([], tempDir)),
  },
  {
    key: "es1",
    label: "es --workers 1",
    isEs: true,
    missing: always,
    start: async (tempDir) => single(await startEs(["--workers", "1"], tempDir)),
  },
  {
    // To choose the default node count on a machine (docs/DISPATCH.md): two nodes against es1.
    key: "es2",
    label: "es --workers 2",
    isEs: true,
    onRequest: true,
    missing: always,
    start: async (tempDir) => single(await startEs(["--workers", "2"], tempDir)),
  },
  {
    key: "cluster",
    label: "es cluster (2 nodes via NATS)",
    isEs: true,
    comparedWith: ["es", "nats"],
    note: "publishers on node A, subscribers on node B, so every event crosses the " +
      "nats-server; its memory and server CPU are both es nodes' and the nats-server's, summed. " +
      "No node holds a publisher on another (docs/CLUSTER.md): at full speed, node B drops what " +
      "its subscribers' queues cannot take, counted in the loss table, and its rates count " +
      "only the events delivered",
    missing: needs("nats-server", "nats-server"),
    start: startCluster,
  },
  {
    key: "nats",
    label: "NATS",
    isEs: false,
    missing: needs("nats-server", "nats-server"),
    start: async () => single(await startNats()),
  },
  {
    key: "redis",
    label: "Redis",
    isEs: false,
    missing: needs("redis-server", "redis-server"),
    start: async () => single(await startRedis()),
  },
  {
    key: "relay",
    label: "relay",
    isEs: false,
    missing: always,
    start: async () => single(await startRelay(), false),
  },
];
