/**
 * Unit tests of queue groups in the subject index and the router: group
 * members kept apart from plain subscribers, one member of each group per
 * event (round robin, skipping full queues), each connection at most once
 * with every id that matched, interest per group, and forwarded events that
 * name the groups the receiving node picks for.
 */

import { assert, assertEquals } from "./_assert.ts";
import { Router } from "../lib/broker/router.ts";
import type { Blocker, Target } from "../lib/broker/subscriber_queue.ts";
import { SubjectIndex } from "../lib/broker/subject_index.ts";
import { compilePattern, loadPatternEngine } from "../lib/broker/pattern.ts";

// The engine loads with the first pattern a server sees; these tests compile directly.
await loadPatternEngine();
import { pickMember } from "../lib/broker/routes.ts";
import { SubjectCache } from "../lib/protocol/subject_cache.ts";
import { utf8 } from "../lib/protocol/frames/_body.ts";
import { CodecTag } from "../lib/protocol/constants.ts";

/** A target that records the subscription ids of each event it gets. */
class Member implements Target {
  got: number[][] = [];
  full = false;
  constructor(readonly name: string) {}
  deliver(sids: Uint8Array): boolean {
    const view = new DataView(sids.buffer, sids.byteOffset, sids.byteLength);
    const ids: number[] = [];
    for (let i = 0; i < view.getUint16(0); i++) ids.push(view.getUint32(2 + 4 * i));
    this.got.push(ids);
    return true;
  }
  deliverOrDrop(sids: Uint8Array): boolean {
    return this.deliver(sids);
  }
  hasRoom(): boolean {
    return !this.full;
  }
  whenRoom(): Promise<void> {
    return Promise.resolve();
  }
}

const cache = new SubjectCache();
const subject = (s: string) => cache.lookup(utf8(s), 0, utf8(s).length);
const PAYLOAD = new Uint8Array([1]);

function publish(router: Router, s: string, times = 1): void {
  for (let i = 0; i < times; i++) {
    const blocked: Blocker[] = [];
    router.route(subject(s), 1, CodecTag.RAW, PAYLOAD, blocked);
  }
}

Deno.test("SubjectIndex keeps group members apart from plain subscribers, per group", () => {
  const index = new SubjectIndex<string>();
  index.subscribe("plain", 1, "jobs");
  index.subscribe("w1", 1, "jobs", "workers");
  index.subscribeMatch("w2", 7, compilePattern("^JOB"), "workers");
  index.subscribe("a1", 2, "JOBS", "audit");
  const routes = index.routes("Jobs", "jobs");
  assertEquals(routes.all.map((d) => d.member), ["plain"]);
  assertEquals(
    routes.groups?.map((g) => [g.group, g.members.map((m) => [m.member, m.ids])]),
    [["workers", [["w1", [1]], ["w2", [7]]]], ["audit", [["a1", [2]]]]],
  );
  assertEquals(routes.overlap, false);
  assertEquals(index.targets("Jobs", "jobs").length, 1, "targets() is the plain part");
  index.unsubscribe("w1", 1, "jobs", "workers");
  index.unsubscribeMatch("w2", 7, "^JOB", "workers");
  assertEquals(index.routes("jobs", "jobs").groups?.map((g) => g.group), ["audit"]);
});

Deno.test("SubjectIndex tells interest per group, and interest whatever the group", () => {
  const any: string[] = [];
  const perGroup: string[] = [];
  const index = new SubjectIndex<string>({
    onInterest: (kind, item, present) => any.push(`${present ? "+" : "-"}${kind}:${item}`),
    onGroupInterest: (kind, item, group, present) =>
      perGroup.push(`${present ? "+" : "-"}${kind}:${item}/${group}`),
  });
  index.subscribe("a", 1, "x", "g");
  index.subscribe("b", 1, "x", "g");
  index.subscribe("c", 1, "x");
  index.subscribeMatch("a", 2, compilePattern("^y"), "g");
  index.unsubscribe("a", 1, "x", "g");
  index.unsubscribe("b", 1, "x", "g");
  index.unsubscribe("c", 1, "x");
  index.unsubscribeMatch("a", 2, "^y", "g");
  assertEquals(any, ["+exact:x", "+pattern:^y", "-exact:x", "-pattern:^y"]);
  assertEquals(perGroup, [
    "+exact:x/g",
    "+exact:x/",
    "+pattern:^y/g",
    "-exact:x/g",
    "-exact:x/",
    "-pattern:^y/g",
  ]);
});

Deno.test("Router gives each event to one member of a group, round robin; plain subscribers get all", () => {
  const router = new Router();
  const [a, b, c, plain] = ["a", "b", "c", "plain"].map((n) => new Member(n));
  router.index.subscribe(a!, 1, "jobs", "workers");
  router.index.subscribe(b!, 1, "jobs", "workers");
  router.index.subscribeMatch(c!, 1, compilePattern("^jobs$"), "workers");
  router.index.subscribe(plain!, 1, "jobs");
  publish(router, "jobs", 30);
  assertEquals([a!.got.length, b!.got.length, c!.got.length], [10, 10, 10]);
  assertEquals(plain!.got.length, 30);
  assertEquals(router.totals.routed, 60);
});

Deno.test("Router skips group members whose queue is full, and picks in turn when all are", () => {
  const router = new Router();
  const [a, b, c] = ["a", "b", "c"].map((n) => new Member(n));
  for (const m of [a!, b!, c!]) router.index.subscribe(m, 1, "jobs", "workers");
  b!.full = true;
  publish(router, "jobs", 10);
  assertEquals(b!.got.length, 0, "never the full one");
  assertEquals(a!.got.length + c!.got.length, 10);
  a!.full = c!.full = true;
  publish(router, "jobs", 3);
  assertEquals(a!.got.length + b!.got.length + c!.got.length, 13, "all full: still exactly once");
});

Deno.test("Router gives a connection an event once, with every id, when it is reached two ways", () => {
  const router = new Router();
  const both = new Member("both");
  const other = new Member("other");
  router.index.subscribe(both, 1, "jobs"); // plain
  router.index.subscribe(both, 2, "jobs", "workers");
  router.index.subscribeMatch(both, 3, compilePattern("^jobs"), "workers"); // one member, two ids
  router.index.subscribe(both, 4, "jobs", "audit");
  router.index.subscribe(other, 1, "jobs", "workers");
  publish(router, "jobs", 4);
  assertEquals(both.got.length, 4, "once per event");
  assert(both.got.every((ids) => ids.includes(1) && ids.includes(4)), "plain and audit each time");
  assertEquals(both.got.filter((ids) => ids.includes(2) && ids.includes(3)).length, 2);
  assertEquals(other.got.length, 2, "workers: one of two members per event");
});

Deno.test("A group's turn is shared by every subject it matches", () => {
  const router = new Router();
  const [a, b] = ["a", "b"].map((n) => new Member(n));
  router.index.subscribeMatch(a!, 1, compilePattern("^order\\."), "workers");
  router.index.subscribeMatch(b!, 1, compilePattern("^order\\."), "workers");
  // Each event on a subject of its own: a memo per subject must not restart the turn.
  for (let i = 0; i < 20; i++) publish(router, `order.${i}`);
  assertEquals([a!.got.length, b!.got.length], [10, 10]);
});

Deno.test("Router.deliverForwarded() picks for the groups it is told, or for all of its own", () => {
  const router = new Router();
  const [w, x, plain] = ["w", "x", "plain"].map((n) => new Member(n));
  router.index.subscribe(w!, 1, "jobs", "workers");
  router.index.subscribe(x!, 1, "jobs", "audit");
  router.index.subscribe(plain!, 1, "jobs");
  const body = new Uint8Array(20);
  router.deliverForwarded(subject("jobs"), body, [], undefined);
  router.deliverForwarded(subject("jobs"), body, [], ["workers"]);
  router.deliverForwarded(subject("jobs"), body, [], ["gone"]);
  router.deliverForwarded(subject("jobs"), body, [], "all");
  assertEquals([w!.got.length, x!.got.length, plain!.got.length], [2, 1, 4]);
});

Deno.test("Router picks among local members and other nodes together, and forwards the picks", () => {
  const picked: string[][] = [];
  const peers = new SubjectIndex<string>();
  peers.subscribe("node1", 0, "jobs", "workers");
  peers.subscribe("node2", 0, "jobs", "workers");
  const router = new Router({
    forwarder: {
      wants: () => true,
      groupRoutes: (s) => peers.routes(s.subject, s.key).groups,
      forward: (_s, _body, _blocked, _publisher, picks) =>
        picked.push((picks ?? []).map((p) => `${p.group}@${p.node}`)),
    },
  });
  const local = new Member("local");
  router.index.subscribe(local, 1, "jobs", "workers");
  publish(router, "jobs", 9);
  assertEquals(local.got.length, 3);
  assertEquals(picked.filter((p) => p[0] === "workers@node1").length, 3);
  assertEquals(picked.filter((p) => p[0] === "workers@node2").length, 3);
  assertEquals(picked.filter((p) => p.length === 0).length, 3, "the local picks forward no group");
});

Deno.test("pickMember() rotates from the cursor and skips refused candidates", () => {
  const cursor = { next: 0 };
  const order = Array.from({ length: 6 }, () => pickMember(cursor, 3, () => true));
  assertEquals(order, [0, 1, 2, 0, 1, 2]);
  assertEquals(pickMember(cursor, 3, (i) => i === 2), 2);
  assertEquals(pickMember(cursor, 3, () => false), 0, "none has room: the one whose turn it is");
});
