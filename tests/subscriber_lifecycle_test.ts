/**
 * End-to-end tests of the Subscriber and connect() lifecycles beyond SPEC §1:
 * handler errors, close() and abort() at any moment, subscriptions made from
 * a constructor, bounded concurrency, and streams ending with the connection.
 */

import { assert, assertEquals, assertRejects } from "./_assert.ts";
import { delay, startTestServer, waitUntil } from "./_helpers.ts";
import { CollectingSubscriber, deadPort } from "./_collect.ts";
import { connect } from "../lib/client/client.ts";
import { Publisher } from "../lib/client/publisher.ts";
import { Subscriber } from "../lib/client/subscriber.ts";
import type { Event } from "../lib/client/event.ts";
import { ConnectionClosedError, ProtocolError } from "../lib/errors.ts";

/** Runs `listen()` with a safety timeout that closes the subscriber. */
async function listenBounded(sub: Subscriber, timeoutMs = 10_000): Promise<void> {
  const timer = setTimeout(() => sub.close(), timeoutMs);
  try {
    await sub.listen();
  } finally {
    clearTimeout(timer);
  }
}

Deno.test("Subscribing un-awaited in a constructor works like the original (README style)", async () => {
  await using server = await startTestServer();
  class Quotes extends Subscriber {
    got: Event[] = [];
    constructor() {
      super({ esURI: server.uri });
      this.subscribe(["STOCKQUOTE.IBM"]);
      this.subscribeMatch("^STOCKQUOTE\\.S");
    }
    override event(event: Event): void {
      this.got.push(event);
      if (this.got.length === 2) this.abort();
    }
  }
  const sub = new Quotes();
  const listening = listenBounded(sub);
  await using pub = new Publisher({ esURI: server.uri });
  await waitUntil(async () => (await server.stats()).subscribers.length === 1, 5000, "subscribe");
  await waitUntil(async () => (await server.stats()).patterns === 1, 5000, "subscribeMatch");
  await pub.publish("STOCKQUOTE.HP", 0);
  await pub.publish("stockquote.ibm", 1);
  await pub.publish("STOCKQUOTE.SUN", 2);
  await listening;
  assertEquals(sub.got.map((e) => e.msg), [1, 2]);
});

Deno.test("An error thrown by event() makes listen() reject with it (threading off)", async () => {
  await using server = await startTestServer();
  class Failing extends Subscriber {
    override event(_event: Event): void {
      throw new Error("handler broke");
    }
  }
  const sub = new Failing({ esURI: server.uri, threading: false });
  await sub.subscribe("x");
  await using pub = new Publisher({ esURI: server.uri });
  await pub.publish("x", 1);
  await assertRejects(listenBounded(sub), /handler broke/);
  await sub.close();
});

Deno.test("An error thrown by an async event() makes listen() reject with it (threading on)", async () => {
  await using server = await startTestServer();
  class Failing extends Subscriber {
    override async event(_event: Event): Promise<void> {
      await delay(1);
      throw new Error("async handler broke");
    }
  }
  const sub = new Failing({ esURI: server.uri });
  await sub.subscribe("x");
  await using pub = new Publisher({ esURI: server.uri });
  await pub.publish("x", 1);
  await assertRejects(listenBounded(sub), /async handler broke/);
  await sub.close();
});

Deno.test("The default event() is loud: listen() rejects when it is not overridden", async () => {
  await using server = await startTestServer();
  const sub = new Subscriber({ esURI: server.uri });
  await sub.subscribe("x");
  await using pub = new Publisher({ esURI: server.uri });
  await pub.publish("x", 1);
  await assertRejects(listenBounded(sub), /not overridden/);
  await sub.close();
});

Deno.test("close() while listen() waits makes listen() resolve", async () => {
  await using server = await startTestServer();
  const sub = new CollectingSubscriber({ esURI: server.uri });
  await sub.subscribe("x");
  const listening = sub.listen();
  await delay(20);
  await sub.close();
  await listening;
});

Deno.test("abort() before listen() makes listen() resolve at once", async () => {
  await using server = await startTestServer();
  const sub = new CollectingSubscriber({ esURI: server.uri });
  await sub.subscribe("x");
  sub.abort();
  await listenBounded(sub, 5000);
  await sub.close();
});

Deno.test("listen() refuses to run twice at once", async () => {
  await using server = await startTestServer();
  const sub = new CollectingSubscriber({ esURI: server.uri });
  await sub.subscribe("x");
  const first = sub.listen();
  await assertRejects(sub.listen(), /already running/);
  await sub.close();
  await first;
});

Deno.test("An un-awaited subscribeMatch() that fails while listen() runs makes it reject", async () => {
  await using server = await startTestServer();
  const sub = new CollectingSubscriber({ esURI: server.uri });
  await sub.subscribe("x");
  const listening = listenBounded(sub);
  await delay(20);
  sub.subscribeMatch("a(?<=b)"); // Lookbehind: the server refuses it.
  await assertRejects(listening, ProtocolError);
  await sub.close();
});

Deno.test("Threading on keeps at most maxConcurrent event() calls running", async () => {
  await using server = await startTestServer();
  class Slow extends Subscriber {
    running = 0;
    maxRunning = 0;
    count = 0;
    override async event(_event: Event): Promise<void> {
      this.running++;
      this.maxRunning = Math.max(this.maxRunning, this.running);
      await delay(5);
      this.running--;
      if (++this.count === 60) this.abort();
    }
  }
  const sub = new Slow({ esURI: server.uri, maxConcurrent: 4 });
  await sub.subscribe("x");
  await using pub = new Publisher({ esURI: server.uri });
  for (let i = 0; i < 60; i++) await pub.publish("x", i);
  await listenBounded(sub);
  assert(sub.maxRunning > 1 && sub.maxRunning <= 4, `maxRunning ${sub.maxRunning}`);
});

Deno.test("A listening Subscriber's listen() rejects with ConnectionClosedError when the server stops", async () => {
  const server = await startTestServer();
  const sub = new CollectingSubscriber({ esURI: server.uri, reconnect: false });
  await sub.subscribe("x");
  // Observe the outcome at once: listen() may end before server.close() returns.
  const listening = listenBounded(sub).then(() => undefined, (error: unknown) => error);
  await server.close();
  const error = await listening;
  assert(error instanceof ConnectionClosedError, String(error));
  await sub.close();
});

Deno.test("connect(): closing the client ends every for-await loop", async () => {
  await using server = await startTestServer();
  const client = await connect({ esURI: server.uri });
  const sub = await client.subscribe("x");
  const loop = (async () => {
    const got: unknown[] = [];
    for await (const e of sub) got.push(e.msg);
    return got;
  })();
  await client.publish("x", 1);
  await client.flush();
  await delay(20);
  await client.close();
  assertEquals(await loop, [1]);
});

Deno.test("connect(): a stopped server ends for-await loops with ConnectionClosedError", async () => {
  const server = await startTestServer();
  const client = await connect({ esURI: server.uri, reconnect: false });
  const sub = await client.subscribe("x");
  const loop = (async () => {
    for await (const _ of sub) { /* nothing is published */ }
  })().then(() => undefined, (error: unknown) => error);
  await server.close();
  const error = await loop;
  assert(error instanceof ConnectionClosedError, String(error));
  await client.close();
});

Deno.test("connect(): aborting a subscription's signal unsubscribes it", async () => {
  await using server = await startTestServer();
  await using client = await connect({ esURI: server.uri });
  const controller = new AbortController();
  const sub = await client.subscribe("x", { signal: controller.signal });
  assertEquals((await server.stats()).exactSubjects, 1);
  controller.abort();
  await waitUntil(async () => (await server.stats()).exactSubjects === 0, 5000, "unsubscribe");
  for await (const _ of sub) throw new Error("the stream should be over");
});

Deno.test("connect(): a signal aborted while subscribing (or before) still unsubscribes", async () => {
  await using server = await startTestServer();
  await using client = await connect({ esURI: server.uri });
  const controller = new AbortController();
  const subscribing = client.subscribe("x", { signal: controller.signal });
  controller.abort();
  const sub = await subscribing;
  const early = await client.subscribe("x", { signal: AbortSignal.abort() });
  await client.publish("x", 1);
  await client.flush();
  assertEquals(await sub[Symbol.asyncIterator]().next(), { value: undefined, done: true });
  assertEquals(await early[Symbol.asyncIterator]().next(), { value: undefined, done: true });
  await waitUntil(async () => (await server.stats()).exactSubjects === 0, 5000, "unsubscribe");
});

Deno.test("publish() refuses bad subjects before sending anything", async () => {
  await using server = await startTestServer();
  await using pub = new Publisher({ esURI: server.uri });
  await assertRejects(pub.publish("", 1), TypeError);
  await assertRejects(pub.publish([], 1), TypeError);
  await assertRejects(pub.publish(["ok", ""], 1), TypeError);
  await assertRejects(pub.publish("x".repeat(1025), 1), RangeError);
  await pub.flush();
  assertEquals((await server.stats()).totals.publishes, 0);
  await pub.publish("x".repeat(1024), 1);
  await pub.flush();
  assertEquals((await server.stats()).totals.publishes, 1);
});

Deno.test("Events received before the server stopped are still delivered, then listen() rejects", async () => {
  const server = await startTestServer();
  const sub = new CollectingSubscriber({ esURI: server.uri, threading: false, reconnect: false });
  await sub.subscribe("last");
  const pub = new Publisher({ esURI: server.uri });
  for (let i = 0; i < 100; i++) await pub.publish("last", i);
  await pub.flush();
  await pub.close();
  await delay(50); // the events are in the subscriber's buffer now
  await server.close();
  sub.start();
  await sub.listening;
  assertEquals(sub.events.map((e) => e.msg), [...Array(100).keys()]);
  assert(sub.listenError instanceof ConnectionClosedError, String(sub.listenError));
  await sub.close();
});

Deno.test("Un-awaited failing subscribe calls never become unhandled rejections, even without listen()", async () => {
  await using server = await startTestServer();
  class Broken extends Subscriber {
    constructor(esURI: string) {
      super({ esURI });
      this.subscribeMatch("(bad");
      this.unsubscribe("never-subscribed");
    }
    override event(_event: Event): void {}
  }
  const refused = new Broken(server.uri);
  const unreachable = new Broken(`es://127.0.0.1:${deadPort()}`);
  // Deno fails the test on an unhandled rejection; give them time to happen.
  await delay(200);
  await refused.close();
  await unreachable.close();
  await delay(20);
});
