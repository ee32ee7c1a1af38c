/**
 * Unsubscribing removes exactly what it names and stops what it stops: one
 * handle never takes another with it (checked through `es serve` and `es
 * stats`), and once an unsubscribe resolves, events that matched only what was
 * removed are not handed to the application, not even those already received
 * (docs/CLIENT.md).
 */

import { assert, assertEquals } from "./_assert.ts";
import { delay, runEs, spawnServe, startTestServer, waitUntil } from "./_helpers.ts";
import { CollectingSubscriber } from "./_collect.ts";
import { connect, type Event, Publisher } from "../lib/client/mod.ts";
import type { EventServer } from "../lib/server/event_server.ts";

/** What `es stats --json` lists for each subscriber: its subjects and /patterns/. */
async function listedSubscriptions(uri: string): Promise<string[][]> {
  const r = await runEs(["stats", "--es", uri, "--json"]);
  assertEquals(r.code, 0, r.stderr);
  const stats = JSON.parse(r.stdout) as {
    subscribers: { subjects: string[]; patterns: string[] }[];
  };
  return stats.subscribers.map((s) => [...s.subjects, ...s.patterns.map((p) => `/${p}/`)]);
}

/** The next event of `it`, or a failure after a generous safety timeout. */
async function nextOf(it: AsyncIterator<Event>): Promise<Event> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error("no event within 15 s")), 15_000);
  });
  try {
    const next = await Promise.race([it.next(), timeout]);
    assert(!next.done, "the subscription ended");
    return next.value;
  } finally {
    clearTimeout(timer);
  }
}

Deno.test("connect(): unsubscribing the pattern Alerts leaves the exact subscription alerts receiving and listed by es stats", async () => {
  await using server = await spawnServe(["-N", "--no-http"]);
  await using client = await connect({ esURI: server.uri });
  const exact = await client.subscribe("alerts");
  const pattern = await client.subscribeMatch("Alerts");
  await pattern.unsubscribe();
  await using pub = await connect({ esURI: server.uri });
  await pub.publish("alerts", "fire");
  assertEquals((await nextOf(exact[Symbol.asyncIterator]())).msg, "fire");
  assertEquals(await listedSubscriptions(server.uri), [["alerts"]]);
  // And the other way round: the exact one goes, the pattern stays.
  const again = await client.subscribeMatch("Alerts");
  await exact.unsubscribe();
  await pub.publish("ALERTS", "smoke");
  assertEquals((await nextOf(again[Symbol.asyncIterator]())).msg, "smoke");
  assertEquals(await listedSubscriptions(server.uri), [["/Alerts/"]]);
});

Deno.test("Subscriber.unsubscribe(ALERTS) removes the exact subject alerts but not the pattern Alerts", async () => {
  await using server = await spawnServe(["-N", "--no-http"]);
  const sub = new CollectingSubscriber({ esURI: server.uri });
  await sub.subscribe("alerts");
  await sub.subscribeMatch("Alerts");
  // Exact subjects compare case-insensitively; patterns by their text, which differs here.
  await sub.unsubscribe("ALERTS");
  assertEquals(await listedSubscriptions(server.uri), [["/Alerts/"]]);
  sub.start();
  await using pub = new Publisher({ esURI: server.uri });
  await pub.publish("alerts", "fire");
  assertEquals((await sub.waitFor(1)).map((e) => e.msg), ["fire"]);
  await sub.stop();
});

/** Publishes `count` events on `subject` then one on `marker`, and waits for the server to send them all. */
async function publishBurst(
  server: EventServer,
  subject: string,
  count: number,
  marker: string,
): Promise<void> {
  await using pub = new Publisher({ esURI: server.uri });
  for (let i = 0; i < count; i++) await pub.publish(subject, i);
  await pub.publish(marker, "marker");
  await pub.flush();
}

Deno.test("Subscription.unsubscribe() inside for-await: the loop yields nothing more, with 100 events buffered", async () => {
  await using server = await startTestServer();
  await using client = await connect({ esURI: server.uri });
  const burst = await client.subscribe("burst");
  const marker = await client.subscribe("marker");
  await publishBurst(server, "burst", 101, "marker");
  // One connection, one publisher, in order: the marker's arrival means the 101 are here.
  await nextOf(marker[Symbol.asyncIterator]());
  const seen: unknown[] = [];
  for await (const event of burst) {
    seen.push(event.msg);
    if (seen.length === 1) await burst.unsubscribe();
    if (seen.length > 200) break; // bounded, whatever happens
  }
  assertEquals(seen, [0]);
  // The other subscription of the client is untouched.
  await using pub = new Publisher({ esURI: server.uri });
  await pub.publish("marker", "still");
  assertEquals((await nextOf(marker[Symbol.asyncIterator]())).msg, "still");
});

/** Records events; the first on `drop` waits in event() until released. */
class GatedSubscriber extends CollectingSubscriber {
  readonly gate = Promise.withResolvers<void>();
  #held = false;
  held = Promise.withResolvers<void>();

  override async event(event: Event): Promise<void> {
    super.event(event);
    if (event.subject === "drop" && !this.#held) {
      this.#held = true;
      this.held.resolve();
      await this.gate.promise;
    }
  }
}

Deno.test("Subscriber.unsubscribe(): once it resolves, event() is not called for received events that matched only what was removed", async () => {
  await using server = await startTestServer();
  const sub = new GatedSubscriber({ esURI: server.uri, threading: false });
  await sub.subscribe(["drop", "shared", "keep"]);
  await sub.subscribeMatch("^shared");
  sub.start();
  await using pub = new Publisher({ esURI: server.uri });
  for (let i = 0; i < 50; i++) await pub.publish(["drop", "shared"], i);
  await pub.publish("keep", "end");
  await pub.flush();
  await sub.held.promise;
  // The server has sent all 101 events: they are in the client's buffer (or on their way).
  await waitUntil(async () => (await server.stats()).subscribers[0]?.queueDepth === 0);
  await delay(50);
  // Removes the exact subjects drop and shared; the pattern ^shared still matches shared.
  await sub.unsubscribe(["drop", "shared"]);
  sub.gate.resolve();
  const events = await sub.waitFor(52);
  const count = (subject: string) => events.filter((e) => e.subject === subject).length;
  assertEquals([count("drop"), count("shared"), count("keep")], [1, 50, 1]);
  await sub.stop();
});
