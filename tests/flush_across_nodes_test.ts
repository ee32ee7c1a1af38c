/**
 * A `Subscriber` relaying through its own `Publisher` with `await flush()`,
 * with the three connections placed on purpose across the dispatch nodes of a
 * real `es serve --workers 2`: the relay's subscriber on one node, the outside
 * publisher and the relay's publisher on the other. When a FLUSH waited for
 * every event its node had forwarded, the outside publisher's included (which
 * wait for room in the relay's queue, which drains only as the relay's
 * handlers finish), the relay stopped within its first events (the report saw
 * 16, one per handler in flight) and held the outside publisher. Where the
 * kernel puts each connection (`reusePort`) is chance, so a test that does not
 * place them met this one time in four; this one meets it every time.
 */

import { assert, assertEquals } from "./_assert.ts";
import { delay, spawnServe } from "./_helpers.ts";
import { openEventServer } from "../lib/client/locate.ts";
import type { ClientConnection } from "../lib/client/connection.ts";
import { type Event, Publisher, Subscriber } from "../lib/client/mod.ts";
import { FrameType } from "../lib/protocol/constants.ts";

/** Connections per dispatch node, as one long-lived connection sees them (its own included). */
class NodeWatcher implements AsyncDisposable {
  #connection: ClientConnection;

  private constructor(connection: ClientConnection) {
    this.#connection = connection;
  }

  static async open(uri: string): Promise<NodeWatcher> {
    return new NodeWatcher(await openEventServer({ esURI: uri }, "es-test-node-watcher"));
  }

  async counts(): Promise<number[]> {
    const body = await this.#connection.bodyRequest(FrameType.STATS);
    const counts = JSON.parse(new TextDecoder().decode(body)).workerConnections as number[];
    assert(Array.isArray(counts) && counts.length === 2, "es serve --workers 2 reports 2 nodes");
    return counts;
  }

  /** Counts once they add up to `total` (connections closed a moment ago are gone). */
  async settledAt(total: number): Promise<number[]> {
    for (let i = 0; i < 500; i++) {
      const counts = await this.counts();
      if (counts[0]! + counts[1]! === total) return counts;
      await delay(10);
    }
    throw new Error(`The node counts never added up to ${total}`);
  }

  /**
   * Opens a connection with `open` until it lands on a node `wanted` accepts
   * (closing the misplaced ones); returns it and its node.
   */
  async place<T>(
    open: () => Promise<T>,
    close: (value: T) => Promise<void>,
    wanted: (node: number) => boolean,
  ): Promise<{ value: T; node: number }> {
    for (let attempt = 0; attempt < 40; attempt++) {
      const before = await this.counts();
      const total = before[0]! + before[1]!;
      const value = await open();
      const after = await this.settledAt(total + 1);
      const node = after[0]! > before[0]! ? 0 : 1;
      if (wanted(node)) return { value, node };
      await close(value);
      await this.settledAt(total);
    }
    throw new Error("No connection landed on the wanted node in 40 attempts");
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.#connection.close();
  }
}

/** Relays each event to `out` through `publisher`, awaiting flush() each time. */
class Relay extends Subscriber {
  publisher: Publisher | undefined;
  relayed = 0;

  override async event(event: Event): Promise<void> {
    await this.publisher!.publish("out", event.msg);
    await this.publisher!.flush();
    this.relayed++;
  }
}

Deno.test({
  name:
    "Subscriber relaying through its own Publisher with await flush(), its publishers on the other node, relays 6,000 × 1 KiB",
  async fn() {
    const TOTAL = 6000;
    await using server = await spawnServe([
      "-N",
      "--no-http",
      "--workers",
      "2",
      "--queue-size",
      "8",
    ]);
    await using watcher = await NodeWatcher.open(server.uri);
    const relay = new Relay({ esURI: server.uri });
    const { node: relayNode } = await watcher.place(
      () => relay.subscribe("in").then(() => relay),
      () => Promise.reject(new Error("unused")),
      () => true,
    );
    const connected = async () => {
      const pub = new Publisher({ esURI: server.uri });
      await pub.flush();
      return pub;
    };
    const elsewhere = (node: number) => node !== relayNode;
    const { value: outside } = await watcher.place(connected, (p) => p.close(), elsewhere);
    const placed = await watcher.place(connected, (p) => p.close(), elsewhere);
    relay.publisher = placed.value;
    const listening = relay.listen().catch((error: Error) => `listen: ${error.message}`);

    let sent = 0;
    const publishing = (async () => {
      for (; sent < TOTAL; sent++) await outside.publish("in", new Uint8Array(1024));
      await outside.flush();
      return sent;
    })().catch((error: Error) => `${sent}, then ${error.message}`);
    let timer: ReturnType<typeof setTimeout> | undefined; // a safety net, so that a failure ends
    const stuck = new Promise<string>((resolve) => {
      timer = setTimeout(() => resolve(`stuck: sent ${sent}, relayed ${relay.relayed}`), 30_000);
    });
    const done = await Promise.race([publishing, stuck]);
    clearTimeout(timer);
    for (let i = 0; i < 3000 && relay.relayed < TOTAL; i++) await delay(10);
    const got = { published: done, relayed: relay.relayed };
    // Closing the publishers first ends flushes that never would, and with them the handlers.
    relay.abort();
    await relay.publisher.close();
    await outside.close();
    await listening;
    assertEquals(got, { published: TOTAL, relayed: TOTAL });
  },
});
