/**
 * The workloads, as plans of role processes: which subscriber processes (how
 * many connections each, subscribed to what) and which publisher processes.
 * Every publisher runs the same loop (bench/publish_loop.ts); every event is
 * 64 bytes. Each publisher first sends warm-up events, which subscribers count
 * but do not time, so clients and server are warm when timing starts.
 */

import type { PatternSpec, PubRole, SubRole } from "./protocol.ts";

/** Counts of one run. */
export interface Sizes {
  w1Events: number;
  /** Events published in W2; each of the 16 subscribers gets them all. */
  w2Events: number;
  w3Seconds: number;
  w4Events: number;
  /** Events each of W5's 10 publishers sends. */
  w5EventsPerPublisher: number;
  m1Subscribers: number;
}

export const FULL: Sizes = {
  w1Events: 1_000_000,
  w2Events: 200_000,
  w3Seconds: 5,
  w4Events: 500_000,
  w5EventsPerPublisher: 50_000,
  m1Subscribers: 10_000,
};

export const QUICK: Sizes = {
  w1Events: 200_000,
  w2Events: 50_000,
  w3Seconds: 1,
  w4Events: 100_000,
  w5EventsPerPublisher: 10_000,
  m1Subscribers: 1_000,
};

/** W3's steady publish rate. */
export const W3_RATE = 5000;

/** Role processes of one workload; the runner adds where they connect. */
export interface Plan {
  subs: Omit<SubRole, "role" | "target">[];
  pubs: Omit<PubRole, "role" | "target">[];
}

/** A workload and what it reports. */
export interface Workload {
  name: string;
  title: string;
  /** Needs subject routing (the relay has none). */
  routes: boolean;
  /** Latency instead of a rate. */
  latency: boolean;
  plan(sizes: Sizes): Plan;
}

/** Warm-up events sent ahead of `measured` ones. */
function warmFor(measured: number): number {
  return Math.max(1000, Math.round(measured / 10));
}

const W4_SUBJECTS = Array.from({ length: 1000 }, (_, i) => `bench.s${i}`);
const W4_PATTERN: PatternSpec = { regex: "^bench\\.s\\d+$", nats: "bench.*", glob: "bench.s*" };
const W5_SUBJECTS = Array.from({ length: 100 }, (_, i) => `bench.w5.${i}`);

/** One subscriber process with one connection and one publisher process with one. */
function oneToOne(subject: string, events: number): Plan {
  const warm = warmFor(events);
  return {
    subs: [{ connections: 1, subjects: [subject], expected: events, warm, latency: false }],
    pubs: [{ connections: 1, subjects: [subject], count: events, warm, firstPublisherId: 0 }],
  };
}

export const WORKLOADS: readonly Workload[] = [
  {
    name: "W1",
    title: "1 publisher → 1 subscriber, events/s",
    routes: false,
    latency: false,
    plan: (s) => oneToOne("bench.w1", s.w1Events),
  },
  {
    name: "W2",
    title: "1 publisher → 16 subscribers (2 processes × 8 connections), deliveries/s",
    routes: false,
    latency: false,
    plan: (s) => {
      const warm = warmFor(s.w2Events);
      const sub = { connections: 8, subjects: ["bench.w2"], expected: s.w2Events, warm };
      return {
        subs: [{ ...sub, latency: false }, { ...sub, latency: false }],
        pubs: [{
          connections: 1,
          subjects: ["bench.w2"],
          count: s.w2Events,
          warm,
          firstPublisherId: 0,
        }],
      };
    },
  },
  {
    name: "W3",
    title: `latency at ${W3_RATE.toLocaleString("en-US")} events/s, send time in the payload`,
    routes: false,
    latency: true,
    plan: (s) => {
      const count = W3_RATE * s.w3Seconds;
      const warm = W3_RATE / 5;
      return {
        subs: [{ connections: 1, subjects: ["bench.w3"], expected: count, warm, latency: true }],
        pubs: [{
          connections: 1,
          subjects: ["bench.w3"],
          count,
          warm,
          firstPublisherId: 0,
          ratePerSec: W3_RATE,
        }],
      };
    },
  },
  {
    name: "W4",
    title: "1 publisher over 1,000 subjects → 1 wildcard subscriber, events/s",
    routes: true,
    latency: false,
    plan: (s) => {
      const warm = warmFor(s.w4Events);
      return {
        subs: [{ connections: 1, pattern: W4_PATTERN, expected: s.w4Events, warm, latency: false }],
        pubs: [{
          connections: 1,
          subjects: W4_SUBJECTS,
          count: s.w4Events,
          warm,
          firstPublisherId: 0,
        }],
      };
    },
  },
  {
    name: "W5",
    title: "10 publishers × 10 subscribers over 100 subjects (2+2 processes), deliveries/s",
    routes: true,
    latency: false,
    plan: (s) => {
      const count = s.w5EventsPerPublisher;
      const warm = warmFor(count);
      // Every subscriber takes all 100 subjects, so it gets every publisher's events.
      const sub = { connections: 5, subjects: W5_SUBJECTS, expected: count * 10, warm: warm * 10 };
      const pub = { connections: 5, subjects: W5_SUBJECTS, count, warm };
      return {
        subs: [{ ...sub, latency: false }, { ...sub, latency: false }],
        pubs: [{ ...pub, firstPublisherId: 0 }, { ...pub, firstPublisherId: 5 }],
      };
    },
  },
];

/** M1, measured apart from the workloads, on a fresh server. */
export const M1_TITLE = "server RSS per idle subscriber connection (one subject each), KiB";
