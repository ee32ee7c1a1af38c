// deno-lint-ignore-file no-console
/**
 * Delivery rate to one subscriber over TCP and over the `/ws` WebSocket endpoint:
 *
 *   deno run -A bench/ws_throughput.ts [EVENTS] [PAYLOAD_BYTES]
 */

import { startEventServer } from "../lib/server/event_server.ts";
import { connect } from "../lib/client/mod.ts";

const EVENTS = Number(Deno.args[0] ?? 200_000);
const PAYLOAD = "x".repeat(Number(Deno.args[1] ?? 100));

/** Publishes EVENTS events over TCP and times their arrival at a subscriber on `subURI`. */
async function run(
  label: string,
  subURI: (server: { uri: string; httpPort: number | undefined }) => string,
) {
  const server = await startEventServer({ port: 0, httpPort: 0, nameServer: "none" });
  try {
    const sub = await connect({ esURI: subURI(server) });
    const pub = await connect({ esURI: server.uri });
    const events = await sub.subscribe("bench");
    const started = performance.now();
    const publishing = (async () => {
      for (let i = 0; i < EVENTS; i++) await pub.publish("bench", PAYLOAD);
      await pub.flush();
    })();
    let received = 0;
    for await (const _ of events) {
      if (++received === EVENTS) break;
    }
    await publishing;
    const seconds = (performance.now() - started) / 1000;
    console.log(
      `${label.padEnd(5)} ${EVENTS} events of ${PAYLOAD.length} B in ${seconds.toFixed(2)} s: ` +
        `${Math.round(EVENTS / seconds)} events/s`,
    );
    await pub.close();
    await sub.close();
  } finally {
    await server.close();
  }
}

await run("tcp", (s) => s.uri);
await run("ws", (s) => `ws://127.0.0.1:${s.httpPort}`);
