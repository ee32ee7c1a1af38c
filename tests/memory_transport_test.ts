/** The in-memory transport pair: bytes both ways, closing, and back-pressure past its high water. */

import { assert, assertEquals, assertRejects } from "./_assert.ts";
import { memoryPair } from "../lib/transport/memory.ts";
import { writeAll } from "../lib/transport/transport.ts";

/** Lets every pending promise callback and timer of this turn run. */
const turn = () => new Promise((r) => setTimeout(r, 0));

/** Settles to "pending" if `promise` has not settled after a few turns of the event loop. */
async function state(promise: Promise<unknown>): Promise<"pending" | "fulfilled" | "rejected"> {
  let result: "pending" | "fulfilled" | "rejected" = "pending";
  promise.then(() => result = "fulfilled", () => result = "rejected");
  for (let i = 0; i < 5; i++) await turn();
  return result;
}

async function readAll(transport: { read(b: Uint8Array): Promise<number | null> }, n: number) {
  const out: number[] = [];
  const buffer = new Uint8Array(1024);
  while (out.length < n) {
    const got = await transport.read(buffer);
    if (got === null) break;
    out.push(...buffer.subarray(0, got));
  }
  return out;
}

Deno.test("memoryPair carries bytes both ways, in order", async () => {
  const [a, b] = memoryPair();
  assertEquals(await a.write(new Uint8Array([1, 2, 3])), 3);
  await a.write(new Uint8Array([4]));
  assertEquals(await b.write(new Uint8Array([9, 8])), 2);
  assertEquals(await readAll(b, 4), [1, 2, 3, 4]);
  assertEquals(await readAll(a, 2), [9, 8]);
  assertEquals([a.remote, b.remote], ["memory:a", "memory:b"]);
  a.close();
});

Deno.test("memoryPair reads a chunk into a smaller buffer in several reads", async () => {
  const [a, b] = memoryPair();
  await a.write(new Uint8Array([1, 2, 3, 4, 5]));
  const small = new Uint8Array(2);
  assertEquals(await b.read(small), 2);
  assertEquals([...small], [1, 2]);
  assertEquals(await b.read(small), 2);
  assertEquals([...small], [3, 4]);
  assertEquals(await b.read(small), 1);
  assertEquals(small[0], 5);
  b.close();
});

Deno.test("memoryPair copies what is written: changing it afterwards changes nothing read", async () => {
  const [a, b] = memoryPair();
  const bytes = new Uint8Array([1, 2, 3]);
  await a.write(bytes);
  bytes.fill(0);
  assertEquals(await readAll(b, 3), [1, 2, 3]);
  a.close();
});

Deno.test("a read waits for the peer's write", async () => {
  const [a, b] = memoryPair();
  const buffer = new Uint8Array(8);
  const reading = b.read(buffer);
  assertEquals(await state(reading), "pending");
  await a.write(new Uint8Array([7]));
  assertEquals(await reading, 1);
  assertEquals(buffer[0], 7);
  a.close();
});

Deno.test("closing ends the reads of both sides with null and resolves closed()", async () => {
  const [a, b] = memoryPair();
  const pendingRead = b.read(new Uint8Array(8));
  a.close();
  assertEquals(await pendingRead, null, "a waiting read ends");
  assertEquals(await b.read(new Uint8Array(8)), null);
  assertEquals(await a.read(new Uint8Array(8)), null);
  await a.closed();
  await b.closed();
  await assertRejects(() => a.write(new Uint8Array([1])), /closed/);
  await assertRejects(() => b.write(new Uint8Array([1])), /closed/);
  a.close(); // twice is harmless
  b.close();
});

Deno.test("bytes written before close are still read, then null", async () => {
  const [a, b] = memoryPair();
  await a.write(new Uint8Array([1, 2]));
  a.close();
  assertEquals(await readAll(b, 2), [1, 2]);
  assertEquals(await b.read(new Uint8Array(8)), null);
});

Deno.test("a writer past highWaterBytes waits until the reader reads", async () => {
  const [a, b] = memoryPair(8);
  await a.write(new Uint8Array(8).fill(1)); // reaches the high water: accepted
  const blocked = a.write(new Uint8Array(4).fill(2));
  assertEquals(await state(blocked), "pending", "the pipe holds 8 unread bytes");
  const buffer = new Uint8Array(3);
  assertEquals(await b.read(buffer), 3);
  assertEquals(await blocked, 4, "room again below the high water");
  assertEquals(await readAll(b, 9), [1, 1, 1, 1, 1, 2, 2, 2, 2]);
  a.close();
});

Deno.test("closing releases a writer waiting past the high water with an error", async () => {
  const [a, b] = memoryPair(4);
  await a.write(new Uint8Array(4));
  const blocked = a.write(new Uint8Array(1));
  assertEquals(await state(blocked), "pending");
  b.close();
  await assertRejects(() => blocked, /closed/);
});

Deno.test("writeAll() over a memory pair delivers every byte", async () => {
  const [a, b] = memoryPair(16);
  const bytes = new Uint8Array(1000).map((_, i) => i & 0xff);
  const writing = writeAll(a, bytes);
  const got = await readAll(b, 1000);
  await writing;
  assertEquals(got, [...bytes]);
  assert(got.length === 1000);
  a.close();
});
