import { assert, assertEquals } from "./_assert.ts";
import { exponentialBackoff, PublishBuffer, resolveReconnect } from "../lib/client/reconnect.ts";
import { type Status, StatusHub } from "../lib/client/status.ts";
import { ConnectionClosedError } from "../lib/errors.ts";

Deno.test("exponentialBackoff() doubles up to its cap, with jitter between half and all of it", () => {
  const backoff = exponentialBackoff({ baseMs: 100, maxMs: 1000, jitter: 0.5 });
  for (let i = 0; i < 200; i++) {
    for (const [attempt, cap] of [[1, 100], [2, 200], [3, 400], [4, 800], [5, 1000], [40, 1000]]) {
      const ms = backoff(attempt!);
      assert(ms >= cap! / 2 && ms <= cap!, `attempt ${attempt}: ${ms} ms`);
    }
  }
  assertEquals(exponentialBackoff({ jitter: 0 })(3), 400);
});

Deno.test("resolveReconnect(): on by default, off with false, checks maxAttempts", () => {
  assertEquals(resolveReconnect(undefined)?.maxAttempts, 20);
  assertEquals(resolveReconnect(true)?.bufferBytes, 8 * 1024 * 1024);
  assertEquals(resolveReconnect(false), undefined);
  let threw = false;
  try {
    resolveReconnect({ maxAttempts: 0 });
  } catch (error) {
    threw = error instanceof RangeError;
  }
  assert(threw);
});

Deno.test("PublishBuffer keeps frames in order up to its byte bound, then refuses", () => {
  const buffer = new PublishBuffer(10);
  buffer.add(new Uint8Array(4), "es://x:1");
  buffer.add(new Uint8Array(6), "es://x:1");
  let refused: unknown;
  try {
    buffer.add(new Uint8Array(1), "es://x:1");
  } catch (error) {
    refused = error;
  }
  assert(refused instanceof ConnectionClosedError);
  assertEquals(buffer.take().map((f) => f.length), [4, 6]);
  assertEquals(buffer.size, 0);
});

Deno.test("StatusHub delivers to listeners and iterators; iterators end on close", async () => {
  const hub = new StatusHub();
  const heard: string[] = [];
  hub.addEventListener("reconnect", (e) => heard.push(`${e.detail.type}:${e.detail.attempts}`));
  const it = hub.iterate();
  const changes: Status[] = [
    {
      type: "disconnect",
      uri: "es://x:1",
      error: new ConnectionClosedError("gone"),
      willReconnect: true,
    },
    { type: "reconnect", uri: "es://x:1", attempts: 2, downMs: 30 },
  ];
  for (const s of changes) hub.emit(s);
  hub.close();
  const seen: string[] = [];
  for await (const s of it) seen.push(s.type);
  assertEquals(seen, ["disconnect", "reconnect"]);
  assertEquals(heard, ["reconnect:2"]);
});

Deno.test("StatusHub iterators stop early with an AbortSignal", async () => {
  const hub = new StatusHub();
  const controller = new AbortController();
  const it = hub.iterate(controller.signal);
  const next = it.next();
  controller.abort();
  assertEquals((await next).done, true);
});

Deno.test("StatusHub iterators made with an aborted signal are over at once", async () => {
  const hub = new StatusHub();
  const it = hub.iterate(AbortSignal.abort());
  const first = await Promise.race([it.next(), Promise.resolve("still waiting")]);
  assertEquals(first, { value: undefined, done: true });
  hub.close();
});
