import { assert, assertEquals, assertMatch, assertRejects } from "./_assert.ts";
import { spawnServe } from "./_helpers.ts";
import { connect, ConnectionClosedError, type Event, Subscriber } from "../lib/client/mod.ts";
import { ErrorCode } from "../lib/protocol/constants.ts";

/** A slow subscriber: events pile up in the server's queue for it. */
class SlowCollector extends Subscriber {
  readonly got: unknown[] = [];
  override async event(event: Event): Promise<void> {
    await new Promise((r) => setTimeout(r, 3));
    this.got.push(event.msg);
  }
}

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  Deno.test(`es serve on ${signal}: clients get BYE SHUTDOWN after their queued events, exit code 0`, async () => {
    const server = await spawnServe(["-N", "--no-http"]);
    const sub = new SlowCollector({
      esURI: server.uri,
      reconnect: false,
      threading: false,
    });
    try {
      await sub.subscribe("x");
      const listening = sub.listen();
      listening.catch(() => {});
      await using publisher = await connect({ esURI: server.uri, reconnect: false });
      for (let i = 0; i < 100; i++) await publisher.publish("x", i);
      await publisher.flush();
      server.kill(signal);
      assertEquals((await server.status()).code, 0, server.stderr);
      // Every event queued before the shutdown arrived, then the BYE.
      const why = await listening.catch((e) => e);
      assertEquals(sub.got.length, 100, String(why));
      await assertRejects(() => listening, (e: unknown) => {
        assert(e instanceof ConnectionClosedError);
        assertEquals(e.code, ErrorCode.SHUTDOWN);
        assertMatch(e.message, /shutting down/);
        return true;
      });
      assertMatch(server.stderr, /Event Server stopped\./);
    } finally {
      await sub.close();
      server.kill("SIGKILL");
      await server.status();
    }
  });
}
