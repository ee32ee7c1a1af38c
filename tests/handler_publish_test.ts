/**
 * A handler may `publish()` and `await flush()` without deadlock (SPEC §8,
 * Liveness), through the real `es serve` in block mode: a `connect()` loop
 * relaying on its own connection, and a `Subscriber` relaying through its own
 * `Publisher` with a queue of 8. Every event gets through and the outside
 * publisher's flush completes.
 */

import { assertEquals } from "./_assert.ts";
import { delay, spawnServe } from "./_helpers.ts";
import { connect, type Event, Publisher, Subscriber } from "../lib/client/mod.ts";
import type { SubscriberOptions } from "../lib/client/subscriber.ts";

const KIB = new Uint8Array(1024);

/** `promise`'s value, or `late()` (what was reached so far) after a generous safety timeout. */
async function within<T>(promise: Promise<T>, late: () => T, ms = 30_000): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<T>((resolve) => timer = setTimeout(() => resolve(late()), ms));
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Publishes `count` × 1 KiB on `in` and flushes; resolves with how many were
 * handed over (and why it stopped, if it failed). Never rejects.
 */
function publishInput(
  uri: string,
  count: number,
): { done: Promise<number | string>; sent: () => number } {
  let sent = 0;
  const done = (async () => {
    await using pub = new Publisher({ esURI: uri });
    for (; sent < count; sent++) await pub.publish("in", KIB);
    await pub.flush();
    return sent;
  })().catch((error: Error) => `${sent}, then ${error.message}`);
  return { done, sent: () => sent };
}

/** Counts events of a subscription until `count`; never rejects. */
async function countUpTo(
  sub: AsyncIterable<Event>,
  count: number,
  seen: { n: number },
): Promise<number | string> {
  try {
    for await (const _ of sub) if (++seen.n >= count) break;
    return seen.n;
  } catch (error) {
    return `${seen.n}, then ${(error as Error).message}`;
  }
}

for (const outSubscriber of ["none", "another client", "the relay itself"] as const) {
  Deno.test(`connect(): a loop on in that publishes on out and awaits flush() on its own client relays 6,000 × 1 KiB (out subscribed by ${outSubscriber})`, async () => {
    const TOTAL = 6000;
    await using server = await spawnServe(["-N", "--no-http"]);
    await using relay = await connect({ esURI: server.uri });
    await using reader = await connect({ esURI: server.uri });
    const input = await relay.subscribe("in");
    const outSub = outSubscriber === "another client"
      ? await reader.subscribe("out")
      : outSubscriber === "the relay itself"
      ? await relay.subscribe("out")
      : undefined;
    const relayed = { n: 0 };
    const relaying = (async (): Promise<number | string> => {
      for await (const event of input) {
        await relay.publish("out", event.msg);
        await relay.flush();
        if (++relayed.n >= TOTAL) break;
      }
      return relayed.n;
    })().catch((error: Error) => `${relayed.n}, then ${error.message}`);
    const read = { n: 0 };
    const reading = outSub
      ? countUpTo(outSub, TOTAL, read)
      : Promise.resolve<number | string>(TOTAL);
    const input$ = publishInput(server.uri, TOTAL);
    const got = {
      published: await within(input$.done, input$.sent),
      relayed: await within(relaying, () => relayed.n),
      read: await within(reading, () => read.n),
    };
    assertEquals(got, { published: TOTAL, relayed: TOTAL, read: TOTAL });
  });
}

/** Relays each event on `in` to `out` through its own Publisher, awaiting flush() each time. */
class Relay extends Subscriber {
  readonly publisher: Publisher;
  relayed = 0;

  constructor(options: SubscriberOptions) {
    super(options);
    this.publisher = new Publisher(options);
  }

  override async event(event: Event): Promise<void> {
    await this.publisher.publish("out", event.msg);
    await this.publisher.flush();
    this.relayed++;
  }
}

/*
 * Not here: a relay that also subscribes to `out` through its Subscriber. Its
 * handlers wait for flushes whose events wait for room in its own queue, which
 * drains only as its handlers finish: a genuine cycle once the client's
 * flow-control window is full (docs/CLIENT.md). The slow-consumer timeout is
 * what breaks such a cycle.
 */
for (const outSubscriber of ["none", "another client"] as const) {
  Deno.test(`Subscriber relaying through its own Publisher with await flush() and --queue-size 8 relays 6,000 × 1 KiB (out subscribed by ${outSubscriber})`, async () => {
    const TOTAL = 6000;
    // Across nodes, with the connections placed on purpose: tests/flush_across_nodes_test.ts.
    await using server = await spawnServe(["-N", "--no-http", "--queue-size", "8"]);
    await using reader = outSubscriber === "none"
      ? undefined
      : await connect({ esURI: server.uri });
    const outSub = await reader?.subscribe("out");
    const relay = new Relay({ esURI: server.uri });
    await relay.subscribe("in");
    const listening = relay.listen().catch((error: Error) => `listen: ${error.message}`);
    const read = { n: 0 };
    const reading = outSub
      ? countUpTo(outSub, TOTAL, read)
      : Promise.resolve<number | string>(TOTAL);
    const input = publishInput(server.uri, TOTAL);
    const relayedAll = (async () => {
      while (relay.relayed < TOTAL) await delay(10);
      return relay.relayed;
    })();
    const got = {
      published: await within(input.done, input.sent),
      relayed: await within(relayedAll, () => relay.relayed),
      read: await within(reading, () => read.n),
    };
    relay.abort();
    await listening;
    await relay.publisher.close();
    assertEquals(got, { published: TOTAL, relayed: TOTAL, read: TOTAL });
  });
}
