/**
 * The entry point of a dispatch worker: a full event-server node on the
 * shared port (`reusePort`), joined to the other nodes by MessagePorts.
 */

/// <reference lib="deno.worker" />

import { EventServer } from "../server/event_server.ts";
import { listenMaybeTls } from "../server/tls.ts";
import { DispatchNode } from "./node.ts";
import type { FromWorker, ToWorker } from "./messages.ts";
import type { ServerStats } from "../server/stats.ts";
import { forwardWorkerLogs } from "./worker_logging.ts";

let node: DispatchNode | undefined;
let nextGather = 1;
const gathering = new Map<number, (stats: ServerStats) => void>();

function send(message: FromWorker): void {
  self.postMessage(message);
}

forwardWorkerLogs((record) => send({ t: "log", record }));

self.onmessage = async (e: MessageEvent<ToWorker>) => {
  const message = e.data;
  switch (message.t) {
    case "init": {
      try {
        const { options, port, connectionCount } = message;
        const listener = listenMaybeTls(options.hostname, port, options.tls, true);
        const server = new EventServer(listener, { ...options, port }, { connectionCount });
        node = new DispatchNode(message.id, server);
        // STATS from a client here reports the whole server, as the main thread merges it.
        server.context.stats = () =>
          new Promise((resolve) => {
            const req = nextGather++;
            gathering.set(req, resolve);
            send({ t: "gather", req });
          });
        for (const peer of message.peers) node.addPeer(peer.id, peer.port);
        send({ t: "ready" });
      } catch (error) {
        send({ t: "failed", message: (error as Error).message });
      }
      return;
    }
    case "stats":
      if (node) send({ t: "stats", req: message.req, stats: await node.server.stats() });
      return;
    case "gathered":
      gathering.get(message.req)?.(message.stats);
      gathering.delete(message.req);
      return;
    case "close":
      if (node) {
        await node.server.close();
        node.close();
      }
      send({ t: "closed" });
      self.close();
      return;
  }
};
