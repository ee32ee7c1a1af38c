import { assert, assertEquals } from "./_assert.ts";
import { spawnServe, waitUntil } from "./_helpers.ts";
import { connect, type Event, type Status, Subscriber } from "../lib/client/mod.ts";

/** A free TCP port: bind port 0, read the port, let it go. */
function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = listener.addr.port;
  listener.close();
  return port;
}

class Collector extends Subscriber {
  readonly got: unknown[] = [];
  override event(event: Event): void {
    this.got.push(event.msg);
  }
}

Deno.test("kill -9 of es serve, restart on the same port: subscribers resume with no user code, status shows it", async () => {
  const port = String(freePort());
  const args = ["-N", "--no-http", "-p", port];
  let server = await spawnServe(args);
  const reconnect = { backoff: () => 100, maxAttempts: 200 };
  const classic = new Collector({ esURI: server.uri, reconnect });
  const client = await connect({ esURI: server.uri, reconnect });
  const classicStatus: Status[] = [];
  const clientStatus: Status[] = [];
  void (async () => {
    for await (const s of classic.status()) classicStatus.push(s);
  })();
  void (async () => {
    for await (const s of client.status()) clientStatus.push(s);
  })();
  try {
    await classic.subscribe("quotes.sun");
    await classic.subscribeMatch("^news\\.");
    const listening = classic.listen();
    listening.catch(() => {});
    const stream = await client.subscribeMatch("^quotes\\.");
    {
      await using publisher = await connect({ esURI: server.uri, reconnect: false });
      await publisher.publish("quotes.sun", "before");
      await publisher.flush();
    }
    await waitUntil(() => classic.got.length === 1, 5000, "the first event");

    server.kill("SIGKILL");
    assertEquals((await server.status()).signal, "SIGKILL");
    await waitUntil(
      () => [classicStatus, clientStatus].every((l) => l.some((s) => s.type === "disconnect")),
      5000,
      "both to see the disconnect",
    );
    server = await spawnServe(args);
    await waitUntil(
      () => [classicStatus, clientStatus].every((l) => l.some((s) => s.type === "reconnect")),
      15_000,
      "both to reconnect",
    );
    {
      await using publisher = await connect({ esURI: server.uri, reconnect: false });
      await publisher.publish("quotes.sun", "after");
      await publisher.publish("news.today", "news");
      await publisher.flush();
    }
    await waitUntil(() => classic.got.length === 3, 5000, "events after the restart");
    assertEquals(classic.got, ["before", "after", "news"]);
    const seen: unknown[] = [];
    for await (const event of stream) {
      seen.push(event.msg);
      if (seen.length === 2) break;
    }
    assertEquals(seen, ["before", "after"]);
    for (const list of [classicStatus, clientStatus]) {
      const types = list.map((s) => s.type).filter((t) => t !== "error");
      assertEquals(types.slice(0, 2), ["disconnect", "reconnect"]);
      const lost = list.find((s) => s.type === "disconnect");
      assert(lost?.type === "disconnect" && lost.willReconnect);
    }
  } finally {
    await classic.close();
    await client.close();
    server.kill("SIGKILL");
    await server.status();
  }
});

Deno.test("a frozen es serve (SIGSTOP) is detected by heartbeat; after SIGCONT the client is back", async () => {
  const server = await spawnServe(["-N", "--no-http", "--heartbeat-ms", "200"]);
  const client = await connect({
    esURI: server.uri,
    connectTimeoutMs: 2000,
    reconnect: { backoff: () => 100, maxAttempts: 100 },
  });
  const status: Status[] = [];
  void (async () => {
    for await (const s of client.status()) status.push(s);
  })();
  try {
    const sub = await client.subscribe("thaw");
    server.kill("SIGSTOP");
    await waitUntil(() => status.some((s) => s.type === "disconnect"), 5000, "heartbeat timeout");
    const lost = status.find((s) => s.type === "disconnect");
    assert(lost?.type === "disconnect");
    assertEquals((lost.error as { code?: number }).code, 11); // TIMEOUT
    server.kill("SIGCONT");
    await waitUntil(() => status.some((s) => s.type === "reconnect"), 15_000, "reconnect");
    await client.publish("thaw", "warm again");
    for await (const event of sub) {
      assertEquals(event.msg, "warm again");
      break;
    }
  } finally {
    server.kill("SIGCONT");
    await client.close();
    server.kill("SIGKILL");
    await server.status();
  }
});
