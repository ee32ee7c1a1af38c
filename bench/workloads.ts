/**
 * The workloads W1–W5, M1 and M2, each run against one system through
 * `BenchClient`s. Rates are measured at the subscribers, from the first
 * publish to the last event received; events that never arrive are counted.
 */

import { type BenchClient, type OnEvent, open, type PatternSpec, routes } from "./adapters.ts";
import { rssKiB } from "./servers.ts";

/** Sizes of one run. */
export interface Sizes {
  w1Events: number;
  w2Events: number;
  w3Seconds: number;
  w4Events: number;
  w5Events: number;
  m1Subscribers: number;
  m2Subscriptions: number;
}

export const FULL: Sizes = {
  w1Events: 200_000,
  w2Events: 50_000,
  w3Seconds: 5,
  w4Events: 200_000,
  w5Events: 200_000,
  m1Subscribers: 10_000,
  m2Subscriptions: 100_000,
};

export const QUICK: Sizes = {
  w1Events: 50_000,
  w2Events: 10_000,
  w3Seconds: 1,
  w4Events: 50_000,
  w5Events: 50_000,
  m1Subscribers: 1_000,
  m2Subscriptions: 10_000,
};

/** Named measurements of one run. */
export type Metrics = Record<string, number>;

const PAYLOAD_BYTES = 64;
/** A subscriber silent this long after the publishers finished has lost the rest. */
const IDLE_MS = 3000;

function payload(): Uint8Array {
  const p = new Uint8Array(PAYLOAD_BYTES);
  for (let i = 0; i < p.length; i++) p[i] = i;
  return p;
}

/** Counts events at the subscribers and knows when the last arrived. */
class Counter {
  count = 0;
  last = 0;
  readonly on: OnEvent = () => {
    this.count++;
    this.last = performance.now();
  };
  /** Waits until `expected` events arrived or none arrived for a while. */
  async settle(expected: number): Promise<void> {
    let seen = this.count;
    let since = performance.now();
    while (this.count < expected) {
      await new Promise((r) => setTimeout(r, 5));
      if (this.count !== seen) {
        seen = this.count;
        since = performance.now();
      } else if (performance.now() - since > IDLE_MS) return;
    }
  }
}

async function openMany(url: string, n: number): Promise<BenchClient[]> {
  const out: BenchClient[] = [];
  for (let i = 0; i < n; i += 200) {
    out.push(...await Promise.all(Array.from({ length: Math.min(200, n - i) }, () => open(url))));
  }
  return out;
}

async function closeAll(clients: BenchClient[]): Promise<void> {
  for (let i = 0; i < clients.length; i += 200) {
    await Promise.allSettled(clients.slice(i, i + 200).map((c) => c.close()));
  }
}

/** Publishes `n` events over `subjects` round-robin, honouring back-pressure, then flushes. */
async function publishMany(pub: BenchClient, subjects: string[], n: number): Promise<void> {
  const p = payload();
  const k = subjects.length;
  for (let i = 0; i < n; i++) {
    const wait = pub.publish(subjects[i % k]!, p);
    if (wait !== undefined) await wait;
  }
  await pub.flush();
}

/** Fan-out: `subs` subscribers of one subject, one publisher; deliveries per second. */
async function fanOut(url: string, subs: number, events: number, prefix: string): Promise<Metrics> {
  const counter = new Counter();
  const subscribers = await openMany(url, subs);
  for (const s of subscribers) await s.subscribe(["bench.fan"], counter.on);
  const pub = await open(url);
  const start = performance.now();
  await publishMany(pub, ["bench.fan"], events);
  const expected = events * subs;
  await counter.settle(expected);
  const metrics = {
    [`${prefix} rate`]: counter.count / ((counter.last - start) / 1000),
    [`${prefix} lost`]: expected - counter.count,
  };
  await closeAll([pub, ...subscribers]);
  return metrics;
}

/** W1: 1 publisher → 1 subscriber. */
export function w1(url: string, sizes: Sizes): Promise<Metrics> {
  return fanOut(url, 1, sizes.w1Events, "W1");
}

/** W2: 1 publisher → 16 subscribers on separate connections. */
export function w2(url: string, sizes: Sizes): Promise<Metrics> {
  return fanOut(url, 16, sizes.w2Events, "W2");
}

/** W3: latency at a steady 5,000 events/s. */
export async function w3(url: string, sizes: Sizes): Promise<Metrics> {
  const rate = 5000;
  const total = rate * sizes.w3Seconds;
  const latencies = new Float64Array(total);
  let received = 0;
  const sub = await open(url);
  await sub.subscribe(["bench.lat"], (_s, p) => {
    const sent = new DataView(p.buffer, p.byteOffset, p.length).getFloat64(0);
    if (received < total) latencies[received++] = performance.now() - sent;
  });
  const pub = await open(url);
  const p = payload();
  const view = new DataView(p.buffer);
  const start = performance.now();
  let sent = 0;
  while (sent < total) {
    const due = Math.min(total, Math.floor((performance.now() - start) * rate / 1000) + 1);
    while (sent < due) {
      view.setFloat64(0, performance.now());
      const wait = pub.publish("bench.lat", p.slice());
      if (wait !== undefined) await wait;
      sent++;
    }
    await new Promise((r) => setTimeout(r, 1));
  }
  await pub.flush();
  const deadline = performance.now() + IDLE_MS;
  while (received < total && performance.now() < deadline) {
    await new Promise((r) => setTimeout(r, 5));
  }
  const sorted = latencies.slice(0, received).sort();
  const at = (q: number) => sorted[Math.min(received - 1, Math.floor(q * received))] ?? NaN;
  await closeAll([pub, sub]);
  return {
    "W3 p50 ms": at(0.5),
    "W3 p99 ms": at(0.99),
    "W3 max ms": sorted[received - 1] ?? NaN,
    "W3 lost": total - received,
  };
}

const W4_SUBJECTS = Array.from({ length: 1000 }, (_, i) => `bench.s${i}`);
const W4_PATTERN: PatternSpec = { regex: "^bench\\.s\\d+$", nats: "bench.>", glob: "bench.*" };

/** W4: 1 publisher over 1,000 subjects, 1 pattern subscriber. */
export async function w4(url: string, sizes: Sizes, prefix = "W4"): Promise<Metrics> {
  if (!routes(url)) return {};
  const counter = new Counter();
  const sub = await open(url);
  await sub.subscribePattern(W4_PATTERN, counter.on);
  const pub = await open(url);
  const start = performance.now();
  await publishMany(pub, W4_SUBJECTS, sizes.w4Events);
  await counter.settle(sizes.w4Events);
  await closeAll([pub, sub]);
  return {
    [`${prefix} rate`]: counter.count / ((counter.last - start) / 1000),
    [`${prefix} lost`]: sizes.w4Events - counter.count,
  };
}

const W5_SUBJECTS = Array.from({ length: 100 }, (_, i) => `bench.w5.${i}`);

/** W5: 10 publishers × 10 subscribers over 100 subjects, with or without 100 idle patterns. */
export async function w5(url: string, sizes: Sizes, idlePatterns: boolean): Promise<Metrics> {
  if (!routes(url)) return {};
  const prefix = idlePatterns ? "W5+idle" : "W5";
  const counter = new Counter();
  const subs = await openMany(url, 10);
  for (const s of subs) await s.subscribe(W5_SUBJECTS, counter.on);
  const idle = await open(url);
  if (idlePatterns) {
    for (let i = 0; i < 100; i++) {
      await idle.subscribePattern(
        { regex: `^nomatch${i}\\.`, nats: `nomatch${i}.>`, glob: `nomatch${i}.*` },
        counter.on,
      );
    }
  }
  const pubs = await openMany(url, 10);
  const per = Math.floor(sizes.w5Events / 10);
  const start = performance.now();
  await Promise.all(pubs.map((p) => publishMany(p, W5_SUBJECTS, per)));
  const expected = per * 10 * 10;
  await counter.settle(expected);
  await closeAll([...pubs, ...subs, idle]);
  return {
    [`${prefix} rate`]: counter.count / ((counter.last - start) / 1000),
    [`${prefix} lost`]: expected - counter.count,
  };
}

/** M1: server RSS per idle subscriber (each on its own connection, one subject). */
export async function m1(url: string, pid: number, sizes: Sizes): Promise<Metrics> {
  if (!routes(url)) return {};
  await new Promise((r) => setTimeout(r, 500));
  const before = await rssKiB(pid);
  const clients = await openMany(url, sizes.m1Subscribers);
  for (let i = 0; i < clients.length; i += 200) {
    await Promise.all(
      clients.slice(i, i + 200).map((c, j) => c.subscribe([`idle.${i + j}`], () => {})),
    );
  }
  await new Promise((r) => setTimeout(r, 1000));
  const after = await rssKiB(pid);
  await closeAll(clients);
  return {
    "M1 KiB/sub": (after - before) / sizes.m1Subscribers,
    "M1 empty MiB": before / 1024,
  };
}

/** M2: many subscriptions held on the server, then W4 again. */
export async function m2(
  url: string,
  sizes: Sizes,
): Promise<{ metrics: Metrics; hold: BenchClient[] }> {
  if (!routes(url)) return { metrics: {}, hold: [] };
  const perClient = 1000;
  const clients = await openMany(url, Math.ceil(sizes.m2Subscriptions / perClient));
  await Promise.all(
    clients.map((c, i) =>
      c.subscribe(Array.from({ length: perClient }, (_, j) => `m2.${i}.${j}`), () => {})
    ),
  );
  const metrics = await w4(url, sizes, "M2 W4");
  return { metrics, hold: clients };
}

export { closeAll };
