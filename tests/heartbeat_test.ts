import { assert, assertEquals, assertMatch, assertRejects } from "./_assert.ts";
import { delay, startTestServer, waitUntil } from "./_helpers.ts";
import { RawPeer, SilentServer } from "./_raw_peer.ts";
import { connect, ConnectionClosedError } from "../lib/client/mod.ts";
import { ErrorCode, FrameType } from "../lib/protocol/constants.ts";
import { decodeBye } from "../lib/protocol/frames/bye.ts";

Deno.test("the server pings a quiet peer and drops it with BYE TIMEOUT after two silent intervals", async () => {
  await using server = await startTestServer({ heartbeatMs: 100 });
  await using peer = await RawPeer.ready(server.uri);
  // The raw peer never answers PING.
  assert(await peer.waitFor(FrameType.PING, 2000), "the server should ping a quiet peer");
  const bye = await peer.waitFor(FrameType.BYE, 3000);
  assert(bye, "the server should say BYE");
  const { code, reason } = decodeBye(bye.body);
  assertEquals(code, ErrorCode.TIMEOUT);
  assertMatch(reason, /Heartbeat timeout/);
  await peer.waitForEnd();
  assertEquals((await server.stats()).reliability?.heartbeatTimeouts, 1);
});

Deno.test("the client drops a silent server after two intervals with a TIMEOUT ConnectionClosedError", async () => {
  await using fake = new SilentServer(100);
  const client = await connect({ esURI: fake.uri, reconnect: false });
  const started = Date.now();
  await assertRejects(() => client.flush(), (e: unknown) => {
    assert(e instanceof ConnectionClosedError, String(e));
    assertEquals(e.code, ErrorCode.TIMEOUT);
    assertMatch(e.message, /no heartbeat from the server/);
    return true;
  });
  assert(Date.now() - started < 5000);
  await client.close();
});

Deno.test("an idle client and server keep each other alive with PING/PONG", async () => {
  await using server = await startTestServer({ heartbeatMs: 100 });
  await using client = await connect({ esURI: server.uri });
  const sub = await client.subscribe("later");
  await delay(800); // Eight intervals of silence from the application.
  await client.publish("later", "still here");
  for await (const event of sub) {
    assertEquals(event.msg, "still here");
    break;
  }
  assertEquals((await server.stats()).reliability?.heartbeatTimeouts, 0);
});

Deno.test("a client whose reading is paused by back-pressure is not taken for dead", async () => {
  await using server = await startTestServer({ heartbeatMs: 100 });
  await using client = await connect({ esURI: server.uri, bufferSize: 1 });
  const sub = await client.subscribe("x");
  await using publisher = await connect({ esURI: server.uri });
  for (let i = 0; i < 5; i++) await publisher.publish("x", i);
  await publisher.flush();
  await delay(800); // Nobody reads `sub`: the client's read loop waits all this time.
  const seen: unknown[] = [];
  for await (const event of sub) {
    seen.push(event.msg);
    if (seen.length === 5) break;
  }
  assertEquals(seen, [0, 1, 2, 3, 4]);
  assertEquals((await server.stats()).reliability?.heartbeatTimeouts, 0);
  await waitUntil(() => server.connections.size === 2, 1000);
});
