/**
 * SPEC §8, guessing the passphrase: a refused handshake ends the connection
 * (a second CONNECT on it is never judged), and after a few refusals from one
 * host every further handshake from it waits before its verdict, right or
 * wrong, a few at a time. Through a real `es serve` with raw protocol peers;
 * the throttle's queue with fake time.
 */

import { FakeTime } from "@std/testing/time";
import { assert, assertEquals } from "./_assert.ts";
import { spawnServe } from "./_helpers.ts";
import { rawConnect, RawPeer } from "./_raw_peer.ts";
import { clientProof } from "../lib/protocol/auth.ts";
import { ErrorCode, FrameType } from "../lib/protocol/constants.ts";
import { decodeErr } from "../lib/protocol/frames/err.ts";
import { decodeHello } from "../lib/protocol/frames/hello.ts";
import { AuthThrottle } from "../lib/session/auth_throttle.ts";

const IDENT = "correct horse battery staple";

/** A CONNECT that proves `passphrase` against the HELLO `peer` received. */
async function connectFrame(peer: RawPeer, passphrase: string): Promise<Uint8Array> {
  const hello = decodeHello((await peer.waitFor(FrameType.HELLO))!.body);
  const clientNonce = crypto.getRandomValues(new Uint8Array(16));
  const proof = await clientProof(passphrase, hello.serverNonce, clientNonce);
  return rawConnect("guesser", { clientNonce, proof });
}

/** One handshake on a fresh connection; how long its verdict took and what it was. */
async function attempt(uri: string, passphrase: string): Promise<{ ms: number; ready: boolean }> {
  await using peer = await RawPeer.open(uri);
  const frame = await connectFrame(peer, passphrase);
  const start = performance.now();
  await peer.write(frame);
  while (!peer.ended && !peer.frames.some((f) => f.type === FrameType.READY)) {
    if (performance.now() - start > 15_000) throw new Error("No verdict within 15 s");
    await new Promise((r) => setTimeout(r, 5));
  }
  return {
    ms: performance.now() - start,
    ready: peer.frames.some((f) => f.type === FrameType.READY),
  };
}

Deno.test("es serve -i: after a refused CONNECT, a right one on the same connection is never judged", async (t) => {
  await using server = await spawnServe(["-N", "--no-http", "-i", IDENT]);
  await t.step("both CONNECTs in one write", async () => {
    await using peer = await RawPeer.open(server.uri);
    const wrong = await connectFrame(peer, "guess one");
    const right = await connectFrame(peer, IDENT);
    await peer.write(new Uint8Array([...wrong, ...right]));
    await peer.waitForEnd();
    assertEquals(peer.frames.map((f) => f.type), [FrameType.HELLO, FrameType.ERR, FrameType.BYE]);
    assertEquals(decodeErr(peer.frames[1]!.body).code, ErrorCode.AUTH);
  });
  await t.step("the right CONNECT sent after the refusal arrived", async () => {
    await using peer = await RawPeer.open(server.uri);
    await peer.write(await connectFrame(peer, "guess two"));
    const err = await peer.waitFor(FrameType.ERR);
    assertEquals(decodeErr(err!.body).code, ErrorCode.AUTH);
    await peer.write(await connectFrame(peer, IDENT)); // may fail: the server has hung up
    await peer.waitForEnd();
    assert(!peer.frames.some((f) => f.type === FrameType.READY), "a READY after a refusal");
  });
});

Deno.test("es serve -i: repeated refusals from one host slow down its verdicts, right or wrong", async () => {
  await using server = await spawnServe(["-N", "--no-http", "-i", IDENT]);
  const times: number[] = [];
  // Two refusals were spent by the test above on another server; this one starts afresh.
  for (let i = 0; i < 8; i++) {
    const { ms, ready } = await attempt(server.uri, `guess ${i}`);
    assert(!ready, `guess ${i} was accepted`);
    times.push(ms);
  }
  // Five free refusals, then 250, 500, 1000 ms: asserted as lower bounds only.
  assert(times[5]! >= 200, `6th refusal after ${times[5]} ms, expected a delay of 250 ms`);
  assert(times[7]! >= 800, `8th refusal after ${times[7]} ms, expected a delay of 1000 ms`);
  // The right passphrase gets in, but no sooner than a wrong one would be refused (2000 ms).
  const right = await attempt(server.uri, IDENT);
  assert(right.ready, "the right passphrase was refused");
  assert(right.ms >= 1500, `READY after ${right.ms} ms under the penalty: a right guess shows`);
  // Success clears the host's record.
  const after = await attempt(server.uri, IDENT);
  assert(after.ready);
});

Deno.test("AuthThrottle: a slowed host's handshakes wait their delay four at a time; the rest queue", async () => {
  using time = new FakeTime();
  const tick = async (ms: number) => {
    await time.tickAsync(ms);
    for (let i = 0; i < 10; i++) await time.runMicrotasks();
  };
  const memory = AuthThrottle.memory();
  const throttle = new AuthThrottle(memory);
  const remote = "10.0.0.1:5555";
  for (let i = 0; i < 5; i++) throttle.refused(remote, Date.now());
  assertEquals(throttle.delayMs(remote), 250);
  assertEquals(new AuthThrottle(memory).delayMs(remote), 250, "another thread counts the same");
  assertEquals(throttle.delayMs("10.0.0.2:1"), 0, "another host is not slowed");
  const stop = new AbortController();
  const admitted: boolean[] = [];
  const waits = Array.from(
    { length: 6 },
    (_, i) => throttle.admit(`10.0.0.1:${6000 + i}`, stop.signal).then((ok) => admitted[i] = ok),
  );
  await tick(249);
  assertEquals(admitted.filter((x) => x !== undefined).length, 0);
  await tick(1);
  assertEquals(admitted.filter((x) => x === true).length, 4);
  await tick(250);
  assertEquals(admitted.filter((x) => x === true).length, 6);
  await Promise.all(waits);

  // A connection that ends while it waits stops waiting.
  throttle.refused(remote, Date.now());
  const waiting = throttle.admit(remote, stop.signal);
  stop.abort();
  assertEquals(await waiting, false);
  // Success forgets the host.
  throttle.accepted(remote);
  assertEquals(throttle.delayMs(remote), 0);
});
