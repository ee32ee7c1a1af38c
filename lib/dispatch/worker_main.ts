/**
 * The entry point of a dispatch worker: a whole event node on the shared
 * port (`reusePort`), joined to the other nodes by MessagePorts.
 */

/// <reference lib="deno.worker" />

import { EventNode } from "../node/event_node.ts";
import type { ServerStats } from "../node/stats.ts";
import type { ExplainMatch } from "../node/explain.ts";
import { listenTcp } from "../transport/tcp_listen.ts";
import { PeerBackplane } from "./backplane.ts";
import { joinCluster } from "../cluster/mod.ts";
import { formatHost } from "../transport/tcp.ts";
import type { FromWorker, ToWorker } from "./messages.ts";
import { forwardWorkerLogs } from "./worker_logging.ts";

let node: EventNode | undefined;
let nextGather = 1;
const gathering = new Map<number, (stats: ServerStats) => void>();
const explaining = new Map<number, (matches: ExplainMatch[]) => void>();

/** EXPLAIN from a client here answers for the whole server: the main thread asks every node. */
function explainFromMain(subject: string): Promise<ExplainMatch[]> {
  return new Promise((resolve) => {
    const req = nextGather++;
    explaining.set(req, resolve);
    send({ t: "gatherExplain", req, subject });
  });
}

function send(message: FromWorker): void {
  self.postMessage(message);
}

/** STATS from a client here reports the whole server: the main thread merges every node's. */
function gatherFromMain(): Promise<ServerStats> {
  return new Promise((resolve) => {
    const req = nextGather++;
    gathering.set(req, resolve);
    send({ t: "gather", req });
  });
}

forwardWorkerLogs((record) => send({ t: "log", record }));

self.onmessage = async (e: MessageEvent<ToWorker>) => {
  const message = e.data;
  switch (message.t) {
    case "init": {
      try {
        const { options, port, connectionCount } = message;
        const listener = listenTcp(options.hostname, port, options.tls, true);
        const uri = `${options.tls ? "es+tls" : "es"}://${formatHost(options.hostname)}:${port}`;
        const peers = options.cluster.length > 0 ? undefined : new PeerBackplane();
        const backplane = peers ?? await joinCluster(options.cluster, uri);
        node = new EventNode({ ...options, port }, {
          listener,
          backplane,
          connectionCount,
          gatherStats: gatherFromMain,
          gatherExplain: explainFromMain,
        });
        for (const peer of message.peers) peers?.addPeer(peer.id, peer.port);
        send({ t: "ready" });
      } catch (error) {
        send({ t: "failed", message: (error as Error).message });
      }
      return;
    }
    case "stats":
      if (node) send({ t: "stats", req: message.req, stats: await node.stats() });
      return;
    case "gathered":
      gathering.get(message.req)?.(message.stats);
      gathering.delete(message.req);
      return;
    case "explain":
      if (node) send({ t: "explained", req: message.req, matches: node.explain(message.subject) });
      return;
    case "explainedAll":
      explaining.get(message.req)?.(message.matches);
      explaining.delete(message.req);
      return;
    case "close":
      await node?.close();
      send({ t: "closed" });
      self.close();
      return;
  }
};
