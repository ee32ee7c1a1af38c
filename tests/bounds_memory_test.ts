/**
 * Memory bounds of the real `es serve` process (issue 12, items 2 to 4):
 * what one client can make the server hold, measured as the growth of the
 * child's RSS, against the figures the unbounded server reached.
 */

import { assert, assertEquals } from "./_assert.ts";
import { delay, spawnServe, waitUntil } from "./_helpers.ts";
import { RawSubscriber } from "./_raw_subscriber.ts";
import { CountingPeer, pubFrame, requestFrame, rssKiB, subFrame } from "./_bounds.ts";
import { fetchStats } from "../cli/stats.ts";
import { FrameType } from "../lib/protocol/constants.ts";
import type { SubscriberStats } from "../lib/node/stats.ts";

const KiB = 1024;

/** The statistics of the subscriber named `client`. */
async function subscriber(uri: string, client: string): Promise<SubscriberStats> {
  const stats = await fetchStats({ esURI: uri, reconnect: false });
  const found = stats.subscribers.find((s) => s.client === client);
  if (!found) throw new Error(`No subscriber named ${client}`);
  return found;
}

/**
 * A counting peer on another node than the subscriber named `other` (when
 * there are several nodes), so events cross the link between them.
 */
async function peerAwayFrom(uri: string, other: string): Promise<CountingPeer> {
  const stats = await fetchStats({ esURI: uri, reconnect: false });
  const target = stats.subscribers.find((s) => s.client === other)?.worker ?? 0;
  for (let attempt = 0; attempt < 32; attempt++) {
    const peer = await CountingPeer.open(uri, [], `probe-${attempt}`);
    await peer.write(subFrame(1, 1, [`probe.${attempt}`]));
    await peer.waitForCount(FrameType.OK, 1);
    const node = (await subscriber(uri, `probe-${attempt}`)).worker ?? 0;
    if (stats.workers === 1 || node !== target) return peer;
    await peer[Symbol.asyncDispose]();
  }
  throw new Error("No connection landed on another node in 32 attempts");
}

/** Waits until the server's RSS stops moving (two samples 300 ms apart within 1 MiB). */
async function settledRss(pid: number): Promise<number> {
  let last = await rssKiB(pid);
  for (let i = 0; i < 20; i++) {
    await delay(300);
    const now = await rssKiB(pid);
    if (Math.abs(now - last) < 1024) return now;
    last = now;
  }
  return last;
}

for (const workers of [1, 2]) {
  Deno.test(`one PUB on 2,000 subjects of 500 KiB to a frozen queue of 10 grows the server by one queue (--workers ${workers})`, async () => {
    await using server = await spawnServe(["-N", "--no-http", "--workers", String(workers)]);
    const distinct = Array.from({ length: 2000 }, (_, i) => `d.${i}`);
    // Never reads past its first event: the server keeps the rest.
    await using _frozen = await RawSubscriber.subscribe(server.uri, ["a", ...distinct], {
      clientName: "frozen",
      queueSize: 10,
      windowEvents: 1,
    });
    // With two nodes, the events cross the link between them.
    await using publisher = await peerAwayFrom(server.uri, "frozen");
    const payload = new Uint8Array(500 * KiB);
    const before = await settledRss(server.child.pid);

    // The same subject 2,000 times is one event.
    await publisher.write(pubFrame(Array(2000).fill("a"), payload));
    await publisher.write(requestFrame(FrameType.FLUSH, 2));
    await publisher.waitForCount(FrameType.OK, 2);
    const once = await subscriber(server.uri, "frozen");
    assertEquals(once.delivered + once.queueDepth, 1);

    // 2,000 distinct subjects stop at the queue's capacity (the publish is held there).
    await publisher.write(pubFrame(distinct, payload));
    await waitUntil(async () => (await subscriber(server.uri, "frozen")).queueDepth >= 10, 20_000);
    await delay(500);
    const held = await subscriber(server.uri, "frozen");
    const grown = (await settledRss(server.child.pid)) - before;
    // The queue's 10 events; across nodes, plus at most the link's window (2 MiB, 4 events).
    assert(held.queueDepth <= (workers === 1 ? 10 : 10 + 5), `queue of ${held.queueDepth} events`);
    assert(grown < 48 * KiB, `RSS grew by ${grown} KiB (was +981 MiB before the bound)`);
    assertEquals(publisher.count(FrameType.OK), 2, "the publisher is still held");
  });
}
