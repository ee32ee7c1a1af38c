// deno-lint-ignore-file no-console
/**
 * Prints stock quotes matching a pattern (default: every `STOCKQUOTE.*`),
 * talking to the event server directly by its URI (no name server).
 *
 * Run: deno run --allow-net examples/stockquotes_no_ns/viewer.ts [es://HOST:PORT] [PATTERN] [COUNT]
 */

import { type Event, Subscriber } from "../../lib/client/mod.ts";
import { readEnv } from "../../lib/client/options.ts";

// The server's URI: the first argument, else ES_URL (with --allow-env), else the default port.
const esURI = Deno.args[0] ?? readEnv("ES_URL") ?? "es://127.0.0.1:7766";
const pattern = Deno.args[1] ?? "^STOCKQUOTE\\.";
const count = Number(Deno.args[2] ?? Infinity);
if (!(count >= 1)) {
  throw new RangeError(`Invalid COUNT ${JSON.stringify(Deno.args[2])}: expected a number >= 1`);
}

/** Prints each quote; stops after `count`. */
class QuoteViewer extends Subscriber {
  #seen = 0;
  override event(event: Event): void {
    const { symbol, price } = event.msg as { symbol: string; price: number };
    console.log(`${new Date(event.time).toISOString()} ${symbol.padEnd(10)} ${price.toFixed(2)}`);
    if (++this.#seen >= count) this.abort();
  }
}

const viewer = new QuoteViewer({ esURI, threading: false });
await viewer.subscribeMatch(pattern);
console.log(`Watching ${pattern} on ${esURI}`);
await viewer.listen();
