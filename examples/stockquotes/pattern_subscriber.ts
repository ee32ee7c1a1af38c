// deno-lint-ignore-file no-console
/**
 * Listens to a pattern: every quote of a symbol starting with S.
 *
 *   deno run --allow-net --allow-env examples/stockquotes/pattern_subscriber.ts [--es URI] [--count N]
 */

import { type Event, Subscriber } from "../../lib/client/mod.ts";
import { exampleOptions } from "./_options.ts";

/** Prints the quotes of SUN, SAP and any other S-symbol. */
class PatternSubscriber extends Subscriber {
  #left: number;

  constructor(options: ReturnType<typeof exampleOptions>) {
    const { count, intervalMs: _, ...clientOptions } = options;
    super(clientOptions);
    this.#left = count;
    this.subscribeMatch("^STOCKQUOTE\\.S.*$");
  }

  override event(event: Event): void {
    console.log(`${event.subject} ${event.msg}`);
    if (--this.#left <= 0) this.abort();
  }
}

const subscriber = new PatternSubscriber(exampleOptions());
console.log("Listening for quotes matching ^STOCKQUOTE\\.S.*$ …");
await subscriber.listen();
