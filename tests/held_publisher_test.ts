/**
 * A publisher held by back-pressure (block mode, a full queue) is alive:
 * neither the server nor its own client drops it for silence, however many
 * heartbeat intervals it waits, and it completes once the subscriber goes on.
 * Through the real `es serve` with a short heartbeat.
 */

import { assert, assertEquals } from "./_assert.ts";
import { delay, runEs, spawnServe } from "./_helpers.ts";
import { Publisher, Subscriber } from "../lib/client/mod.ts";
import type { Event } from "../lib/client/mod.ts";

const HEARTBEAT_MS = 300;
const TOTAL = 3000;
const FOUR_KIB = new Uint8Array(4096);

/** Counts events; every `event()` waits until `proceed()`. */
class WaitingSubscriber extends Subscriber {
  received = 0;
  #gate = Promise.withResolvers<void>();

  override async event(_event: Event): Promise<void> {
    await this.#gate.promise;
    this.received++;
  }

  proceed(): void {
    this.#gate.resolve();
  }
}

/** The server's count of peers dropped for silence, from `es stats --json`. */
async function heartbeatTimeouts(uri: string): Promise<number> {
  const r = await runEs(["stats", "--es", uri, "--json"]);
  assertEquals(r.code, 0, r.stderr);
  return JSON.parse(r.stdout).reliability?.heartbeatTimeouts ?? 0;
}

Deno.test("A publisher held by a full queue for many heartbeat intervals stays connected and completes", async () => {
  await using server = await spawnServe([
    "-N",
    "--no-http",
    "--queue-size",
    "8",
    "--block-queue",
    "--heartbeat-ms",
    String(HEARTBEAT_MS),
  ]);
  const sub = new WaitingSubscriber({ esURI: server.uri });
  await sub.subscribe("load");
  const listening = sub.listen().catch((error: Error) => `listen: ${error.message}`);

  await using pub = new Publisher({ esURI: server.uri });
  const lost: string[] = [];
  pub.addEventListener("disconnect", (e) => lost.push(e.detail.error.message));
  let sent = 0;
  let settled = false;
  const publishing = (async () => {
    for (; sent < TOTAL; sent++) await pub.publish("load", FOUR_KIB);
    await pub.flush();
    return sent;
  })().catch((error: Error) => `${sent}, then ${error.message}`).finally(() => settled = true);

  // Held: the queue of 8, the subscriber's window and the socket buffers fill up, then nothing moves.
  let before = -1;
  for (let i = 0; i < 200 && sent !== before; i++) {
    before = sent;
    await delay(HEARTBEAT_MS);
  }
  // Ten more heartbeat intervals of being held.
  await delay(10 * HEARTBEAT_MS);
  // The server has not processed every publish (flush pending): it is holding the publisher.
  if (settled) assert(false, `the publish loop ended while it should be held: ${await publishing}`);
  const heldAt = sent;
  assertEquals(lost, []);
  assertEquals(await heartbeatTimeouts(server.uri), 0);

  sub.proceed();
  let timer: ReturnType<typeof setTimeout> | undefined; // a safety net, so that a failure ends
  const stuck = new Promise<string>((resolve) => {
    timer = setTimeout(() => resolve(`stuck at ${sent}`), 30_000);
  });
  const done = await Promise.race([publishing, stuck]);
  clearTimeout(timer);
  assertEquals(done, TOTAL, `held at ${heldAt}; received ${sub.received}`);
  for (let i = 0; i < 3000 && sub.received < TOTAL; i++) await delay(10);
  assertEquals(sub.received, TOTAL);
  assertEquals(lost, []);
  assertEquals(await heartbeatTimeouts(server.uri), 0);
  sub.abort();
  assertEquals(await listening, undefined);
});
