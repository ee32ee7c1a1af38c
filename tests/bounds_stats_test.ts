/**
 * Admin replies fit the frame limit at any size (issue 12, item 10): the
 * statistics cap their lists and say how much they left out.
 */

import { assert, assertEquals, assertMatch } from "./_assert.ts";
import { runEs, spawnServe } from "./_helpers.ts";
import { CountingPeer, subFrame } from "./_bounds.ts";
import { FrameType } from "../lib/protocol/constants.ts";
import { type ServerStats, statsJson, type SubscriberStats } from "../lib/node/stats.ts";

Deno.test("es stats works with a subscriber of 100,000 subjects (its list is capped and counted)", async () => {
  await using server = await spawnServe(["-N", "--no-http"]);
  await using peer = await CountingPeer.open(server.uri, [], "many");
  const subjects = (from: number) => Array.from({ length: 50_000 }, (_, i) => `quote.${from + i}`);
  await peer.write(subFrame(1, 1, subjects(0)));
  await peer.write(subFrame(2, 50_001, subjects(50_000)));
  await peer.waitForCount(FrameType.OK, 2, 30_000);
  // Before: the reply (1.29 MB) was over the 1 MiB frame limit and es stats failed.
  const json = await runEs(["stats", "--json", "--es", server.uri]);
  assertEquals(json.code, 0, json.stderr);
  const stats = JSON.parse(json.stdout) as ServerStats;
  const many = stats.subscribers.find((s) => s.client === "many")!;
  assertEquals(many.subjects.length + many.subjectsOmitted!, 100_000);
  assert(many.subjects.length > 0 && many.subjects.length <= 100);
  const table = await runEs(["stats", "--es", server.uri]);
  assertEquals(table.code, 0, table.stderr);
  assertMatch(table.stdout, new RegExp(`\\(\\+${many.subjectsOmitted} more\\)`));
});

Deno.test("statsJson() leaves subscribers out until the report fits, and counts them", () => {
  const subscriber = (id: number): SubscriberStats => ({
    id,
    remote: "127.0.0.1:1",
    client: "c",
    subjects: Array.from({ length: 100 }, (_, i) => `subject.${i}`.padEnd(40, "x")),
    patterns: [],
    queueSize: 1000,
    overflow: "block",
    queueDepth: 0,
    queueBytes: 0,
    delivered: 0,
    dropped: 0,
    published: 0,
  });
  const stats = {
    subscribers: Array.from({ length: 3000 }, (_, i) => subscriber(i)),
    subjects: [],
    totals: {},
  } as unknown as ServerStats;
  const bytes = statsJson(stats, 1024 * 1024);
  assert(bytes.length <= 1024 * 1024, `${bytes.length} bytes`);
  const fitted = JSON.parse(new TextDecoder().decode(bytes)) as ServerStats;
  assert(fitted.subscribers.length > 100, `only ${fitted.subscribers.length} listed`);
  assertEquals(fitted.subscribers.length + fitted.subscribersOmitted!, 3000);
  assertEquals(stats.subscribers.length, 3000, "the input is left as it was");
});
