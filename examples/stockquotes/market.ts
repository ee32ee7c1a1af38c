// deno-lint-ignore-file no-console
/**
 * The market: publishes a stock quote now and then on STOCKQUOTE.<SYMBOL>,
 * as the original Event Server's stockquotes example did — but only for the
 * symbols somebody wants. It listens to `$es.interest` and, whenever the
 * interest changes (and once at the start), asks the server which symbols an
 * event would reach (`client.explain()`, the server's own matching).
 *
 *   deno run --allow-net --allow-env examples/stockquotes/market.ts [--es URI] [--count N] [--interval-ms MS]
 */

import { type Client, connect } from "../../lib/client/mod.ts";
import { exampleOptions } from "./_options.ts";

const SYMBOLS = ["SUN", "MSFT", "IBM", "SAP", "ORCL", "APPL"];

/** A market that publishes random quotes for the symbols somebody subscribed to. */
class Market {
  #client: Client;
  #prices = new Map(SYMBOLS.map((s) => [s, 20 + Math.random() * 80]));
  /** Symbols with at least one subscriber. */
  wanted = new Set<string>();

  constructor(client: Client) {
    this.#client = client;
  }

  /** Asks the server which symbols have subscribers (exact or by pattern). */
  async refresh(): Promise<void> {
    const answers = await Promise.all(
      SYMBOLS.map(async (s) =>
        [s, (await this.#client.explain(`STOCKQUOTE.${s}`)).matches] as const
      ),
    );
    this.wanted = new Set(answers.filter(([, matches]) => matches.length > 0).map(([s]) => s));
  }

  /** Moves one wanted price a little and publishes it; false when nobody wants any. */
  async tick(): Promise<boolean> {
    const symbols = [...this.wanted];
    if (symbols.length === 0) return false;
    const symbol = symbols[Math.floor(Math.random() * symbols.length)]!;
    const price = Math.round(this.#prices.get(symbol)! * (0.98 + Math.random() * 0.04) * 100) / 100;
    this.#prices.set(symbol, price);
    await this.#client.publish(`STOCKQUOTE.${symbol}`, price);
    console.log(`STOCKQUOTE.${symbol} ${price}`);
    return true;
  }
}

const { count, intervalMs, ...options } = exampleOptions();
await using client = await connect(options);
const market = new Market(client);
const interest = await client.subscribe("$es.interest");
await market.refresh();
console.log(`Wanted: ${[...market.wanted].join(" ") || "nothing yet"}`);
void (async () => {
  for await (const _ of interest) {
    await market.refresh();
    console.log(`Wanted: ${[...market.wanted].join(" ") || "nothing"}`);
  }
})();
for (let published = 0; published < count;) {
  if (await market.tick()) published++;
  await new Promise((r) => setTimeout(r, intervalMs));
}
await client.flush();
await interest.unsubscribe();
