/**
 * SPEC §1's case rules give one and the same result whichever client API
 * subscribes, through the real `es serve`: exact subjects compare by
 * `toLowerCase()`; patterns match the subject as the publisher spelled it with
 * Unicode simple case folding (`İstanbul`, `STRAẞE`, the Kelvin sign). The
 * server alone decides what matches; no client matches again.
 */

import { assertEquals } from "./_assert.ts";
import { delay, EsProcess, spawnServe } from "./_helpers.ts";
import { CollectingSubscriber } from "./_collect.ts";
import { connect, Publisher } from "../lib/client/mod.ts";

/** The Kelvin sign, U+212A: simple case folding makes it `k`. */
const KELVIN_SIGN = "\u212A";

/** Subjects published, in order; every test subscribes to `end` to know the rest is in. */
const SUBJECTS = [
  "İstanbul",
  "Ankara",
  "STRAẞE",
  "straße",
  "STRASSE",
  `${KELVIN_SIGN}elvin`,
  "KELVIN",
  "Kelvinator",
  "end",
];

/** What to subscribe to: exact subjects or patterns (`end` is added as the same kind). */
interface Interest {
  pattern: boolean;
  items: string[];
}

function withEnd({ pattern, items }: Interest): string[] {
  return [...items, pattern ? "^end$" : "end"];
}

async function publishAll(uri: string): Promise<void> {
  await using pub = new Publisher({ esURI: uri });
  for (const subject of SUBJECTS) await pub.publish(subject, subject);
  await pub.flush();
}

/** The subjects a `Subscriber` receives, up to `end`. */
async function throughSubscriber(uri: string, interest: Interest): Promise<string[]> {
  const sub = new CollectingSubscriber({ esURI: uri });
  if (interest.pattern) await sub.subscribeMatch(withEnd(interest));
  else await sub.subscribe(withEnd(interest));
  sub.start();
  await publishAll(uri);
  for (let i = 0; i < 1500 && !sub.events.some((e) => e.subject === "end"); i++) await delay(10);
  await sub.stop();
  return sub.events.map((e) => e.subject);
}

/** The subjects a `connect()` subscription yields, up to `end`. */
async function throughConnect(uri: string, interest: Interest): Promise<string[]> {
  await using client = await connect({ esURI: uri });
  const sub = interest.pattern
    ? await client.subscribeMatch(withEnd(interest))
    : await client.subscribe(withEnd(interest));
  await publishAll(uri);
  const subjects: string[] = [];
  const timer = setTimeout(() => void client.close(), 15_000); // a safety net: ends the loop
  try {
    for await (const event of sub) {
      subjects.push(event.subject);
      if (event.subject === "end") break;
    }
  } finally {
    clearTimeout(timer);
  }
  return subjects;
}

/** The subjects `es subscribe` prints, up to `end` (`count` events with it). */
async function throughCli(uri: string, interest: Interest, count: number): Promise<string[]> {
  const args = ["subscribe", "--es", uri, "--json", "--count", String(count)];
  if (interest.pattern) { for (const p of withEnd(interest)) args.push("-m", p); }
  else args.push(...withEnd(interest));
  await using sub = new EsProcess(args);
  for (let i = 0; i < 1500 && !sub.stderr.includes("Subscribed"); i++) await delay(10);
  await publishAll(uri);
  // Killed after a while if it never gets `count` events; what it printed tells.
  await sub.status(10_000);
  return sub.stdoutLines.filter((l) => l).map((l) => JSON.parse(l).subject);
}

/** Checks that every API receives `expected` (then `end`), in publish order. */
async function sameForEveryApi(interest: Interest, expected: string[]): Promise<void> {
  await using server = await spawnServe(["-N", "--no-http"]);
  const want = [...expected, "end"];
  // All three first, then one comparison: a failure shows how each API differs.
  const got = {
    Subscriber: await throughSubscriber(server.uri, interest),
    "connect()": await throughConnect(server.uri, interest),
    "es subscribe": await throughCli(server.uri, interest, want.length),
  };
  assertEquals(got, { Subscriber: want, "connect()": want, "es subscribe": want });
}

Deno.test("Patterns İstanbul, ^STRAẞE$ and kelvin match the same subjects for Subscriber, connect() and es subscribe -m", async () => {
  await sameForEveryApi(
    { pattern: true, items: ["İstanbul", "^STRAẞE$", "kelvin"] },
    ["İstanbul", "STRAẞE", "straße", `${KELVIN_SIGN}elvin`, "KELVIN", "Kelvinator"],
  );
});

Deno.test("A pattern spelled with the Kelvin sign matches kelvin, KELVIN and the Kelvin sign alike", async () => {
  await sameForEveryApi(
    { pattern: true, items: [`^${KELVIN_SIGN}elvin$`] },
    [`${KELVIN_SIGN}elvin`, "KELVIN"],
  );
});

Deno.test("Exact subjects compare by toLowerCase() for Subscriber, connect() and es subscribe", async () => {
  // "İSTANBUL" and "İstanbul" lower to the same string; "STRASSE" lowers to "strasse", not "straße".
  await sameForEveryApi(
    { pattern: false, items: ["İSTANBUL", "straße", "kelvin"] },
    ["İstanbul", "STRAẞE", "straße", `${KELVIN_SIGN}elvin`, "KELVIN"],
  );
});
