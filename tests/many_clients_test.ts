// deno-lint-ignore-file no-console
import { assertEquals } from "./_assert.ts";
import { spawnServe } from "./_helpers.ts";
import { type Client, connect } from "../lib/client/mod.ts";

const CLIENTS = 1000;
const EVENTS_EACH = 10;

/** The soft open-files limit (`ulimit -n`); this process needs one per client and some spare. */
async function openFilesLimit(): Promise<number> {
  const { stdout } = await new Deno.Command("sh", { args: ["-c", "ulimit -n"] }).output();
  const text = new TextDecoder().decode(stdout).trim();
  return text === "unlimited" ? Infinity : Number(text);
}

const limit = await openFilesLimit();
if (limit < CLIENTS + 200) {
  console.error(`Skipping the ${CLIENTS}-client test: ulimit -n is ${limit}`);
}

Deno.test({
  name: `${CLIENTS} concurrent clients publish and subscribe in block mode with nothing lost`,
  ignore: limit < CLIENTS + 200,
  async fn() {
    // Each client holds one socket here; the server holds its own in its process.
    await using server = await spawnServe(["-N", "--no-http", "--queue-size", "8"]);
    const clients: Client[] = [];
    try {
      for (let start = 0; start < CLIENTS; start += 100) {
        const batch = Array.from(
          { length: 100 },
          () => connect({ esURI: server.uri, reconnect: false }),
        );
        clients.push(...await Promise.all(batch));
      }
      // Client i listens on s.i; a watcher takes every event by pattern through a tiny queue.
      const subs = await Promise.all(clients.map((c, i) => c.subscribe(`s.${i}`)));
      const watcher = clients[0]!;
      const all = await watcher.subscribeMatch("^s\\.");
      const received = subs.map(async (sub) => {
        const got: number[] = [];
        for await (const event of sub) {
          got.push(event.msg as number);
          if (got.length === EVENTS_EACH) break;
        }
        return got;
      });
      const watched = (async () => {
        let count = 0;
        for await (const _ of all) if (++count === CLIENTS * EVENTS_EACH) break;
        return count;
      })();
      // Every client publishes to its neighbour, all at once.
      await Promise.all(clients.map(async (c, i) => {
        for (let n = 0; n < EVENTS_EACH; n++) await c.publish(`s.${(i + 1) % CLIENTS}`, n);
        await c.flush();
      }));
      const results = await Promise.all(received);
      for (const got of results) assertEquals(got, [...Array(EVENTS_EACH).keys()]);
      assertEquals(await watched, CLIENTS * EVENTS_EACH);
    } finally {
      await Promise.all(clients.map((c) => c.close()));
    }
  },
});
