/** Test helper: a `Subscriber` that records its events and lets a test wait for a number of them. */

import { Subscriber, type SubscriberOptions } from "../lib/client/subscriber.ts";
import type { Event } from "../lib/client/event.ts";

/** Records every event; `listen()` runs in the background from `start()`. */
export class CollectingSubscriber extends Subscriber {
  readonly events: Event[] = [];
  /** The `listen()` promise once started; never rejects (see `listenError`). */
  listening: Promise<void> | undefined;
  listenError: unknown = undefined;
  #waiters: { count: number; resolve: () => void }[] = [];

  constructor(options: SubscriberOptions) {
    super(options);
  }

  override event(event: Event): void | Promise<void> {
    this.events.push(event);
    this.#wake();
  }

  #wake(): void {
    this.#waiters = this.#waiters.filter((w) => {
      if (this.events.length < w.count) return true;
      w.resolve();
      return false;
    });
  }

  /** Starts `listen()` in the background. */
  start(): this {
    this.listening = this.listen().catch((error) => void (this.listenError = error));
    return this;
  }

  /** Waits until at least `count` events arrived; throws after `timeoutMs`. */
  async waitFor(count: number, timeoutMs = 10_000): Promise<Event[]> {
    if (this.events.length < count) {
      const { promise, resolve } = Promise.withResolvers<void>();
      this.#waiters.push({ count, resolve });
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () =>
            reject(
              new Error(
                `Timed out: ${this.events.length} of ${count} events after ${timeoutMs} ms`,
              ),
            ),
          timeoutMs,
        );
      });
      try {
        await Promise.race([promise, timeout]);
      } finally {
        clearTimeout(timer);
      }
    }
    return this.events;
  }

  /** Closes and waits for `listen()` to end. */
  async stop(): Promise<void> {
    await this.close();
    await this.listening;
  }
}

/** A free TCP port with nothing listening on it (for connection-failure tests). */
export function deadPort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = listener.addr.port;
  listener.close();
  return port;
}
