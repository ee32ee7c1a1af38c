// deno-lint-ignore-file no-console
/**
 * Soak test (not in CI): runs `es serve` as a child process under a mixed load
 * for a set time and reports its RSS and counters over time.
 *
 *   deno task soak [--seconds 60] [--publishers 8] [--subscribers 16] [--sample-seconds 5]
 *                  [--no-hostile]
 *
 * Load: publishers in tight loops (flush every 100 events) over 50 subjects;
 * subscribers by exact subject and by pattern; one slow subscriber that the
 * server drops as a slow consumer (and that reconnects); a client that
 * connects, subscribes, publishes and leaves five times a second; and, unless
 * `--no-hostile`, the hostile mix of bench/hostile.ts (frozen subscribers,
 * unread replies, refused frames, one PUB on 2,000 subjects, pattern and
 * UNSUB floods, idle sockets, incomplete HTTP requests, a /ws flooder).
 */

import { parseArgs } from "node:util";
import { type Client, connect, type Event, Subscriber } from "../lib/client/mod.ts";
import { fetchStats } from "../cli/stats.ts";
import { startHostiles } from "./hostile.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    seconds: { type: "string", default: "60" },
    publishers: { type: "string", default: "8" },
    subscribers: { type: "string", default: "16" },
    "sample-seconds": { type: "string", default: "5" },
    "no-hostile": { type: "boolean", default: false },
  },
});
const seconds = Number(values.seconds);
const publishers = Number(values.publishers);
const subscribers = Number(values.subscribers);
const sampleMs = Number(values["sample-seconds"]) * 1000;
const ROOT = new URL("../", import.meta.url);
const RUN_FLAGS = JSON.parse(await Deno.readTextFile(new URL("deno.json", ROOT))).tasks.es
  .split(" ").slice(2, -1) as string[];

/** Starts `es serve` and reads its URI from the banner. */
async function startServer(): Promise<{ child: Deno.ChildProcess; uri: string; http: string }> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      ...RUN_FLAGS,
      new URL("main.ts", ROOT).pathname,
      "serve",
      "-N",
      "--http-port",
      "0",
      "-p",
      "0",
      "--queue-size",
      "200",
      "--slow-consumer-ms",
      "2000",
      "--log-level",
      "error",
    ],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!text.includes("Event Server started.")) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`es serve exited early:\n${text}`);
    text += value;
  }
  void (async () => {
    while (!(await reader.read()).done) { /* drain */ }
  })();
  const uri = /URI= (\S+)/.exec(text)![1]!;
  const http = /HTTP= (\S+)/.exec(text)![1]!;
  return { child, uri, http };
}

/** Resident set size of a process in MiB, from `ps` (reading /proc would need --allow-all). */
async function rssMiB(pid: number): Promise<number> {
  const { stdout } = await new Deno.Command("ps", { args: ["-o", "rss=", "-p", String(pid)] })
    .output();
  return Number(new TextDecoder().decode(stdout).trim()) / 1024;
}

class Counter extends Subscriber {
  count = 0;
  constructor(esURI: string, readonly slowMs = 0) {
    super({ esURI, bufferSize: slowMs > 0 ? 4 : 1000, reconnect: { maxAttempts: 1000 } });
  }
  override async event(_e: Event): Promise<void> {
    this.count++;
    if (this.slowMs > 0) await new Promise((r) => setTimeout(r, this.slowMs));
  }
}

const { child, uri, http } = await startServer();
console.log(
  `es serve pid ${child.pid} at ${uri}; ${seconds} s, ${publishers} publishers, ${subscribers} subscribers`,
);
const deadline = Date.now() + seconds * 1000;
const running = () => Date.now() < deadline;

const subs: Counter[] = [];
for (let i = 0; i < subscribers; i++) {
  const sub = new Counter(uri);
  if (i % 2 === 0) await sub.subscribe(`soak.${i % 50}`);
  else await sub.subscribeMatch(`^soak\\.${i % 5}`);
  subs.push(sub);
}
const slow = new Counter(uri, 50);
await slow.subscribeMatch("^soak\\.");
const listens = [...subs, slow].map((s) => s.listen().catch((e) => console.error("listen:", e)));

let published = 0;
let publishErrors = 0;
const pubLoops = Array.from({ length: publishers }, async (_, p) => {
  const client: Client = await connect({ esURI: uri, reconnect: { maxAttempts: 1000 } });
  let n = 0;
  while (running()) {
    try {
      await client.publish(`soak.${(p * 7 + n) % 50}`, { p, n, at: Date.now() });
      published++;
      if (++n % 100 === 0) await client.flush();
    } catch {
      publishErrors++;
    }
  }
  await client.close();
});

const hostiles = values["no-hostile"] ? undefined : startHostiles(uri, http, running);

let churned = 0;
const churn = (async () => {
  while (running()) {
    const c = await connect({ esURI: uri, reconnect: false });
    const s = await c.subscribe(`churn.${churned % 10}`);
    await c.publish(`churn.${churned % 10}`, churned);
    for await (const _ of s) break;
    await c.close();
    churned++;
    await new Promise((r) => setTimeout(r, 200));
  }
})();

const rows: string[] = [];
const header = "   t(s)  rss(MiB)  conns  events/s   published   delivered  dropped  slowConsumers";
console.log(header);
const started = Date.now();
const sample = async () => {
  const s = await fetchStats({ esURI: uri, reconnect: false });
  const row = [
    ((Date.now() - started) / 1000).toFixed(0).padStart(7),
    (await rssMiB(child.pid)).toFixed(1).padStart(9),
    String(s.connections).padStart(6),
    s.rate.toFixed(0).padStart(9),
    String(s.totals.events).padStart(11),
    String(s.totals.delivered).padStart(11),
    String(s.totals.dropped).padStart(8),
    String(s.reliability?.slowConsumers ?? 0).padStart(14),
  ].join(" ");
  rows.push(row);
  console.log(row);
};
await sample();
while (running()) {
  await new Promise((r) => setTimeout(r, Math.min(sampleMs, Math.max(deadline - Date.now(), 0))));
  await sample();
}
await Promise.all([...pubLoops, churn, hostiles?.done]);

// Loss check for the well-behaved subscribers: once they have caught up, what the
// server delivered to their connections must equal what their event() handled.
const handled = () => subs.reduce((a, s) => a + s.count, 0);
const deliveredToNormal = async () => {
  const s = await fetchStats({ esURI: uri, reconnect: false });
  return s.subscribers
    .filter((c) => !c.client.startsWith("hostile-"))
    .filter((c) => !(c.patterns.length === 1 && c.patterns[0] === "^soak\\."))
    .reduce((a, c) => a + c.delivered, 0);
};
let server = await deliveredToNormal();
const catchUpDeadline = Date.now() + 60_000;
while (handled() !== server && Date.now() < catchUpDeadline) {
  await new Promise((r) => setTimeout(r, 500));
  server = await deliveredToNormal();
}
console.log(
  `\nwell-behaved subscribers after catching up: server delivered ${server}, handled ${handled()}, ` +
    `difference ${server - handled()}`,
);
for (const s of [...subs, slow]) await s.close();
await Promise.all(listens);
child.kill("SIGTERM");
const status = await child.status;
console.log(
  `client side: ${published} publishes (${publishErrors} errors), ${churned} churn clients, ` +
    `subscribers counted ${subs.reduce((a, s) => a + s.count, 0)} events (+${slow.count} slow)`,
);
if (hostiles) {
  const counts = Object.entries(hostiles.counts).map(([k, v]) => `${k} ${Math.round(v)}`);
  console.log(`hostile clients: ${counts.join(", ")}`);
}
console.log(`es serve exit code after SIGTERM: ${status.code}`);
