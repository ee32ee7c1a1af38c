/**
 * The connection a client opens on first use and re-opens when it is lost:
 * constructors do no I/O, every operation awaits the same connect, and a lost
 * connection is replaced (with backoff) and its subscriptions restored.
 */

import type { ClientConnection } from "./connection.ts";
import { binaryHeader, encodeMessage, encodeMessageShared } from "../protocol/codec.ts";
import { CodecTag } from "../protocol/constants.ts";

/** What a publish that needs no waiting returns: one promise, not one each. */
const RESOLVED: Promise<void> = Promise.resolve();
import { AuthenticationError, ConnectionClosedError } from "../errors.ts";
import type { ClientOptions } from "./options.ts";
import { openEventServer } from "./locate.ts";
import { PublishBuffer, type ResolvedReconnect, resolveReconnect } from "./reconnect.ts";
import type { StatusHub } from "./status.ts";

/** What the owner of a link (Publisher, Subscriber, Client) plugs in. */
export interface LinkHooks {
  /** Wires a fresh connection to its owner (event and error handlers). */
  setup(connection: ClientConnection): void;
  /** The owner's subscriptions in force, restored on a new connection before anything else is sent. */
  subscriptions?(): SubscriptionSpec[];
  /** The connection is gone for good (reconnect off, or given up). */
  lost?(error: Error): void;
}

/** One subscription request to make again after a reconnect, with the same ids. */
export interface SubscriptionSpec {
  pattern: boolean;
  /** Id of `items[0]`; the others follow one by one. */
  firstSid: number;
  group: string;
  items: readonly string[];
}

/** Opens the event-server connection on demand, and again after a loss. */
export class LazyConnection {
  /** Status changes: disconnect, reconnect, error. */
  readonly statusHub: StatusHub;
  #options: ClientOptions;
  #clientName: string;
  #hooks: LinkHooks;
  #reconnect: ResolvedReconnect | undefined;
  #opening: Promise<ClientConnection> | undefined;
  #current: ClientConnection | undefined;
  #closed = false;
  #down = false;
  #buffer: PublishBuffer | undefined;
  #generation = 0;
  /** Generation of the oldest publish not yet confirmed by a flush. */
  #doubt: number | undefined;
  #lostConnections = new WeakSet<ClientConnection>();
  #wakeClose: (() => void) | undefined;
  #nextSid = 1;
  /** Which server of an `esURI` list the next open starts with. */
  #turn = 0;

  /** @param statusHub Where status changes go; the owner hands out iterators and listeners. */
  constructor(options: ClientOptions, clientName: string, hooks: LinkHooks, statusHub: StatusHub) {
    this.statusHub = statusHub;
    this.#options = options;
    this.#clientName = clientName;
    this.#hooks = hooks;
    this.#reconnect = resolveReconnect(options.reconnect);
    if (this.#reconnect) this.#buffer = new PublishBuffer(this.#reconnect.bufferBytes);
  }

  /**
   * Reserves `count` consecutive subscription ids; returns the first. Ids
   * outlive connections, so a restored subscription keeps its ids.
   */
  allocateSids(count: number): number {
    if (this.#nextSid + count > 0xffff_ffff) this.#nextSid = 1;
    const first = this.#nextSid;
    this.#nextSid += count;
    return first;
  }

  /** The connection in use, if one is open. */
  get current(): ClientConnection | undefined {
    return this.#current;
  }

  /**
   * The connection when it is open and in use, else undefined. Operations use
   * it without awaiting anything, so that requests leave (and take effect on
   * the server) in the order they were made: a `subscribeMatch()` made before
   * a `publish()` is in force for it, even when neither was awaited.
   */
  get usable(): ClientConnection | undefined {
    const connection = this.#current;
    if (this.#closed || this.#down || connection === undefined || connection.isClosed) {
      return undefined;
    }
    return connection;
  }

  /** True once the connection is open (or failed). */
  get started(): boolean {
    return this.#opening !== undefined;
  }

  /** True while a lost connection is being replaced. */
  get reconnecting(): boolean {
    return this.#down;
  }

  /** The connection, opening it if needed (or waiting for it to be re-opened). */
  get(): Promise<ClientConnection> {
    if (this.#closed) return Promise.reject(new ConnectionClosedError("The client is closed"));
    if (this.#opening === undefined) {
      const opening = this.#open().then((c) => this.#adopt(c));
      this.#opening = opening;
      // A first connect that failed is tried again by the next operation.
      opening.catch(() => {
        if (this.#opening === opening) this.#opening = undefined;
      });
    }
    return this.#opening;
  }

  async #open(): Promise<ClientConnection> {
    // Each open starts at the next server of a list: a lost server is tried last.
    const connection = await openEventServer(this.#options, this.#clientName, this.#turn++);
    if (this.#closed) {
      await connection.close();
      throw new ConnectionClosedError("The client is closed");
    }
    return connection;
  }

  /** Makes `connection` the current one: wires it and watches for its loss. */
  #adopt(connection: ClientConnection): ClientConnection {
    this.#hooks.setup(connection);
    // Errors of a lost connection are the link's business, not the owner's.
    const ownerOnError = connection.onError;
    connection.onError = (error) => {
      if (connection.isClosed) this.noticeLoss(connection);
      else ownerOnError(error);
    };
    this.#current = connection;
    this.#generation++;
    void connection.closed.then((error) => {
      if (error) this.noticeLoss(connection);
    });
    return connection;
  }

  /**
   * Handles the loss of `connection` once: reports it and, with reconnect on,
   * starts replacing it. Safe to call from anywhere that sees a closed connection.
   */
  noticeLoss(connection: ClientConnection): void {
    if (this.#closed || this.#lostConnections.has(connection)) return;
    if (connection !== this.#current || !connection.isClosed) return;
    this.#lostConnections.add(connection);
    // A connection lost while the link is already reconnecting is the replace loop's business.
    if (this.#down) return;
    const error = connection.closedReason ??
      new ConnectionClosedError(`Connection to ${connection.uri} lost`);
    const willReconnect = this.#reconnect !== undefined;
    this.statusHub.emit({ type: "disconnect", uri: connection.uri, error, willReconnect });
    if (!willReconnect) {
      this.#hooks.lost?.(error);
      return;
    }
    this.#down = true;
    const replacing = this.#replace(connection.uri, error);
    replacing.catch(() => {}); // Reported through `lost` and status; get() callers see it too.
    this.#opening = replacing;
  }

  /** Reconnects with backoff; resolves with the restored connection. */
  async #replace(uri: string, cause: Error): Promise<ClientConnection> {
    const policy = this.#reconnect!;
    const downSince = Date.now();
    let lastError: Error = cause;
    for (let attempt = 1; attempt <= policy.maxAttempts; attempt++) {
      await this.#sleep(policy.backoff(attempt));
      if (this.#closed) throw new ConnectionClosedError("The client is closed");
      let connection: ClientConnection;
      try {
        connection = await this.#open();
      } catch (error) {
        lastError = error as Error;
        if (this.#closed) throw lastError;
        const final = error instanceof AuthenticationError;
        this.statusHub.emit({ type: "error", error: lastError, attempt, final });
        if (final) return this.#giveUp(lastError);
        continue;
      }
      this.#adopt(connection);
      try {
        await this.#restore(connection);
      } catch (error) {
        if (connection.isClosed) {
          lastError = error as Error;
          continue; // Lost again while restoring: try again.
        }
        this.statusHub.emit({ type: "error", error: error as Error, attempt, final: false });
      }
      if (connection.isClosed) {
        this.#lostConnections.add(connection);
        lastError = connection.closedReason ?? lastError;
        continue; // Lost again at once: try again.
      }
      // Publishes made while disconnected go out after the subscriptions are back. Those
      // made while these wait for the socket join the buffer: take until it stays empty.
      for (let frames = this.#buffer!.take(); frames.length > 0; frames = this.#buffer!.take()) {
        for (const frame of frames) {
          const wait = connection.isClosed ? undefined : connection.send(frame);
          if (wait !== undefined) await wait;
        }
      }
      this.#down = false;
      this.statusHub.emit({
        type: "reconnect",
        uri: connection.uri,
        attempts: attempt,
        downMs: Date.now() - downSince,
      });
      return connection;
    }
    return this.#giveUp(
      new ConnectionClosedError(
        `Gave up reconnecting to ${uri} after ${policy.maxAttempts} attempts (last: ${lastError.message}); the connection was lost because: ${cause.message}`,
        { cause },
      ),
    );
  }

  async #restore(connection: ClientConnection): Promise<void> {
    for (const spec of this.#hooks.subscriptions?.() ?? []) {
      await connection.subscribe(spec.pattern, spec.firstSid, spec.group, spec.items);
    }
  }

  #giveUp(error: Error): never {
    this.#down = false;
    this.#buffer?.take();
    this.statusHub.emit({ type: "error", error, final: true });
    this.#hooks.lost?.(error);
    throw error;
  }

  #sleep(ms: number): Promise<void> {
    if (ms <= 0 || this.#closed) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.#wakeClose = done;
    });
  }

  /**
   * Runs an idempotent request (subscribe, unsubscribe, stats); when the
   * connection is lost under it and reconnect is on, runs it again on the new one.
   */
  async run<T>(op: (connection: ClientConnection) => Promise<T>): Promise<T> {
    while (true) {
      const connection = this.usable ?? await this.get();
      try {
        return await op(connection);
      } catch (error) {
        if (!(error instanceof ConnectionClosedError) || !connection.isClosed) throw error;
        this.noticeLoss(connection);
        if (!this.#down) throw error;
      }
    }
  }

  /**
   * Publishes; while disconnected (reconnect on) the frame is kept in the
   * bounded buffer and sent after reconnecting.
   *
   * @throws {ConnectionClosedError} when the buffer is full; the event is not sent.
   */
  publish(subjects: string | readonly string[], message: unknown): Promise<void> {
    // The hot path: connected and under the high-water mark, nothing to wait for.
    const connection = this.usable;
    if (connection !== undefined && !this.#down && !connection.isClosed) {
      let wait: Promise<void> | undefined;
      try {
        // A binary goes straight into the out buffer behind its MessagePack header; anything
        // else is encoded into the encoder's own buffer, then copied once into the out buffer.
        wait = message instanceof Uint8Array
          ? connection.publish(subjects, CodecTag.MSGPACK, message, binaryHeader(message.length))
          : connection.publish(subjects, CodecTag.MSGPACK, encodeMessageShared(message));
      } catch (error) {
        return Promise.reject(error);
      }
      this.#doubt ??= this.#generation;
      return wait ?? RESOLVED;
    }
    return this.#publishSlowly(subjects, message);
  }

  async #publishSlowly(subjects: string | readonly string[], message: unknown): Promise<void> {
    let connection = this.#current;
    if (connection?.isClosed) this.noticeLoss(connection);
    if (!this.#down || connection === undefined) {
      connection = this.usable ?? await this.get();
      if (connection.isClosed) this.noticeLoss(connection);
    }
    if (this.#down) {
      // Encode now, so a bad value still throws here and nothing is kept.
      const frame = connection.encodePublish(subjects, CodecTag.MSGPACK, encodeMessage(message));
      this.#buffer!.add(frame, connection.uri);
      this.#doubt ??= this.#generation + 1;
      return;
    }
    const wait = connection.publish(subjects, CodecTag.MSGPACK, encodeMessageShared(message));
    this.#doubt ??= this.#generation;
    if (wait !== undefined) await wait;
  }

  /**
   * Resolves once the server has processed everything published before it.
   *
   * @throws {ConnectionClosedError} when a connection was lost since the last
   * flush while publishes were unconfirmed: some of them may not have reached
   * the server (reported once; the next flush starts afresh).
   */
  async flush(): Promise<void> {
    const connection = this.usable ?? await this.get();
    const generation = this.#generation;
    const doubt = this.#doubt;
    this.#doubt = undefined;
    try {
      await connection.flush();
    } catch (error) {
      if (error instanceof ConnectionClosedError && connection.isClosed) {
        this.noticeLoss(connection);
      }
      throw error;
    }
    if (doubt !== undefined && doubt < generation) {
      throw new ConnectionClosedError(
        `flush(): the connection was lost and re-established since the last flush; events published before the loss may not have reached the server (later ones did)`,
      );
    }
  }

  /** Closes the connection if it was opened. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#wakeClose?.();
    this.statusHub.close();
    const current = this.#current;
    const opening = this.#opening;
    if (current && !current.isClosed) {
      await current.close();
      return;
    }
    if (!opening) return;
    try {
      await (await opening).close();
    } catch {
      // It never opened: nothing to close.
    }
  }
}
