/**
 * The connection to NATS, loaded only when a cluster is configured: it
 * connects in the background (a node serves its own clients whether NATS is
 * there or not), reconnects for ever, and keeps the subscriptions asked for
 * before or while it was down.
 */

import { getLogger } from "@logtape/logtape";

const log = getLogger(["es", "cluster"]);

/** A subscription on the link; it lasts across reconnects until `unsubscribe()`. */
export interface NatsSub {
  unsubscribe(): void;
}

/** What the cluster needs of NATS. */
export interface NatsLink {
  readonly servers: readonly string[];
  /** True while connected. */
  readonly connected: boolean;
  /** Times NATS said this connection was too slow, or dropped it for that. */
  readonly slowConsumers: number;
  /** Times the connection came back after a loss. */
  readonly reconnects: number;
  subscribe(subject: string, onMessage: (data: Uint8Array) => void): NatsSub;
  /** Publishes when connected; a publish while down is the caller's to count. */
  publish(subject: string, data: Uint8Array): void;
  /** Resolves once NATS has processed everything sent so far. */
  flush(): Promise<void>;
  close(): Promise<void>;
}

/** The part of the nats client this module uses. */
interface NatsConnection {
  subscribe(
    subject: string,
    options: { callback: (err: unknown, msg: { data: Uint8Array }) => void },
  ): { unsubscribe(): void };
  publish(subject: string, data: Uint8Array): void;
  flush(): Promise<void>;
  drain(): Promise<void>;
  close(): Promise<void>;
  closed(): Promise<void | Error>;
  status(): AsyncIterable<{ type: string; data: unknown }>;
}

class Link implements NatsLink {
  readonly servers: readonly string[];
  connected = false;
  slowConsumers = 0;
  reconnects = 0;
  #nc: NatsConnection | undefined;
  #subs = new Set<Handle>();
  #closed = false;

  constructor(servers: readonly string[]) {
    this.servers = servers;
  }

  adopt(nc: NatsConnection): void {
    this.#nc = nc;
    this.connected = true;
    for (const handle of this.#subs) handle.attach(nc);
    void this.#watch(nc);
  }

  async #watch(nc: NatsConnection): Promise<void> {
    for await (const status of nc.status()) {
      if (status.type === "disconnect") {
        this.connected = false;
        log.warn("Lost NATS ({data}); local delivery goes on, reconnecting", {
          data: String(status.data),
        });
      } else if (status.type === "reconnect") {
        this.connected = true;
        this.reconnects++;
        log.info("Reconnected to NATS {data}; interest restored", { data: String(status.data) });
      } else if (status.type === "error" && /slow/i.test(String(status.data))) {
        this.slowConsumers++;
      }
    }
  }

  subscribe(subject: string, onMessage: (data: Uint8Array) => void): NatsSub {
    const handle = new Handle(subject, onMessage, () => this.#subs.delete(handle));
    this.#subs.add(handle);
    if (this.#nc) handle.attach(this.#nc);
    return handle;
  }

  publish(subject: string, data: Uint8Array): void {
    if (this.connected) this.#nc?.publish(subject, data);
  }

  flush(): Promise<void> {
    return this.#nc && this.connected ? this.#nc.flush() : Promise.resolve();
  }

  get isClosed(): boolean {
    return this.#closed;
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.connected = false;
    await this.#nc?.close();
  }
}

/** A subscription made whenever the connection is there. */
class Handle implements NatsSub {
  #sub: { unsubscribe(): void } | undefined;
  #gone = false;

  constructor(
    readonly subject: string,
    readonly onMessage: (data: Uint8Array) => void,
    readonly forget: () => void,
  ) {}

  attach(nc: NatsConnection): void {
    if (this.#gone || this.#sub) return;
    this.#sub = nc.subscribe(this.subject, {
      callback: (err, msg) => {
        if (!err) this.onMessage(msg.data);
      },
    });
  }

  unsubscribe(): void {
    this.#gone = true;
    this.#sub?.unsubscribe();
    this.forget();
  }
}

/**
 * Starts connecting to NATS at `servers` and returns at once.
 *
 * @param name How this node appears in NATS's monitoring.
 * @throws {Error} when the nats client module cannot be loaded.
 */
export async function openNatsLink(servers: readonly string[], name: string): Promise<NatsLink> {
  const { connect } = await import("nats");
  const link = new Link(servers);
  log.info("Joining the cluster through NATS {servers}", { servers: servers.join(",") });
  void (async () => {
    try {
      const nc = await connect({
        servers: [...servers],
        name,
        noEcho: true,
        waitOnFirstConnect: true,
        maxReconnectAttempts: -1,
        reconnectTimeWait: 250,
        pingInterval: 10_000,
      }) as unknown as NatsConnection;
      if (link.isClosed) {
        await nc.close();
        return;
      }
      log.info("Connected to NATS {servers}", { servers: servers.join(",") });
      link.adopt(nc);
    } catch (error) {
      log.error("Cannot use NATS {servers}: {error}", {
        servers: servers.join(","),
        error: String(error),
      });
    }
  })();
  return link;
}
