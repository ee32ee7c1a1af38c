/**
 * The main thread's side of dispatch: starts `workers - 1` Worker nodes on
 * the server's port, wires every pair of nodes with a MessageChannel, gathers
 * their statistics and shuts them down.
 */

import { getLogger } from "@logtape/logtape";
import type { NodeOptions } from "../node/options.ts";
import type { ServerStats } from "../node/stats.ts";
import type { PeerBackplane } from "./backplane.ts";
import type { FromWorker, ToWorker } from "./messages.ts";
import { mergeStats } from "./merge_stats.ts";
import { emitWorkerLog } from "./worker_logging.ts";
import type { ExplainMatch } from "../node/explain.ts";

const log = getLogger(["es", "dispatch"]);

/** Time a worker gets to start listening, and to close or answer. */
const START_TIMEOUT_MS = 15_000;
const CLOSE_TIMEOUT_MS = 5_000;

/** A started worker and its replies. */
interface WorkerHandle {
  worker: Worker;
  ready: PromiseWithResolvers<void>;
  closed: PromiseWithResolvers<void>;
  stats: Map<number, (stats: ServerStats) => void>;
  explained: Map<number, (matches: ExplainMatch[]) => void>;
}

/** The dispatch workers of a server, as the main thread holds them. */
export interface WorkerThreads {
  /** The statistics of every node, merged (node 0's first). */
  gatherStats(): Promise<ServerStats>;
  /** What every node's subscriptions say about `subject`, each match with its node. */
  gatherExplain(subject: string): Promise<ExplainMatch[]>;
  /** Closes every worker. */
  close(): Promise<void>;
}

/** What node 0 (on the main thread) gives the workers. */
export interface MainNode {
  readonly port: number;
  readonly connectionCount: Int32Array;
  explain(subject: string): ExplainMatch[];
  /** Node 0's backplane, started by node 0, that the workers join as peers; none in a cluster. */
  readonly backplane: PeerBackplane | undefined;
  stats(): Promise<ServerStats>;
}

/**
 * Starts nodes 1 to `options.workers - 1` on Workers, listening on `main.port`
 * with `reusePort`, each joined to every other node.
 *
 * @throws {Error} when a worker cannot start (it quotes the worker's reason).
 */
export async function startWorkerThreads(
  options: NodeOptions,
  main: MainNode,
): Promise<WorkerThreads> {
  const count = options.workers;
  const handles: WorkerHandle[] = [];
  const inits: Extract<ToWorker, { t: "init" }>[] = [];
  for (let id = 1; id < count; id++) {
    inits.push({
      t: "init",
      id,
      options,
      port: main.port,
      peers: [],
      connectionCount: main.connectionCount,
    });
  }
  // One channel per pair of nodes (in a cluster, the nodes meet on NATS instead).
  for (let a = 0; a < (options.cluster.length > 0 ? 0 : count); a++) {
    for (let b = a + 1; b < count; b++) {
      const { port1, port2 } = new MessageChannel();
      if (a === 0) main.backplane?.addPeer(b, port1);
      else inits[a - 1]!.peers.push({ id: b, port: port1 });
      inits[b - 1]!.peers.push({ id: a, port: port2 });
    }
  }
  let nextRequest = 1;
  const gatherStats = (): Promise<ServerStats> => {
    const req = nextRequest++;
    const replies = handles.map((h) =>
      withTimeout(
        new Promise<ServerStats>((resolve) => {
          h.stats.set(req, resolve);
          h.worker.postMessage({ t: "stats", req } satisfies ToWorker);
        }),
        CLOSE_TIMEOUT_MS,
        "A dispatch worker did not answer for statistics",
      )
    );
    return Promise.all([main.stats(), ...replies]).then(mergeStats);
  };
  const gatherExplain = (subject: string): Promise<ExplainMatch[]> => {
    const req = nextRequest++;
    const replies = handles.map((h) =>
      withTimeout(
        new Promise<ExplainMatch[]>((resolve) => {
          h.explained.set(req, resolve);
          h.worker.postMessage({ t: "explain", req, subject } satisfies ToWorker);
        }),
        CLOSE_TIMEOUT_MS,
        "A dispatch worker did not answer for explain",
      )
    );
    return Promise.all([main.explain(subject), ...replies]).then((all) =>
      all.flatMap((matches, worker) => matches.map((m) => ({ ...m, worker })))
    );
  };
  for (const init of inits) {
    const worker = new Worker(new URL("./worker_main.ts", import.meta.url), { type: "module" });
    const handle: WorkerHandle = {
      worker,
      ready: Promise.withResolvers(),
      closed: Promise.withResolvers(),
      stats: new Map(),
      explained: new Map(),
    };
    worker.onmessage = (e: MessageEvent<FromWorker>) => {
      const m = e.data;
      if (m.t === "ready") handle.ready.resolve();
      else if (m.t === "failed") {
        handle.ready.reject(new Error(`Dispatch worker ${init.id} failed to start: ${m.message}`));
      } else if (m.t === "stats") {
        handle.stats.get(m.req)?.(m.stats);
        handle.stats.delete(m.req);
      } else if (m.t === "gather") {
        void gatherStats().then((stats) =>
          worker.postMessage({ t: "gathered", req: m.req, stats } satisfies ToWorker)
        );
      } else if (m.t === "explained") {
        handle.explained.get(m.req)?.(m.matches);
        handle.explained.delete(m.req);
      } else if (m.t === "gatherExplain") {
        void gatherExplain(m.subject).then((matches) =>
          worker.postMessage({ t: "explainedAll", req: m.req, matches } satisfies ToWorker)
        );
      } else if (m.t === "closed") handle.closed.resolve();
      else if (m.t === "log") emitWorkerLog(m.record);
    };
    worker.onerror = (e) => {
      e.preventDefault();
      log.error("Dispatch worker {id} failed: {message}", { id: init.id, message: e.message });
      handle.ready.reject(new Error(`Dispatch worker ${init.id} failed: ${e.message}`));
      handle.closed.resolve();
    };
    worker.postMessage(init, init.peers.map((p) => p.port));
    handles.push(handle);
  }
  try {
    await withTimeout(
      Promise.all(handles.map((h) => h.ready.promise)),
      START_TIMEOUT_MS,
      "Dispatch workers did not start in time",
    );
  } catch (error) {
    for (const h of handles) h.worker.terminate();
    throw error;
  }
  return {
    gatherStats,
    gatherExplain,
    async close(): Promise<void> {
      for (const h of handles) h.worker.postMessage({ t: "close" } satisfies ToWorker);
      await withTimeout(
        Promise.all(handles.map((h) => h.closed.promise)),
        CLOSE_TIMEOUT_MS,
        "Dispatch workers did not close in time",
      ).catch((error) => log.warn("{message}", { message: (error as Error).message }));
      for (const h of handles) h.worker.terminate();
    },
  };
}

function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    promise,
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(message)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}
