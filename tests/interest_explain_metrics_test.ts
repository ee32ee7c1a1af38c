/**
 * What es tells about interest and delivery: `$es.interest` events as
 * subscribers come and go, `es explain SUBJECT`, and `GET /metrics` read by a
 * Prometheus text-format parser. Through the real `es serve`.
 */

import parsePrometheus from "npm:parse-prometheus-text-format@1.1.1";
import { assert, assertEquals, assertMatch, assertRejects } from "./_assert.ts";
import { runEs, spawnServe, waitUntil } from "./_helpers.ts";
import { connect, type Event, type Subscription } from "../lib/client/mod.ts";
import { RawPeer } from "./_raw_peer.ts";
import { encodePub, utf8 } from "../lib/protocol/frames/mod.ts";
import { decodeErr } from "../lib/protocol/frames/err.ts";
import { ErrorCode, FrameType } from "../lib/protocol/constants.ts";
import { encodeMessage } from "../lib/protocol/codec.ts";

async function next(it: AsyncIterator<Event>, timeoutMs = 5000): Promise<Event | undefined> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const result = await Promise.race([
    it.next(),
    new Promise<"late">((r) => timer = setTimeout(() => r("late"), timeoutMs)),
  ]);
  clearTimeout(timer);
  return result === "late" || result.done ? undefined : result.value;
}

Deno.test("$es.interest tells the first subscriber of a subject or pattern and the last, in order", async () => {
  await using server = await spawnServe(["-N", "--no-http"]);
  await using watcher = await connect({ esURI: server.uri });
  const interest = (await watcher.subscribe("$es.interest"))[Symbol.asyncIterator]();
  await using a = await connect({ esURI: server.uri });
  await using b = await connect({ esURI: server.uri });
  const aSub = await a.subscribe("Stock.Sun");
  assertEquals((await next(interest))?.msg, { action: "first", kind: "exact", key: "stock.sun" });
  const bSub = await b.subscribe("STOCK.SUN"); // Not the first: no event.
  await aSub.unsubscribe(); // Not the last: no event.
  const pattern = await a.subscribeMatch("^stock\\.");
  assertEquals((await next(interest))?.msg, {
    action: "first",
    kind: "pattern",
    key: "^stock\\.",
  });
  await bSub.unsubscribe();
  assertEquals((await next(interest))?.msg, { action: "last", kind: "exact", key: "stock.sun" });
  await a.close(); // The pattern goes with its connection.
  assertEquals((await next(interest))?.msg, { action: "last", kind: "pattern", key: "^stock\\." });
  void pattern;
});

Deno.test("publishing on $es. subjects is refused, by the client and by the server", async () => {
  await using server = await spawnServe(["-N", "--no-http"]);
  await using client = await connect({ esURI: server.uri });
  await assertRejects(() => client.publish("$es.interest", 1), RangeError);
  await assertRejects(() => client.publish("$ES.anything", 1), RangeError);
  await using raw = await RawPeer.ready(server.uri);
  await raw.write(encodePub(1, [utf8("$es.interest")], encodeMessage("forged")));
  const err = await raw.waitFor(FrameType.ERR);
  assert(err);
  const decoded = decodeErr(err.body);
  assertEquals(decoded.code, ErrorCode.BAD_SUBJECT);
  assertMatch(decoded.message, /reserved/);
});

Deno.test("es explain SUBJECT lists the subscriptions an event would reach, and why", async () => {
  await using server = await spawnServe(["-N", "--no-http", "--no-block-queue"]);
  await using exact = await connect({ esURI: server.uri });
  await exact.subscribe("quote.sun");
  await using patterned = await connect({ esURI: server.uri, queueSize: 5, overflow: "drop-old" });
  await patterned.subscribeMatch(["^QUOTE\\.", "^nothing"]);
  await using unrelated = await connect({ esURI: server.uri });
  await unrelated.subscribe("other");
  const json = await runEs(["explain", "--json", "--es", server.uri, "Quote.SUN"]);
  assertEquals(json.code, 0, json.stderr);
  const answer = JSON.parse(json.stdout);
  assertEquals(answer.subject, "Quote.SUN");
  const rows =
    (answer.matches as { kind: string; item: string; overflow: string; queueSize: number }[])
      .map((m) => [m.kind, m.item, m.overflow, m.queueSize])
      .sort();
  assertEquals(rows, [["exact", "quote.sun", "drop-new", 1000], [
    "pattern",
    "^QUOTE\\.",
    "drop-old",
    5,
  ]]);
  const text = await runEs(["explain", "--es", server.uri, "Quote.SUN"]);
  assertMatch(text.stdout, /would reach 2 connections through 2 subscriptions/);
  assertMatch(text.stdout, /why: pattern "\^QUOTE\\\\\." matches from the start/);
  const none = await runEs(["explain", "--es", server.uri, "nobody.wants.this"]);
  assertMatch(none.stdout, /nobody wants it/);
});

Deno.test("GET /metrics is Prometheus text: counters match /stats, drops by policy, queues", async () => {
  await using server = await spawnServe(["-N", "--no-block-queue", "--queue-size", "2"]);
  await using frozen = await connect({ esURI: server.uri, bufferSize: 1 });
  const sub: Subscription = await frozen.subscribe("m.x"); // Never read: its queue overflows.
  await using publisher = await connect({ esURI: server.uri });
  for (let i = 0; i < 50; i++) await publisher.publish("m.x", i);
  await publisher.flush();
  await waitUntil(
    async () => {
      const stats = await (await fetch(`${server.httpURL}stats`)).json();
      return stats.totals.dropped > 0;
    },
    10_000,
    "drops",
  );
  const response = await fetch(`${server.httpURL}metrics`);
  assertEquals(response.status, 200);
  assertMatch(response.headers.get("content-type") ?? "", /^text\/plain; version=0\.0\.4/);
  const families = parsePrometheus(await response.text()) as {
    name: string;
    type: string;
    metrics: { value: string; labels?: Record<string, string> }[];
  }[];
  const value = (name: string, labels: Record<string, string> = {}) => {
    const family = families.find((f) => f.name === name);
    assert(family, `no ${name}`);
    const sample = family.metrics.find((m) =>
      Object.entries(labels).every(([k, v]) => m.labels?.[k] === v)
    );
    assert(sample, `no ${name} ${JSON.stringify(labels)}`);
    return Number(sample.value);
  };
  const stats = await (await fetch(`${server.httpURL}stats`)).json();
  assertEquals(value("es_events_published_total"), stats.totals.events);
  assertEquals(families.find((f) => f.name === "es_events_published_total")?.type, "COUNTER");
  assertEquals(
    value("es_events_dropped_by_policy_total", { policy: "drop-new" }),
    stats.totals.dropped,
  );
  assertEquals(value("es_connections"), stats.connections);
  assert(value("es_queued_events") >= 1);
  await sub.unsubscribe();
});

Deno.test("es explain shows a queue group: each member, and that one of them gets each event", async () => {
  await using server = await spawnServe(["-N", "--no-http"]);
  await using a = await connect({ esURI: server.uri });
  await a.subscribe("jobs.1", { group: "workers" });
  await using b = await connect({ esURI: server.uri, overflow: "latest" });
  await b.subscribeMatch("^JOBS\\.", { group: "workers" });
  await using plain = await connect({ esURI: server.uri });
  await plain.subscribe("jobs.1");
  const json = await runEs(["explain", "--json", "--es", server.uri, "jobs.1"]);
  assertEquals(json.code, 0, json.stderr);
  const rows = (JSON.parse(json.stdout).matches as {
    kind: string;
    item: string;
    group: string;
    overflow: string;
  }[]).map((m) => [m.kind, m.item, m.group, m.overflow]).sort();
  assertEquals(rows, [
    ["exact", "jobs.1", "", "block"],
    ["exact", "jobs.1", "workers", "block"],
    ["pattern", "^JOBS\\.", "workers", "latest"],
  ]);
  const text = await runEs(["explain", "--es", server.uri, "jobs.1"]);
  assertMatch(
    text.stdout,
    /would reach 1 connection and one member of each queue group \(workers: one of 2\) through 3 subscriptions/,
  );
  assertMatch(text.stdout, /in queue group "workers", of which one member gets each event/);
});
