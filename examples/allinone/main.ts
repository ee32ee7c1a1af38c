// deno-lint-ignore-file no-console
/**
 * Everything in one program: a name server, an event server registered with
 * it, a listener that finds the event server by name, and a publisher. All on
 * free ports; the program ends by itself once the listener has its events.
 *
 * Run: deno run --allow-net=127.0.0.1 examples/allinone/main.ts
 *
 * Network access to 127.0.0.1 is all it needs: the servers listen there, the
 * clients are told the name server's URI (so they read no `ES_*` variable),
 * and the pattern engine (RE2) and the servers read no file.
 */

import { startNameServer } from "../../lib/names/mod.ts";
import { startEventServer } from "../../lib/server/mod.ts";
import { type Event, Publisher, Subscriber } from "../../lib/client/mod.ts";

const CITIES = ["Amsterdam", "Berlin", "Cairo", "Delhi", "Edinburgh"];

/** Publishes one temperature reading per city. */
class WeatherStation extends Publisher {
  async report(city: string, celsius: number): Promise<void> {
    await this.publish(`weather.${city}`, { city, celsius });
  }
}

/** Prints readings, and stops listening after `expected` of them. */
class WeatherListener extends Subscriber {
  received = 0;
  constructor(nsURI: string, private readonly expected: number) {
    super({ nsURI, threading: false });
  }
  override event(event: Event): void {
    const { city, celsius } = event.msg as { city: string; celsius: number };
    console.log(`${event.subject}: ${city} is ${celsius} °C`);
    if (++this.received === this.expected) this.abort();
  }
}

await using ns = await startNameServer({ port: 0 });
await using es = await startEventServer({ port: 0, httpPort: false, nameServer: ns.uri });
console.log(`Name server ${ns.uri}, event server ${es.uri}`);

// Both clients know only the name server: they look the event server up by name.
const listener = new WeatherListener(ns.uri, CITIES.length);
await listener.subscribeMatch("^weather\\."); // resolves once the server has registered it
const listening = listener.listen();

await using station = new WeatherStation({ nsURI: ns.uri });
for (const [i, city] of CITIES.entries()) await station.report(city, 10 + i * 3);
await station.flush();

await listening;
console.log(`Received ${listener.received} readings. Done.`);
