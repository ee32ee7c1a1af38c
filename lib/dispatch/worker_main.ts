/**
 * The entry point of a dispatch worker: a full event-server node on the
 * shared port (`reusePort`), joined to the other nodes by MessagePorts.
 */

/// <reference lib="deno.worker" />

import { EventServer } from "../server/event_server.ts";
import { DispatchNode } from "./node.ts";
import type { FromWorker, ToWorker } from "./messages.ts";

let node: DispatchNode | undefined;

function send(message: FromWorker): void {
  self.postMessage(message);
}

self.onmessage = async (e: MessageEvent<ToWorker>) => {
  const message = e.data;
  switch (message.t) {
    case "init": {
      try {
        const { options, port } = message;
        const listener = Deno.listen({ hostname: options.hostname, port, reusePort: true });
        const server = new EventServer(listener, { ...options, port });
        node = new DispatchNode(message.id, server);
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
