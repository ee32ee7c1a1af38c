// deno-lint-ignore-file no-console
/**
 * A stock market that publishes quotes on `STOCKQUOTE.<SYMBOL>`, talking to
 * the event server directly by its URI (no name server).
 *
 * Run: deno run --allow-net examples/stockquotes_no_ns/market.ts [es://HOST:PORT] [COUNT]
 */

import { Publisher } from "../../lib/client/mod.ts";
import { readEnv } from "../../lib/client/options.ts";

// The server's URI: the first argument, else ES_URL (with --allow-env), else the default port.
const esURI = Deno.args[0] ?? readEnv("ES_URL") ?? "es://127.0.0.1:7766";
const count = Number(Deno.args[1] ?? Infinity);
if (!(count >= 1)) {
  throw new RangeError(`Invalid COUNT ${JSON.stringify(Deno.args[1])}: expected a number >= 1`);
}
const SYMBOLS = ["SUN", "MICROSOFT", "IBM", "ORACLE", "SAP", "SEEBEYOND"];

/** A market whose prices wander randomly. */
class StockMarket extends Publisher {
  #prices = new Map(SYMBOLS.map((s) => [s, 50 + Math.random() * 50]));

  async tick(): Promise<void> {
    const symbol = SYMBOLS[Math.floor(Math.random() * SYMBOLS.length)]!;
    const price = Math.max(1, this.#prices.get(symbol)! + (Math.random() - 0.5) * 4);
    this.#prices.set(symbol, price);
    await this.publish(`STOCKQUOTE.${symbol}`, { symbol, price: Math.round(price * 100) / 100 });
  }
}

await using market = new StockMarket({ esURI });
console.log(`Market open on ${esURI}`);
for (let i = 0; i < count; i++) {
  await market.tick();
  await new Promise((r) => setTimeout(r, 100));
}
await market.flush();
console.log(`Market closed after ${count} quotes.`);
