// deno-lint-ignore-file no-console
/**
 * A chat over the event server: every line typed is published on
 * `ChatBox.Channel.<channel>` as `[nick, line]`; lines from others are printed.
 *
 * Run in two terminals (with `es serve` running):
 *   deno run --allow-net --allow-env examples/chatbox/main.ts --nick alice
 *   deno run --allow-net --allow-env examples/chatbox/main.ts --nick bob
 */

import { parseArgs } from "node:util";
import { type ClientOptions, type Event, Publisher, Subscriber } from "../../lib/client/mod.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    nick: { type: "string", short: "n" },
    channel: { type: "string", short: "c", default: "lobby" },
    es: { type: "string" },
    ns: { type: "string" },
    ident: { type: "string", short: "i" },
  },
});

const nick = values.nick ?? `guest${Math.floor(Math.random() * 1000)}`;
const topic = `ChatBox.Channel.${values.channel}`;
const options: ClientOptions = {};
if (values.es) options.esURI = values.es;
if (values.ns) options.nsURI = values.ns;
if (values.ident) options.ident = values.ident;

/** Says lines on the channel. */
class ChatSender extends Publisher {
  say(line: string): Promise<void> {
    return this.publish(topic, [nick, line]);
  }
}

/** Prints what the others say on the channel. */
class ChatListener extends Subscriber {
  override event(event: Event): void {
    const [from, line] = event.msg as [string, string];
    if (from !== nick) console.log(`[${from}] ${line}`);
  }
}

const sender = new ChatSender(options);
const listener = new ChatListener({ ...options, threading: false });
await listener.subscribe(topic);
const listening = listener.listen().catch((error) => {
  console.error(`Lost the chat: ${error.message}`);
  Deno.exit(1);
});
await sender.say("(joined)");
console.log(`Joined ${topic} as ${nick}. Type lines; Ctrl-D leaves.`);

// Standard input, line by line.
const decoder = new TextDecoder();
let pending = "";
for await (const chunk of Deno.stdin.readable) {
  pending += decoder.decode(chunk, { stream: true });
  const lines = pending.split("\n");
  pending = lines.pop()!;
  for (const line of lines) if (line.trim()) await sender.say(line.trimEnd());
}
if (pending.trim()) await sender.say(pending.trimEnd());
await sender.say("(left)");
await sender.flush();
await sender.close();
await listener.close();
await listening;
