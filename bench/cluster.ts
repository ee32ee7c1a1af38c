/**
 * The cluster as a system under test: a nats-server and two `es serve --cluster`
 * nodes on it, publishers on node A and subscribers on node B, so every event
 * crosses NATS (docs/CLUSTER.md). It is ready once an event published on A
 * reaches a subscriber on B: both nodes are connected to NATS, and NATS has B's
 * interest.
 */

import { open } from "./clients.ts";
import { type ServerProcess, startEs, startNats } from "./servers.ts";
import type { Deployment } from "./systems.ts";

const READY_TIMEOUT_MS = 30_000;
const PROBE_EVERY_MS = 100;
const PROBE_SUBJECT = "bench.cluster.probe";

/** Starts nats-server, then nodes A and B on it, and waits until an event crosses. */
export async function startCluster(tempDir: string): Promise<Deployment> {
  const nats = await startNats();
  const started: ServerProcess[] = [];
  const stop = async () => {
    await Promise.all(started.map((s) => s.stop()));
    await nats.stop();
  };
  try {
    const cluster = ["--cluster", nats.target.url];
    started.push(await startEs(cluster, tempDir));
    started.push(await startEs(cluster, tempDir));
    const [a, b] = started as [ServerProcess, ServerProcess];
    await crossing(a, b);
    return {
      publishTo: a.target,
      subscribeTo: b.target,
      pids: [a.pid, b.pid, nats.pid],
      routes: true,
      versions: [`${a.version} (2 nodes)`, nats.version],
      tail: () => `node A:\n${a.tail()}\nnode B:\n${b.tail()}\nnats-server:\n${nats.tail()}`,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/**
 * Subscribes on B and publishes probes on A until one arrives. A node joins NATS
 * in the background after its banner, and an event published before NATS has
 * B's subscription is gone (at most once): without this wait the workload's
 * first events would be lost.
 */
async function crossing(a: ServerProcess, b: ServerProcess): Promise<void> {
  const subscriber = await open(b.target);
  const publisher = await open(a.target);
  try {
    let landed = false;
    await subscriber.subscribe([PROBE_SUBJECT], () => landed = true);
    const deadline = performance.now() + READY_TIMEOUT_MS;
    while (!landed) {
      if (performance.now() > deadline) {
        throw new Error(
          `No event crossed from node A to node B in ${READY_TIMEOUT_MS} ms:\n` +
            `node A:\n${a.tail()}\nnode B:\n${b.tail()}`,
        );
      }
      publisher.publish(PROBE_SUBJECT, new Uint8Array(64));
      await publisher.flush();
      await new Promise((r) => setTimeout(r, PROBE_EVERY_MS));
    }
  } finally {
    await Promise.allSettled([subscriber.close(), publisher.close()]);
  }
}
