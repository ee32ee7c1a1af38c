// deno-lint-ignore-file no-console
/**
 * Listens to two exact subjects: STOCKQUOTE.SUN and STOCKQUOTE.MSFT.
 *
 *   deno run --allow-net --allow-env examples/stockquotes/subscriber.ts [--es URI] [--count N]
 */

import { type Event, Subscriber } from "../../lib/client/mod.ts";
import { exampleOptions } from "./_options.ts";

/** Prints the quotes of SUN and MSFT. */
class StockSubscriber extends Subscriber {
  #left: number;

  constructor(options: ReturnType<typeof exampleOptions>) {
    const { count, intervalMs: _, ...clientOptions } = options;
    super(clientOptions);
    this.#left = count;
    // Not awaited, as in the original: errors surface from listen().
    this.subscribe(["STOCKQUOTE.SUN", "STOCKQUOTE.MSFT"]);
  }

  override event(event: Event): void {
    console.log(`${event.subject} ${event.msg} (${new Date(event.time).toLocaleTimeString()})`);
    if (--this.#left <= 0) this.abort();
  }
}

const subscriber = new StockSubscriber(exampleOptions());
console.log("Listening for SUN and MSFT quotes…");
await subscriber.listen();
