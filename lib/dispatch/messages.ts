/** Messages between the main thread and a dispatch worker. */

import type { NodeOptions } from "../node/options.ts";
import type { ServerStats } from "../node/stats.ts";
import type { ExplainMatch } from "../node/explain.ts";
import type { PortableLogRecord } from "./worker_logging.ts";

/** Main thread → worker. */
export type ToWorker =
  | {
    t: "init";
    /** This worker's node number (1 and up; the main thread is 0). */
    id: number;
    options: NodeOptions;
    /** The port every node listens on with `reusePort`. */
    port: number;
    peers: { id: number; port: MessagePort }[];
    /** The server-wide open-connection counter (shared memory). */
    connectionCount: Int32Array;
  }
  | { t: "stats"; req: number }
  | { t: "gathered"; req: number; stats: ServerStats }
  | { t: "explain"; req: number; subject: string }
  | { t: "explainedAll"; req: number; matches: ExplainMatch[] }
  | { t: "close" };

/** Worker → main thread. */
export type FromWorker =
  | { t: "ready" }
  | { t: "failed"; message: string }
  | { t: "stats"; req: number; stats: ServerStats }
  /** A client on the worker asked for STATS: the main thread gathers them from all. */
  | { t: "gather"; req: number }
  | { t: "explained"; req: number; matches: ExplainMatch[] }
  /** A client on the worker asked for EXPLAIN: the main thread asks every node. */
  | { t: "gatherExplain"; req: number; subject: string }
  | { t: "closed" }
  /** A log record, emitted by the main thread's logging. */
  | { t: "log"; record: PortableLogRecord };
