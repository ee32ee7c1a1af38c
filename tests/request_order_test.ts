/**
 * Requests on one connection take effect in the order sent (SPEC §1,
 * Ordering), through the real `es serve`: a pattern subscription sent before
 * another request is in force for it, however its pattern is checked.
 */

import { assert, assertEquals } from "./_assert.ts";
import { delay, spawnServe } from "./_helpers.ts";
import { CollectingSubscriber } from "./_collect.ts";
import { connect, type Event, Publisher } from "../lib/client/mod.ts";
import type { SubscriberOptions } from "../lib/client/subscriber.ts";

/** Subscribes in its constructor, un-awaited, as the original's users did. */
class ConstructorSubscriber extends CollectingSubscriber {
  constructor(options: SubscriberOptions) {
    super(options);
    void this.subscribe("ctor.x");
    void this.subscribeMatch("^ctor\\.m\\.");
  }
}

Deno.test("A pattern subscribed in a constructor after an exact subject is in force once the exact one delivers", async () => {
  await using server = await spawnServe(["-N", "--no-http"]);
  const sub = new ConstructorSubscriber({ esURI: server.uri }).start();
  await using pub = new Publisher({ esURI: server.uri });
  // Publish on the exact subject until one is delivered: both subscriptions were sent by then.
  for (let i = 0; i < 500 && sub.events.length === 0; i++) {
    await pub.publish("ctor.x", "probe");
    await pub.flush();
    await delay(10);
  }
  assert(sub.events.length > 0, "no event on ctor.x arrived");
  await pub.publish("ctor.m.1", "after");
  // Events of one publisher arrive in order: once "end" is in, "after" came before it or never.
  await pub.publish("ctor.x", "end");
  await pub.flush();
  await waitForMessage(sub, "end");
  assertEquals(sub.events.filter((e) => e.subject === "ctor.m.1").map((e) => e.msg), ["after"]);
  await sub.stop();
});

Deno.test("connect(): a pattern subscription sent un-awaited is in force for the publish sent after it", async () => {
  await using server = await spawnServe(["-N", "--no-http"]);
  await using client = await connect({ esURI: server.uri });
  // Both requests leave at once: the server must register the pattern before it routes the publish.
  const subscribing = client.subscribeMatch("^self\\.");
  const publishing = client.publish("self.1", 1);
  const sub = await subscribing;
  await publishing;
  // Published once the pattern is surely in force: the first event is "self.1" unless it was lost.
  await client.publish("self.2", 2);
  assertEquals((await firstOf(sub)).subject, "self.1");
});

/** The first event of `sub`, or a failure after a generous safety timeout. */
async function firstOf(sub: AsyncIterable<Event>): Promise<Event> {
  const timeout = new AbortController();
  const timer = setTimeout(() => timeout.abort(), 15_000);
  try {
    const it = sub[Symbol.asyncIterator]();
    const next = await Promise.race([
      it.next(),
      new Promise<never>((_, reject) =>
        timeout.signal.addEventListener("abort", () => reject(new Error("no event within 15 s")))
      ),
    ]);
    assert(!next.done, "the subscription ended");
    return next.value;
  } finally {
    clearTimeout(timer);
  }
}

async function waitForMessage(sub: CollectingSubscriber, msg: unknown): Promise<void> {
  for (let i = 0; i < 1000 && !sub.events.some((e) => e.msg === msg); i++) await delay(10);
  assert(sub.events.some((e) => e.msg === msg), `no event with message ${JSON.stringify(msg)}`);
}
