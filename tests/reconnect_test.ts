import { assert, assertEquals, assertMatch, assertRejects } from "./_assert.ts";
import { delay, startTestServer, waitUntil } from "./_helpers.ts";
import {
  AuthenticationError,
  type Client,
  connect,
  ConnectionClosedError,
  type Event,
  Publisher,
  type Status,
  Subscriber,
} from "../lib/client/mod.ts";
import type { EventServer } from "../lib/server/event_server.ts";
import { ErrorCode, FrameType, PROTOCOL_VERSION } from "../lib/protocol/constants.ts";
import { encodeHello } from "../lib/protocol/frames/hello.ts";
import { encodeReady } from "../lib/protocol/frames/ready.ts";
import { decodeRequest, encodeOk } from "../lib/protocol/frames/request.ts";
import { FrameParser } from "../lib/protocol/parser.ts";
import { EVENTSERVER_NAME } from "../lib/client/options.ts";
import { locateNameServer, startNameServer } from "../lib/names/mod.ts";
import { writeAll } from "./_raw_peer.ts";

function closeQuietly(conn: Deno.Conn): void {
  try {
    conn.close();
  } catch {
    // Already closed.
  }
}

const fast = { backoff: () => 20 };

/** Collects the status changes of a client in the background. */
function recordStatus(source: { status(): AsyncIterableIterator<Status> }): Status[] {
  const seen: Status[] = [];
  void (async () => {
    for await (const s of source.status()) seen.push(s);
  })();
  return seen;
}

/** Reads `count` events from an async iterable of events. */
async function take(sub: AsyncIterable<Event>, count: number): Promise<unknown[]> {
  const got: unknown[] = [];
  for await (const e of sub) {
    got.push(e.msg);
    if (got.length === count) break;
  }
  return got;
}

/** Restarts a server on the same port. */
function restart(old: EventServer): Promise<EventServer> {
  return startTestServer({ port: old.port });
}

Deno.test("connect(): after a server restart, exact and pattern subscriptions resume and status shows both changes", async () => {
  let server = await startTestServer();
  const client = await connect({ esURI: server.uri, reconnect: fast });
  const status = recordStatus(client);
  const disconnected = Promise.withResolvers<Status>();
  client.addEventListener("disconnect", (e) => disconnected.resolve(e.detail), { once: true });
  const exact = await client.subscribe("news");
  const pattern = await client.subscribeMatch("^stock\\.");
  await server.close();
  const lost = await disconnected.promise;
  assert(lost.type === "disconnect");
  assert(lost.error instanceof ConnectionClosedError);
  assertEquals(lost.error.code, ErrorCode.SHUTDOWN);
  assertMatch(lost.error.message, /shutting down/);
  server = await restart(server);
  try {
    await waitUntil(() => status.some((s) => s.type === "reconnect"), 5000, "reconnect");
    await using publisher = await connect({ esURI: server.uri });
    await publisher.publish("NEWS", "n1");
    await publisher.publish("stock.sun", "s1");
    assertEquals(await take(exact, 1), ["n1"]);
    assertEquals(await take(pattern, 1), ["s1"]);
    assertEquals(status.map((s) => s.type).slice(0, 2), ["disconnect", "reconnect"]);
  } finally {
    await client.close();
    await server.close();
  }
});

class Collector extends Subscriber {
  readonly got: unknown[] = [];
  override event(event: Event): void {
    this.got.push(event.msg);
  }
}

Deno.test("Subscriber: listen() runs on across a restart, subscriptions restored without user code", async () => {
  let server = await startTestServer();
  const sub = new Collector({ esURI: server.uri, reconnect: fast });
  const status = recordStatus(sub);
  await sub.subscribe(["a", "b"]);
  await sub.subscribeMatch("^p\\.");
  await sub.unsubscribe("b");
  const listening = sub.listen();
  await server.close();
  server = await restart(server);
  try {
    await waitUntil(() => status.some((s) => s.type === "reconnect"), 5000, "reconnect");
    assertEquals((await server.stats()).subscribers[0]?.subjects, ["a"]);
    await using publisher = await connect({ esURI: server.uri });
    for (const subject of ["a", "b", "p.1"]) await publisher.publish(subject, subject);
    await publisher.flush();
    await waitUntil(() => sub.got.length === 2, 5000, "two events");
    assertEquals(sub.got, ["a", "p.1"]);
  } finally {
    await sub.close();
    await listening;
    await server.close();
  }
});

Deno.test("publishes made while disconnected are buffered and sent after reconnecting; flush() confirms them", async () => {
  let server = await startTestServer();
  // Slow to come back, so that the test's subscriber is in place before the buffered events go out.
  const publisher = new Publisher({ esURI: server.uri, reconnect: { backoff: () => 300 } });
  const status = recordStatus(publisher);
  await publisher.publish("x", 0);
  await publisher.flush();
  await server.close();
  await waitUntil(() => status.some((s) => s.type === "disconnect"), 5000, "disconnect");
  for (let i = 1; i <= 3; i++) await publisher.publish("x", i); // Kept in the buffer.
  server = await restart(server);
  let client: Client | undefined;
  try {
    // Subscribe before the publisher is back, so the buffered events have someone to go to.
    client = await connect({ esURI: server.uri, reconnect: false });
    const sub = await client.subscribe("x");
    await publisher.flush(); // Waits for the reconnect; nothing was in doubt.
    assertEquals(await take(sub, 3), [1, 2, 3]);
  } finally {
    await client?.close();
    await publisher.close();
    await server.close();
  }
});

/**
 * A fake server on `port` for one client: handshake, then it reads nothing
 * until `open()`, then counts PUB frames and answers FLUSH.
 */
class GatedServer implements AsyncDisposable {
  readonly #listener: Deno.TcpListener;
  readonly #gate = Promise.withResolvers<void>();
  readonly handshakeDone = Promise.withResolvers<void>();
  readonly serving: Promise<void>;
  #conn: Deno.TcpConn | undefined;
  publishes = 0;

  constructor(port: number) {
    this.#listener = Deno.listen({ hostname: "127.0.0.1", port });
    this.serving = this.#serve();
  }

  open(): void {
    this.#gate.resolve();
  }

  async #serve(): Promise<void> {
    const conn = this.#conn = await this.#listener.accept();
    try {
      await writeAll(
        conn,
        encodeHello({
          version: PROTOCOL_VERSION,
          authRequired: false,
          serverNonce: new Uint8Array(16),
          heartbeatMs: 60_000,
          maxFrameBytes: 1024 * 1024,
          serverName: "gated",
        }),
      );
      await conn.read(new Uint8Array(4096)); // CONNECT
      await writeAll(conn, encodeReady(new Uint8Array(0)));
      this.handshakeDone.resolve();
      await this.#gate.promise;
      const parser = new FrameParser();
      const buffer = new Uint8Array(64 * 1024);
      while (true) {
        const n = await conn.read(buffer);
        if (n === null) return;
        for (const frame of parser.push(buffer.subarray(0, n))) {
          if (frame.type === FrameType.PUB) this.publishes++;
          if (frame.type === FrameType.FLUSH) {
            await writeAll(conn, encodeOk(decodeRequest(frame.body, "FLUSH").requestId));
          }
        }
      }
    } catch {
      // The client closed.
    } finally {
      closeQuietly(conn);
    }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.#listener.close();
    if (this.#conn) closeQuietly(this.#conn);
    this.open();
    await this.serving;
  }
}

Deno.test("publishes made while the reconnect buffer is being sent are sent too", async () => {
  const server = await startTestServer();
  const port = server.port;
  const publisher = new Publisher({ esURI: server.uri, reconnect: { backoff: () => 50 } });
  const status = recordStatus(publisher);
  try {
    await publisher.flush();
    await server.close();
    await waitUntil(() => status.some((s) => s.type === "disconnect"), 5000, "disconnect");
    // 7.5 MiB in the buffer: more than the socket can take while the server does not read.
    const big = new Uint8Array(64 * 1024);
    for (let i = 0; i < 120; i++) await publisher.publish("x", big);
    await using fake = new GatedServer(port);
    await fake.handshakeDone.promise;
    await delay(300); // The buffered publishes are now stuck in a full socket.
    assert(!status.some((s) => s.type === "reconnect"), "the buffer is still being sent");
    for (let i = 0; i < 5; i++) await publisher.publish("x", i);
    fake.open();
    await publisher.flush();
    assertEquals(fake.publishes, 125);
  } finally {
    await publisher.close();
  }
});

Deno.test("publishing while disconnected past the buffer bound fails clearly", async () => {
  const server = await startTestServer();
  const publisher = new Publisher({
    esURI: server.uri,
    reconnect: { backoff: () => 60_000, bufferBytes: 1000 },
  });
  const status = recordStatus(publisher);
  await publisher.publish("x", 0);
  await server.close();
  await waitUntil(() => status.some((s) => s.type === "disconnect"), 5000, "disconnect");
  await publisher.publish("x", "a".repeat(600));
  await assertRejects(
    () => publisher.publish("x", "b".repeat(600)),
    (e: unknown) => {
      assert(e instanceof ConnectionClosedError);
      assertMatch(
        e.message,
        /reconnect buffer is full \(1 events, \d+ of 1000 bytes\); the event was not sent/,
      );
      return true;
    },
  );
  await publisher.close();
});

Deno.test("flush() reports a loss when publishes were unconfirmed at the time, then starts afresh", async () => {
  let server = await startTestServer();
  const publisher = new Publisher({ esURI: server.uri, reconnect: fast });
  const status = recordStatus(publisher);
  await publisher.publish("x", 1); // Not flushed: in doubt when the connection goes.
  await server.close();
  server = await restart(server);
  try {
    await waitUntil(() => status.some((s) => s.type === "disconnect"), 5000, "disconnect");
    await assertRejects(() => publisher.flush(), /may not have reached the server/);
    await publisher.publish("x", 2);
    await publisher.flush();
  } finally {
    await publisher.close();
    await server.close();
  }
});

Deno.test("reconnect: false makes listen() reject with the server's BYE reason on shutdown", async () => {
  const server = await startTestServer();
  const sub = new Collector({ esURI: server.uri, reconnect: false });
  await sub.subscribe("a");
  const listening = sub.listen();
  listening.catch(() => {}); // Checked below; it may reject while the server is still closing.
  await server.close();
  await assertRejects(() => listening, (e: unknown) => {
    assert(e instanceof ConnectionClosedError);
    assertEquals(e.code, ErrorCode.SHUTDOWN);
    assertMatch(e.message, /closed by the server: The event server is shutting down/);
    return true;
  });
  await sub.close();
});

Deno.test("the client gives up after maxAttempts, using the pluggable backoff, and says why", async () => {
  const server = await startTestServer();
  const attempts: number[] = [];
  const sub = new Collector({
    esURI: server.uri,
    reconnect: { maxAttempts: 3, backoff: (n) => (attempts.push(n), 10) },
  });
  const status = recordStatus(sub);
  await sub.subscribe("a");
  const listening = sub.listen();
  listening.catch(() => {}); // Checked below; it may reject while the server is still closing.
  await server.close();
  await assertRejects(() => listening, /Gave up reconnecting to es:\/\/.* after 3 attempts/);
  assertEquals(attempts, [1, 2, 3]);
  const errors = status.filter((s) => s.type === "error");
  assertEquals(errors.length, 4); // Three failed attempts, then the final one.
  assert(errors.at(-1)?.type === "error" && errors.at(-1)!.final);
  await sub.close();
});

Deno.test("without esURI the client finds the server again through the name server", async () => {
  // A name server whose entry the test moves, as a restarted es would.
  await using names = await startNameServer({ port: 0 });
  await using registrar = await locateNameServer({ nsURI: names.uri });
  let current = await startTestServer();
  await registrar.register(EVENTSERVER_NAME, current.uri);
  const nsURI = names.uri;
  const client = await connect({ nsURI, reconnect: fast });
  const status = recordStatus(client);
  const sub = await client.subscribe("moved");
  const first = current;
  current = await startTestServer(); // Another port: only the name server knows it.
  await registrar.register(EVENTSERVER_NAME, current.uri);
  await first.close();
  try {
    await waitUntil(() => status.some((s) => s.type === "reconnect"), 5000, "reconnect");
    const back = status.find((s) => s.type === "reconnect");
    assert(back?.type === "reconnect");
    assertEquals(back.uri, current.uri);
    await using publisher = await connect({ esURI: current.uri });
    await publisher.publish("moved", "here");
    assertEquals(await take(sub, 1), ["here"]);
  } finally {
    await client.close();
    await current.close();
  }
});

Deno.test("a wrong passphrase fails the first operation; a reconnect that meets one gives up at once", async () => {
  let server = await startTestServer({ ident: "right" });
  await assertRejects(
    () => connect({ esURI: server.uri, ident: "wrong", reconnect: false }),
    AuthenticationError,
  );
  const attempts: number[] = [];
  const sub = new Collector({
    esURI: server.uri,
    ident: "right",
    reconnect: { backoff: (n) => (attempts.push(n), 20) },
  });
  await sub.subscribe("a");
  const listening = sub.listen();
  listening.catch(() => {});
  await server.close();
  server = await startTestServer({ port: server.port, ident: "changed" });
  try {
    await assertRejects(() => listening, AuthenticationError);
    assertEquals(attempts.length, 1);
  } finally {
    await sub.close();
    await server.close();
  }
});
