/**
 * End-to-end tests of SPEC §1 through an in-process server and the client
 * classes: case rules, patterns, multi-subject publish, at-most-once,
 * unsubscribe, invalid patterns, payloads, ordering, threading and abort().
 */

import { assert, assertEquals, assertRejects } from "./_assert.ts";
import { delay, startTestServer } from "./_helpers.ts";
import { CollectingSubscriber } from "./_collect.ts";
import { Publisher } from "../lib/client/publisher.ts";
import { Subscriber } from "../lib/client/subscriber.ts";
import type { Event } from "../lib/client/event.ts";
import { ProtocolError } from "../lib/errors.ts";
import { ErrorCode } from "../lib/protocol/constants.ts";

Deno.test("Subjects are case-insensitive and the event carries the publisher's spelling", async () => {
  await using server = await startTestServer();
  const sub = new CollectingSubscriber({ esURI: server.uri });
  await sub.subscribe("stockquotes");
  sub.start();
  await using pub = new Publisher({ esURI: server.uri });
  await pub.publish("STOCKQuotes", 1);
  await pub.publish("StockQuotes", 2);
  await pub.publish("stockquote", 3); // another subject
  await pub.publish("stockquotes", 4);
  const events = await sub.waitFor(3);
  await pub.flush();
  await delay(50);
  assertEquals(events.map((e) => [e.subject, e.msg]), [
    ["STOCKQuotes", 1],
    ["StockQuotes", 2],
    ["stockquotes", 4],
  ]);
  await sub.stop();
});

Deno.test("Patterns follow re.match: the SPEC's examples through the server", async () => {
  await using server = await startTestServer();
  const sun = new CollectingSubscriber({ esURI: server.uri });
  const stock = new CollectingSubscriber({ esURI: server.uri });
  await sun.subscribeMatch("^STOCKQUOTE\\.S.*$");
  await stock.subscribeMatch("stock");
  sun.start();
  stock.start();
  await using pub = new Publisher({ esURI: server.uri });
  for (const s of ["STOCKQUOTE.SUN", "STOCKQUOTE.IBM", "NYSE.STOCKQUOTE.SUN", "stockquote.sap"]) {
    await pub.publish(s, s);
  }
  await pub.flush();
  assertEquals((await sun.waitFor(2)).map((e) => e.subject), ["STOCKQUOTE.SUN", "stockquote.sap"]);
  assertEquals((await stock.waitFor(3)).map((e) => e.subject), [
    "STOCKQUOTE.SUN",
    "STOCKQUOTE.IBM",
    "stockquote.sap",
  ]);
  await delay(50);
  assertEquals(sun.events.length, 2);
  assertEquals(stock.events.length, 3);
  await sun.stop();
  await stock.stop();
});

Deno.test("A multi-subject publish gives one event per subject, all with the same time", async () => {
  await using server = await startTestServer();
  const a = new CollectingSubscriber({ esURI: server.uri });
  const b = new CollectingSubscriber({ esURI: server.uri });
  await a.subscribe(["x", "y", "z"]);
  await b.subscribeMatch("^[xz]$");
  a.start();
  b.start();
  await using pub = new Publisher({ esURI: server.uri });
  const before = Date.now();
  await pub.publish(["x", "Y", "z"], { n: 1 });
  const eventsA = await a.waitFor(3);
  const eventsB = await b.waitFor(2);
  assertEquals(eventsA.map((e) => e.subject), ["x", "Y", "z"]);
  assertEquals(eventsB.map((e) => e.subject), ["x", "z"]);
  const times = new Set([...eventsA, ...eventsB].map((e) => e.time));
  assertEquals(times.size, 1, "one timestamp for the publish, for every subscriber");
  const [time] = times;
  assert(
    time! >= before - 1000 && time! <= Date.now() + 1000,
    `time ${time} is the server's clock`,
  );
  await a.stop();
  await b.stop();
});

Deno.test("A subscriber receives an event at most once when several subscriptions match", async () => {
  await using server = await startTestServer();
  const sub = new CollectingSubscriber({ esURI: server.uri });
  await sub.subscribe(["STOCKQUOTE.SUN", "stockquote.sun"]);
  await sub.subscribeMatch(["stock", "^STOCKQUOTE\\.S.*$", ".*"]);
  sub.start();
  await using pub = new Publisher({ esURI: server.uri });
  await pub.publish("StockQuote.Sun", 1);
  await pub.publish("end", 2);
  await pub.flush();
  const events = await sub.waitFor(2);
  await delay(50);
  assertEquals(events.map((e) => e.msg), [1, 2]);
  await sub.stop();
});

Deno.test("Subscriber.unsubscribe() removes the exact and the pattern subscription of that string", async () => {
  await using server = await startTestServer();
  const sub = new CollectingSubscriber({ esURI: server.uri });
  await sub.subscribe(["news", "sentinel"]);
  await sub.subscribeMatch("news");
  sub.start();
  await using pub = new Publisher({ esURI: server.uri });
  await pub.publish("news", "before");
  await pub.publish("news.today", "before");
  await sub.waitFor(2);
  await sub.unsubscribe("NEWS"); // the exact one ignores case; the pattern is "news" as given
  await sub.unsubscribe("news");
  await pub.publish("news", "after");
  await pub.publish("news.today", "after");
  await pub.publish("sentinel", "end");
  await pub.flush();
  const events = await sub.waitFor(3);
  assertEquals(events.map((e) => `${e.subject}:${e.msg}`), [
    "news:before",
    "news.today:before",
    "sentinel:end",
  ]);
  const stats = await server.stats();
  assertEquals(stats.subscribers[0]!.subjects, ["sentinel"]);
  assertEquals(stats.subscribers[0]!.patterns, []);
  await sub.stop();
});

Deno.test("An awaited invalid-pattern rejection leaves the subscriber working", async () => {
  await using server = await startTestServer();
  const sub = new CollectingSubscriber({ esURI: server.uri });
  await sub.subscribe("ok");
  // Not a regular expression: refused before anything is sent.
  await assertRejects(sub.subscribeMatch(["^fine", "("]), (e: unknown) => {
    assert(e instanceof SyntaxError, String(e));
    assert(e.message.includes('"("'), e.message);
    return true;
  });
  // A regular expression the server will not run (lookahead): refused by the server.
  await assertRejects(sub.subscribeMatch(["^fine", "^(?=x)"]), (e: unknown) => {
    assert(e instanceof ProtocolError, String(e));
    assertEquals(e.code, ErrorCode.BAD_PATTERN);
    assert(e.message.includes('"^(?=x)"'), e.message);
    return true;
  });
  // Nothing of the refused call is registered: "^fine" must not match.
  const stats = await server.stats();
  assertEquals(stats.patterns, 0);
  sub.start();
  await using pub = new Publisher({ esURI: server.uri });
  await pub.publish("fine", 0);
  await pub.publish("ok", 1);
  await pub.flush();
  assertEquals((await sub.waitFor(1)).map((e) => e.msg), [1]);
  await delay(50);
  assertEquals(sub.events.length, 1);
  assertEquals(sub.listenError, undefined);
  await sub.stop();
  assertEquals(sub.listenError, undefined);
});

Deno.test("An un-awaited invalid pattern made in a constructor makes listen() reject", async () => {
  await using server = await startTestServer();
  class Broken extends Subscriber {
    constructor() {
      super({ esURI: server.uri });
      this.subscribe("ok");
      this.subscribeMatch("(unclosed");
    }
    override event(_event: Event): void {}
  }
  const sub = new Broken();
  const timer = setTimeout(() => sub.abort(), 10_000);
  try {
    await assertRejects(sub.listen(), (e: unknown) => {
      assert(e instanceof SyntaxError, String(e));
      assert(e.message.includes("(unclosed"), e.message);
      return true;
    });
  } finally {
    clearTimeout(timer);
    await sub.close();
  }
  // Deno fails the test on an unhandled rejection; give one a chance to surface.
  await delay(20);
});

Deno.test("Payloads round-trip: nested objects, unicode, Uint8Array, Date, 2^53-1", async () => {
  await using server = await startTestServer();
  const sub = new CollectingSubscriber({ esURI: server.uri });
  await sub.subscribe("data");
  sub.start();
  const messages: unknown[] = [
    { a: { b: { c: [1, 2, { d: "deep" }] } }, e: null, f: true },
    "Grüße aus 東京 🚀",
    new Uint8Array([0, 1, 2, 254, 255]),
    new Date("2026-11-26T06:30:00.123Z"),
    Number.MAX_SAFE_INTEGER,
    -Number.MAX_SAFE_INTEGER,
    -42,
    22.44,
    [],
    "",
  ];
  await using pub = new Publisher({ esURI: server.uri });
  for (const m of messages) await pub.publish("data", m);
  const events = await sub.waitFor(messages.length);
  assertEquals(events.map((e) => e.msg), messages);
  assert(events[2]!.msg instanceof Uint8Array);
  assert(events[3]!.msg instanceof Date);
  await sub.stop();
});

Deno.test("10,000 events arrive complete and in order", async () => {
  await using server = await startTestServer();
  const sub = new CollectingSubscriber({ esURI: server.uri, threading: false });
  await sub.subscribe("seq");
  sub.start();
  await using pub = new Publisher({ esURI: server.uri });
  for (let i = 0; i < 10_000; i++) await pub.publish("seq", i);
  await pub.flush();
  const events = await sub.waitFor(10_000, 30_000);
  assertEquals(events.length, 10_000);
  for (let i = 0; i < 10_000; i++) {
    if (events[i]!.msg !== i) throw new Error(`event ${i} carries ${events[i]!.msg}`);
  }
  await sub.stop();
});

/** A subscriber whose handler takes a while and records how many run at once. */
class SlowSubscriber extends Subscriber {
  running = 0;
  maxRunning = 0;
  started: number[] = [];
  finished: number[] = [];
  done = Promise.withResolvers<void>();
  constructor(uri: string, readonly total: number, threading: boolean) {
    super({ esURI: uri, threading });
  }
  override async event(event: Event): Promise<void> {
    this.running++;
    this.maxRunning = Math.max(this.maxRunning, this.running);
    this.started.push(event.msg as number);
    await delay(10);
    this.finished.push(event.msg as number);
    this.running--;
    if (this.finished.length === this.total) this.done.resolve();
  }
}

async function runSlow(threading: boolean, setAfter?: boolean): Promise<SlowSubscriber> {
  await using server = await startTestServer();
  const sub = new SlowSubscriber(server.uri, 20, setAfter === undefined ? threading : !threading);
  if (setAfter !== undefined) sub.setThreading(threading);
  await sub.subscribe("work");
  const listening = sub.listen();
  await using pub = new Publisher({ esURI: server.uri });
  for (let i = 0; i < 20; i++) await pub.publish("work", i);
  await pub.flush();
  const timer = setTimeout(() => sub.done.reject(new Error("handlers did not finish")), 10_000);
  try {
    await sub.done.promise;
  } finally {
    clearTimeout(timer);
    sub.abort();
    await listening;
  }
  return sub;
}

Deno.test("Threading on: event() calls overlap", async () => {
  const sub = await runSlow(true);
  assert(sub.maxRunning > 1, `at most ${sub.maxRunning} handler(s) ran at once`);
  assertEquals(sub.started, [...Array(20).keys()], "handed over in order");
});

Deno.test("Threading off: event() calls are strictly sequential and in order", async () => {
  const sub = await runSlow(false);
  assertEquals(sub.maxRunning, 1);
  assertEquals(sub.finished, [...Array(20).keys()]);
});

Deno.test("setThreading(false) after construction makes delivery sequential", async () => {
  const sub = await runSlow(false, true);
  assertEquals(sub.maxRunning, 1);
  assertEquals(sub.finished, [...Array(20).keys()]);
});

Deno.test("abort() from inside event() makes listen() resolve and closes the connection", async () => {
  await using server = await startTestServer();
  class StopAtThree extends Subscriber {
    seen: number[] = [];
    override event(event: Event): void {
      this.seen.push(event.msg as number);
      if (event.msg === 3) this.abort();
    }
  }
  const sub = new StopAtThree({ esURI: server.uri, threading: false });
  await sub.subscribe("count");
  await using pub = new Publisher({ esURI: server.uri });
  for (let i = 1; i <= 10; i++) await pub.publish("count", i);
  await pub.flush();
  const timer = setTimeout(() => sub.close(), 10_000);
  await sub.listen();
  clearTimeout(timer);
  assertEquals(sub.seen, [1, 2, 3]);
  // The server sees the subscriber's connection go.
  const deadline = Date.now() + 5000;
  while ((await server.stats()).subscribers.length > 0 && Date.now() < deadline) await delay(10);
  assertEquals((await server.stats()).subscribers.length, 0);
  await sub.close();
});

Deno.test("abort() from inside a threaded event() makes listen() resolve", async () => {
  await using server = await startTestServer();
  class StopSoon extends Subscriber {
    override async event(event: Event): Promise<void> {
      await delay(1);
      if (event.msg === 5) this.abort();
    }
  }
  const sub = new StopSoon({ esURI: server.uri });
  await sub.subscribe("count");
  await using pub = new Publisher({ esURI: server.uri });
  for (let i = 1; i <= 10; i++) await pub.publish("count", i);
  const timer = setTimeout(() => sub.close(), 10_000);
  await sub.listen();
  clearTimeout(timer);
  await sub.close();
});

Deno.test("Events published after await subscribe() resolves wait in the buffer until listen()", async () => {
  await using server = await startTestServer();
  const sub = new CollectingSubscriber({ esURI: server.uri });
  await sub.subscribe("early");
  await using pub = new Publisher({ esURI: server.uri });
  for (let i = 0; i < 50; i++) await pub.publish("early", i);
  await pub.flush();
  await delay(50);
  sub.start();
  assertEquals((await sub.waitFor(50)).map((e) => e.msg), [...Array(50).keys()]);
  await sub.stop();
});

Deno.test("Uint8Array messages waiting in the client buffer keep their bytes", async () => {
  // More than one socket read of binary events before listen(): the later reads must not
  // overwrite the bytes of events already buffered.
  await using server = await startTestServer();
  const sub = new CollectingSubscriber({ esURI: server.uri });
  await sub.subscribe("bin");
  await using pub = new Publisher({ esURI: server.uri });
  for (let i = 0; i < 300; i++) await pub.publish("bin", new Uint8Array(1024).fill(i & 0xff));
  await pub.flush();
  await delay(100);
  sub.start();
  const events = await sub.waitFor(300);
  events.forEach((e, i) => {
    const bytes = e.msg as Uint8Array;
    assert(bytes.every((b) => b === (i & 0xff)), `event ${i} was overwritten`);
  });
  await sub.stop();
});

Deno.test("Events are transient: one published with no subscriber vanishes", async () => {
  await using server = await startTestServer();
  await using pub = new Publisher({ esURI: server.uri });
  await pub.publish("void", "lost");
  await pub.flush();
  assertEquals((await server.stats()).totals.unrouted, 1);
  const sub = new CollectingSubscriber({ esURI: server.uri });
  await sub.subscribe("void");
  sub.start();
  await pub.publish("void", "seen");
  await pub.flush();
  assertEquals((await sub.waitFor(1)).map((e) => e.msg), ["seen"]);
  await delay(50);
  assertEquals(sub.events.length, 1);
  await sub.stop();
});
