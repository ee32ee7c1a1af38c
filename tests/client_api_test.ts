/**
 * End-to-end tests of the client lifecycle (SPEC §5) through an in-process
 * server: connect() and its async iterables, Publisher.flush(), close(),
 * connection failures and the errors publish() throws.
 */

import { assert, assertEquals, assertRejects } from "./_assert.ts";
import { delay, startTestServer, waitUntil } from "./_helpers.ts";
import { CollectingSubscriber, deadPort } from "./_collect.ts";
import { connect } from "../lib/client/client.ts";
import { Publisher } from "../lib/client/publisher.ts";
import { Subscriber } from "../lib/client/subscriber.ts";
import type { Event } from "../lib/client/event.ts";
import { ConnectionClosedError, ProtocolError } from "../lib/errors.ts";
import { ErrorCode } from "../lib/protocol/constants.ts";
import type { EventServer } from "../lib/server/event_server.ts";

/** Takes `n` events from an async iterable, with a timeout. */
async function take(
  iterable: AsyncIterable<Event>,
  n: number,
  timeoutMs = 10_000,
): Promise<Event[]> {
  const out: Event[] = [];
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`Timed out after ${out.length} of ${n} events`)),
      timeoutMs,
    );
  });
  const collect = (async () => {
    for await (const event of iterable) {
      out.push(event);
      if (out.length >= n) break;
    }
  })();
  try {
    await Promise.race([collect, timeout]);
  } finally {
    clearTimeout(timer);
  }
  return out;
}

async function subscriptionsOnServer(server: EventServer): Promise<string[]> {
  const stats = await server.stats();
  return stats.subscribers.flatMap((s) => [...s.subjects, ...s.patterns.map((p) => `/${p}/`)]);
}

Deno.test("connect() gives subscriptions that are async iterables", async () => {
  await using server = await startTestServer();
  await using client = await connect({ esURI: server.uri });
  const sub = await client.subscribeMatch("^STOCKQUOTE\\.S");
  await client.publish("STOCKQUOTE.SUN", 22.44);
  await client.publish("STOCKQUOTE.IBM", 1);
  await client.publish("stockquote.sap", 33);
  const events = await take(sub, 2);
  assertEquals(events.map((e) => [e.subject, e.msg]), [["STOCKQUOTE.SUN", 22.44], [
    "stockquote.sap",
    33,
  ]]);
  assert(typeof events[0]!.time === "number");
});

Deno.test("Leaving a for-await early unsubscribes on the server", async () => {
  await using server = await startTestServer();
  await using client = await connect({ esURI: server.uri });
  const sub = await client.subscribe("ticks");
  assertEquals(await subscriptionsOnServer(server), ["ticks"]);
  for (let i = 0; i < 5; i++) await client.publish("ticks", i);
  const events = await take(sub, 2); // breaks out of the loop after two
  assertEquals(events.map((e) => e.msg), [0, 1]);
  await waitUntil(async () => (await subscriptionsOnServer(server)).length === 0, 5000, "unsub");
  // Published after the unsubscribe: never delivered.
  await client.publish("ticks", "late");
  await client.flush();
  const rest: unknown[] = [];
  for await (const e of sub) rest.push(e.msg);
  assert(!rest.includes("late"), `got ${JSON.stringify(rest)}`);
});

Deno.test("Two subscriptions on one client each get their own events", async () => {
  await using server = await startTestServer();
  await using client = await connect({ esURI: server.uri });
  const exact = await client.subscribe(["a", "shared"]);
  const pattern = await client.subscribeMatch("^(b|shared)");
  for (const s of ["a", "b", "shared", "c"]) await client.publish(s, s);
  const [fromExact, fromPattern] = await Promise.all([take(exact, 2), take(pattern, 2)]);
  assertEquals(fromExact.map((e) => e.subject), ["a", "shared"]);
  assertEquals(fromPattern.map((e) => e.subject), ["b", "shared"]);
});

Deno.test("Subscription.unsubscribe() removes its own subscriptions only, even of the same subject", async () => {
  await using server = await startTestServer();
  await using client = await connect({ esURI: server.uri });
  const one = await client.subscribe(["x", "y"]);
  const two = await client.subscribe("X");
  await one.unsubscribe();
  await one.unsubscribe(); // idempotent
  assertEquals(await subscriptionsOnServer(server), ["X"]);
  await client.publish("x", 1);
  await client.publish("y", 2);
  // take() leaves its loop after one event, which unsubscribes `two` as well.
  assertEquals((await take(two, 1)).map((e) => e.msg), [1]);
  await waitUntil(async () => (await subscriptionsOnServer(server)).length === 0, 5000, "unsub");
});

Deno.test("connect() rejects an invalid pattern and the client keeps working", async () => {
  await using server = await startTestServer();
  await using client = await connect({ esURI: server.uri });
  await assertRejects(client.subscribeMatch("(bad"));
  const sub = await client.subscribe("ok");
  await client.publish("ok", "fine");
  assertEquals((await take(sub, 1)).map((e) => e.msg), ["fine"]);
});

Deno.test("Publisher.flush() resolves once the server has processed every publish before it", async () => {
  await using server = await startTestServer();
  await using pub = new Publisher({ esURI: server.uri });
  for (let i = 0; i < 500; i++) await pub.publish(["p1", "p2"], i);
  await pub.flush();
  const stats = await server.stats();
  assertEquals(stats.totals.publishes, 500);
  assertEquals(stats.totals.events, 1000);
});

Deno.test("Publisher.flush() with nothing published connects and resolves", async () => {
  await using server = await startTestServer();
  await using pub = new Publisher({ esURI: server.uri });
  await pub.flush();
  assertEquals((await server.stats()).connections, 1);
});

Deno.test("close() is idempotent on Publisher, Subscriber and connect() clients", async () => {
  await using server = await startTestServer();
  const pub = new Publisher({ esURI: server.uri });
  await pub.publish("x", 1);
  await pub.close();
  await pub.close();
  await Promise.all([pub.close(), pub.close()]);
  const sub = new CollectingSubscriber({ esURI: server.uri });
  await sub.subscribe("x");
  await sub.close();
  await sub.close();
  const client = await connect({ esURI: server.uri });
  await client.close();
  await client.close();
  // Never connected: close() does nothing and does not throw.
  await new Publisher({ esURI: server.uri }).close();
  await new CollectingSubscriber({ esURI: server.uri }).close();
  await waitUntil(async () => (await server.stats()).connections === 0, 5000, "disconnects");
});

Deno.test("Operations after close() reject with ConnectionClosedError", async () => {
  await using server = await startTestServer();
  const pub = new Publisher({ esURI: server.uri });
  await pub.close();
  await assertRejects(pub.publish("x", 1), ConnectionClosedError);
  await assertRejects(pub.flush(), ConnectionClosedError);
});

Deno.test("Constructors do no I/O: nothing connects until the first operation", async () => {
  await using server = await startTestServer();
  const pub = new Publisher({ esURI: server.uri });
  const sub = new CollectingSubscriber({ esURI: server.uri });
  await delay(50);
  assertEquals((await server.stats()).connections, 0);
  await pub.flush();
  assertEquals((await server.stats()).connections, 1);
  await pub.close();
  await sub.close();
});

Deno.test("A connection failure surfaces from the first operation as ConnectionClosedError", async (t) => {
  const esURI = `es://127.0.0.1:${deadPort()}`;
  await t.step("Publisher.publish()", async () => {
    const pub = new Publisher({ esURI });
    await assertRejects(pub.publish("x", 1), ConnectionClosedError);
    await pub.close();
  });
  await t.step("Publisher.flush()", async () => {
    const pub = new Publisher({ esURI });
    await assertRejects(pub.flush(), ConnectionClosedError);
    await pub.close();
  });
  await t.step("Subscriber.subscribe() and subscribeMatch()", async () => {
    const sub = new CollectingSubscriber({ esURI });
    await assertRejects(sub.subscribe("x"), ConnectionClosedError);
    await assertRejects(sub.subscribeMatch("x"), ConnectionClosedError);
    await sub.close();
  });
  await t.step("Subscriber.listen()", async () => {
    const sub = new CollectingSubscriber({ esURI });
    await assertRejects(sub.listen(), ConnectionClosedError);
    await sub.close();
  });
  await t.step("Subscriber.listen() after an un-awaited subscribe()", async () => {
    class Eager extends Subscriber {
      constructor() {
        super({ esURI });
        this.subscribe("x");
      }
      override event(_e: Event): void {}
    }
    const sub = new Eager();
    await assertRejects(sub.listen(), ConnectionClosedError);
    await sub.close();
  });
  await t.step("connect()", async () => {
    await assertRejects(connect({ esURI }), ConnectionClosedError);
  });
});

Deno.test("A server that goes away makes the next operations fail with ConnectionClosedError", async () => {
  const server = await startTestServer();
  const pub = new Publisher({ esURI: server.uri, reconnect: false });
  const sub = new CollectingSubscriber({ esURI: server.uri, reconnect: false });
  await sub.subscribe("x");
  await pub.flush();
  sub.start();
  await server.close();
  await sub.listening;
  assert(sub.listenError instanceof ConnectionClosedError, String(sub.listenError));
  await waitUntil(
    async () => {
      try {
        await pub.publish("x", 1);
        await pub.flush();
        return false;
      } catch (error) {
        assert(error instanceof ConnectionClosedError, String(error));
        return true;
      }
    },
    5000,
    "publish to fail",
  );
  await pub.close();
  await sub.close();
});

Deno.test("more subjects than a frame can count (65535) reject with RangeError; nothing is sent", async () => {
  await using server = await startTestServer();
  await using client = await connect({ esURI: server.uri });
  const subjects = Array.from({ length: 65537 }, (_, i) => `s${i}`);
  await assertRejects(client.publish(subjects, 1), RangeError);
  await assertRejects(client.subscribe(subjects), RangeError);
  await client.flush();
  const stats = await server.stats();
  assertEquals(stats.totals.publishes, 0);
  assertEquals(stats.exactSubjects, 0);
});

Deno.test("publish() of a message over 1 MiB rejects with RangeError and the publisher still works", async () => {
  await using server = await startTestServer();
  const sub = new CollectingSubscriber({ esURI: server.uri });
  await sub.subscribe("big");
  sub.start();
  await using pub = new Publisher({ esURI: server.uri });
  await assertRejects(pub.publish("big", new Uint8Array(1024 * 1024 + 1)), RangeError);
  await pub.publish("big", new Uint8Array(1000 * 1000)); // just under the limit
  await pub.flush();
  const [event] = await sub.waitFor(1);
  assertEquals((event!.msg as Uint8Array).length, 1000 * 1000);
  assertEquals((await server.stats()).totals.publishes, 1);
  await sub.stop();
});

Deno.test("publish() of a function, a symbol or a cycle throws TypeError and sends nothing", async () => {
  await using server = await startTestServer();
  const sub = new CollectingSubscriber({ esURI: server.uri });
  await sub.subscribe("bad");
  sub.start();
  await using pub = new Publisher({ esURI: server.uri });
  const cyclic: Record<string, unknown> = {};
  cyclic.me = cyclic;
  for (const bad of [() => 1, { f: () => 2 }, Symbol("s"), cyclic, [1, [cyclic]]]) {
    await assertRejects(pub.publish("bad", bad), TypeError);
  }
  await pub.flush();
  assertEquals((await server.stats()).totals.publishes, 0);
  await pub.publish("bad", "good");
  assertEquals((await sub.waitFor(1)).map((e) => e.msg), ["good"]);
  await sub.stop();
});

Deno.test("connect().publish() refuses unencodable and oversized messages too", async () => {
  await using server = await startTestServer();
  await using client = await connect({ esURI: server.uri });
  await assertRejects(client.publish("x", () => 1), TypeError);
  await assertRejects(client.publish("x", "y".repeat(1024 * 1024 + 10)), RangeError);
  await client.flush();
  assertEquals((await server.stats()).totals.publishes, 0);
});

Deno.test("A publish the server refuses surfaces as ProtocolError from the next flush()", async () => {
  await using server = await startTestServer({ maxSubjectBytes: 10 });
  await using pub = new Publisher({ esURI: server.uri });
  await pub.publish("a-subject-longer-than-ten", 1);
  await assertRejects(pub.flush(), (e: unknown) => {
    assert(e instanceof ProtocolError, String(e));
    assertEquals(e.code, ErrorCode.BAD_SUBJECT);
    return true;
  });
  // Reported once; the publisher goes on.
  await pub.publish("short", 2);
  await pub.flush();
  assertEquals((await server.stats()).totals.publishes, 1);
});

Deno.test("publish() honours the server's own frame limit from its HELLO", async () => {
  await using server = await startTestServer({ maxFrameBytes: 64 * 1024 });
  await using pub = new Publisher({ esURI: server.uri });
  await assertRejects(pub.publish("x", new Uint8Array(65 * 1024)), RangeError);
  // PUB of subject "x" and n bytes: type 1 + codec 1 + count 2 + length 2 + "x" 1 + bin16 header 3.
  await assertRejects(pub.publish("x", new Uint8Array(64 * 1024 - 10 + 1)), RangeError);
  await pub.publish("x", new Uint8Array(64 * 1024 - 10)); // exactly the limit
  await pub.flush();
  assertEquals((await server.stats()).totals.publishes, 1);
});

Deno.test("Connecting to something that is not an es server rejects with ProtocolError", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const serving = (async () => {
    const conn = await listener.accept();
    await conn.write(new TextEncoder().encode("SSH-2.0-OpenSSH_9.6\r\n"));
    await new Promise((r) => setTimeout(r, 100));
    conn.close();
  })();
  try {
    const pub = new Publisher({ esURI: `es://127.0.0.1:${listener.addr.port}` });
    await assertRejects(pub.publish("x", 1), (e: unknown) => {
      assert(e instanceof ProtocolError, String(e));
      assert(e.message.includes("not an es server"), e.message);
      return true;
    });
    await pub.close();
  } finally {
    await serving;
    listener.close();
  }
});

Deno.test("A server that never answers the handshake fails the first operation after connectTimeoutMs", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const accepted = listener.accept();
  try {
    const pub = new Publisher({
      esURI: `es://127.0.0.1:${listener.addr.port}`,
      connectTimeoutMs: 300,
    });
    const error = await pub.publish("x", 1).then(() => undefined, (e: unknown) => e);
    assert(error instanceof ConnectionClosedError, String(error));
    assert(/no answer to the handshake within 300 ms/.test(error.message), error.message);
    await pub.close();
  } finally {
    (await accepted).close();
    listener.close();
  }
});

Deno.test("A failed first connect is tried again by the next operation", async () => {
  const port = deadPort();
  const pub = new Publisher({ esURI: `es://127.0.0.1:${port}` });
  await assertRejects(() => pub.publish("later", 1), ConnectionClosedError);
  await using server = await startTestServer({ port });
  const sub = new CollectingSubscriber({ esURI: server.uri });
  await sub.subscribe("later");
  sub.start();
  await pub.publish("later", 2);
  await pub.flush();
  await sub.waitFor(1);
  assertEquals(sub.events.map((e) => e.msg), [2]);
  await pub.close();
  await sub.close();
});
