/**
 * A WebSocket publisher held by block mode is held as a TCP one is (issue 12,
 * item 5): the server reads `/ws` frames straight off the socket, so what it
 * does not read stays with the sender.
 */

import { assert, assertEquals } from "./_assert.ts";
import { spawnServe } from "./_helpers.ts";
import { RawSubscriber } from "./_raw_subscriber.ts";
import { pubFrame, rssKiB } from "./_bounds.ts";
import { connect } from "../lib/client/mod.ts";
import { rawConnect } from "./_raw_peer.ts";
import { FrameType } from "../lib/protocol/constants.ts";
import { FrameParser } from "../lib/protocol/parser.ts";

const KiB = 1024;
const MiB = 1024 * KiB;

/** A browser-like WebSocket peer that does the es handshake and then sends what it is told. */
async function wsPeer(httpURL: string): Promise<WebSocket> {
  const socket = new WebSocket(new URL("/ws", httpURL.replace(/^http/, "ws")));
  socket.binaryType = "arraybuffer";
  const parser = new FrameParser();
  const ready = Promise.withResolvers<void>();
  socket.onmessage = (e) => {
    for (const frame of parser.push(new Uint8Array(e.data as ArrayBuffer))) {
      if (frame.type === FrameType.HELLO) socket.send(rawConnect("ws-flooder"));
      if (frame.type === FrameType.READY) ready.resolve();
    }
  };
  socket.onerror = () => ready.reject(new Error("WebSocket failed"));
  await ready.promise;
  return socket;
}

Deno.test("a /ws publisher that sends without waiting is held by TCP: the server's memory stays flat", async () => {
  await using server = await spawnServe(["-N", "--http-port", "0", "--queue-size", "10"]);
  const frozen = await RawSubscriber.subscribe(server.uri, ["flood"], { windowEvents: 1 });
  const socket = await wsPeer(server.httpURL!);
  const closed = new Promise((resolve) => socket.onclose = resolve);
  try {
    const before = await rssKiB(server.child.pid);
    const frame = pubFrame(["flood"], new Uint8Array(64 * KiB));
    const sample = async () => {
      for (let i = 0; i < 512; i++) socket.send(frame); // 32 MiB at once
      await new Promise((r) => setTimeout(r, 1000));
      return await rssKiB(server.child.pid);
    };
    const first = await sample();
    const second = await sample();
    // What the server did not read is still in this process's send buffer.
    const unsent = socket.bufferedAmount;
    assert(unsent > 40 * MiB, `only ${unsent} of 64 MiB left unsent: the server read them`);
    // Before: the server buffered whatever was sent (+1.5 GiB for 1.5 GiB sent). Now it
    // holds the queue, and across nodes what the link's window let through (2 MiB).
    assert(second - first < 4 * KiB, `server RSS grew by ${second - first} KiB for 32 MiB more`);
    assert(second - before < 48 * KiB, `server RSS grew by ${second - before} KiB`);
    assertEquals(socket.readyState, WebSocket.OPEN, "held, not cut off");
  } finally {
    frozen.close(); // the server then reads the rest, and the socket can close
    socket.close();
    await closed;
  }
});

Deno.test("the es client over /ws publishing 20,000 × 16 KiB to a slow block-mode subscriber completes, nothing lost", async () => {
  await using server = await spawnServe(["-N", "--http-port", "0", "--queue-size", "10"]);
  await using subscriber = await connect({ esURI: server.uri, bufferSize: 16 });
  const sub = await subscriber.subscribe("slow");
  const total = 20_000;
  const seen: number[] = [];
  const reading = (async () => {
    for await (const event of sub) {
      seen.push((event.msg as { i: number }).i);
      if (seen.length % 500 === 0) await new Promise((r) => setTimeout(r, 5)); // slow
      if (seen.length === total) break;
    }
  })();
  await using publisher = await connect({ esURI: server.httpURL!.replace(/^http/, "ws") });
  const payload = new Uint8Array(16 * KiB);
  for (let i = 0; i < total; i++) await publisher.publish("slow", { i, payload });
  await publisher.flush(); // Before: cut off (WebSocket close 1009) once 4 MiB were unread.
  await reading;
  assertEquals(seen.length, total);
  assert(seen.every((v, i) => v === i), "events out of order or lost");
});
