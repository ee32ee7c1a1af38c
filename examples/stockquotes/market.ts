// deno-lint-ignore-file no-console
/**
 * The market: publishes a stock quote now and then on STOCKQUOTE.<SYMBOL>,
 * as the original Event Server's stockquotes example did.
 *
 *   deno run --allow-net --allow-env examples/stockquotes/market.ts [--es URI] [--count N] [--interval-ms MS]
 */

import { Publisher } from "../../lib/client/mod.ts";
import { exampleOptions } from "./_options.ts";

const SYMBOLS = ["SUN", "MSFT", "IBM", "SAP", "ORCL", "APPL"];

/** A market that publishes random quotes for its symbols. */
class Market extends Publisher {
  #prices = new Map(SYMBOLS.map((s) => [s, 20 + Math.random() * 80]));

  /** Moves one price a little and publishes it. */
  async tick(): Promise<void> {
    const symbol = SYMBOLS[Math.floor(Math.random() * SYMBOLS.length)]!;
    const price = Math.round(this.#prices.get(symbol)! * (0.98 + Math.random() * 0.04) * 100) / 100;
    this.#prices.set(symbol, price);
    await this.publish(`STOCKQUOTE.${symbol}`, price);
    console.log(`STOCKQUOTE.${symbol} ${price}`);
  }
}

const { count, intervalMs, ...options } = exampleOptions();
await using market = new Market(options);
for (let i = 0; i < count; i++) {
  await market.tick();
  if (i + 1 < count) await new Promise((r) => setTimeout(r, intervalMs));
}
await market.flush();
