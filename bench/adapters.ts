/**
 * One small client interface over each system's usual client: es (`connect()`
 * from lib/client), NATS (npm `nats`), Redis (npm `ioredis`) and the relay.
 */

import { type Client, connect as connectEs } from "../lib/client/client.ts";
import { connect as connectNats, type NatsConnection } from "nats";
import { Redis } from "ioredis";
import { Buffer } from "node:buffer";

/** Called for every event a subscriber receives. */
export type OnEvent = (subject: string, payload: Uint8Array) => void;

/** A pattern spelled for each system. */
export interface PatternSpec {
  /** es: a regular expression. */
  regex: string;
  /** NATS wildcard subject. */
  nats: string;
  /** Redis PSUBSCRIBE glob. */
  glob: string;
}

/** One connection to a system under test. */
export interface BenchClient {
  /** Publishes; a promise means "wait before publishing more". */
  publish(subject: string, payload: Uint8Array): Promise<unknown> | undefined;
  /** Resolves once the server has everything published so far. */
  flush(): Promise<void>;
  subscribe(subjects: string[], onEvent: OnEvent): Promise<void>;
  subscribePattern(pattern: PatternSpec, onEvent: OnEvent): Promise<void>;
  close(): Promise<void>;
}

/** Opens a client for the server at `url` (its scheme picks the system). */
export function open(url: string): Promise<BenchClient> {
  const scheme = url.slice(0, url.indexOf(":"));
  switch (scheme) {
    case "es":
      return EsBench.open(url);
    case "nats":
      return NatsBench.open(url);
    case "redis":
      return Promise.resolve(new RedisBench(url));
    case "relay":
      return RelayBench.open(url);
    default:
      throw new Error(`Unknown system in ${JSON.stringify(url)}`);
  }
}

/** Whether the system can route by subject (the relay cannot). */
export function routes(url: string): boolean {
  return !url.startsWith("relay:");
}

class EsBench implements BenchClient {
  #client: Client;
  #pumps: Promise<void>[] = [];
  private constructor(client: Client) {
    this.#client = client;
  }
  static async open(url: string): Promise<EsBench> {
    return new EsBench(await connectEs({ esURI: url }));
  }
  publish(subject: string, payload: Uint8Array): Promise<unknown> {
    return this.#client.publish(subject, payload);
  }
  flush(): Promise<void> {
    return this.#client.flush();
  }
  async subscribe(subjects: string[], onEvent: OnEvent): Promise<void> {
    const sub = await this.#client.subscribe(subjects);
    this.#pumps.push((async () => {
      for await (const ev of sub) onEvent(ev.subject, ev.msg as Uint8Array);
    })());
  }
  async subscribePattern(pattern: PatternSpec, onEvent: OnEvent): Promise<void> {
    const sub = await this.#client.subscribeMatch(pattern.regex);
    this.#pumps.push((async () => {
      for await (const ev of sub) onEvent(ev.subject, ev.msg as Uint8Array);
    })());
  }
  async close(): Promise<void> {
    await this.#client.close();
    await Promise.allSettled(this.#pumps);
  }
}

class NatsBench implements BenchClient {
  #nc: NatsConnection;
  #pumps: Promise<void>[] = [];
  private constructor(nc: NatsConnection) {
    this.#nc = nc;
  }
  static async open(url: string): Promise<NatsBench> {
    return new NatsBench(await connectNats({ servers: url.slice("nats://".length) }));
  }
  publish(subject: string, payload: Uint8Array): undefined {
    this.#nc.publish(subject, payload);
    return undefined;
  }
  flush(): Promise<void> {
    return this.#nc.flush();
  }
  #pump(subject: string, onEvent: OnEvent): void {
    const sub = this.#nc.subscribe(subject);
    this.#pumps.push((async () => {
      for await (const m of sub) onEvent(m.subject, m.data);
    })());
  }
  async subscribe(subjects: string[], onEvent: OnEvent): Promise<void> {
    for (const s of subjects) this.#pump(s, onEvent);
    await this.#nc.flush();
  }
  async subscribePattern(pattern: PatternSpec, onEvent: OnEvent): Promise<void> {
    this.#pump(pattern.nats, onEvent);
    await this.#nc.flush();
  }
  async close(): Promise<void> {
    await this.#nc.close();
    await Promise.allSettled(this.#pumps);
  }
}

/** Publishes kept in flight by one Redis publisher before it waits. */
const REDIS_WINDOW = 1000;

class RedisBench implements BenchClient {
  #redis: Redis;
  #inFlight: Promise<unknown>[] = [];
  constructor(url: string) {
    this.#redis = new Redis(url, { enableAutoPipelining: true, enableReadyCheck: false });
  }
  publish(subject: string, payload: Uint8Array): Promise<unknown> | undefined {
    this.#inFlight.push(
      this.#redis.publish(subject, Buffer.from(payload.buffer, payload.byteOffset, payload.length)),
    );
    if (this.#inFlight.length < REDIS_WINDOW) return undefined;
    const all = Promise.all(this.#inFlight);
    this.#inFlight = [];
    return all;
  }
  async flush(): Promise<void> {
    const all = this.#inFlight;
    this.#inFlight = [];
    await Promise.all(all);
    await this.#redis.ping();
  }
  async subscribe(subjects: string[], onEvent: OnEvent): Promise<void> {
    this.#redis.on(
      "messageBuffer",
      (channel: Buffer, message: Buffer) => onEvent(channel.toString(), message),
    );
    await this.#redis.subscribe(...subjects);
  }
  async subscribePattern(pattern: PatternSpec, onEvent: OnEvent): Promise<void> {
    this.#redis.removeAllListeners("pmessageBuffer");
    this.#redis.on(
      "pmessageBuffer",
      (_p: Buffer, channel: Buffer, message: Buffer) => onEvent(channel.toString(), message),
    );
    await this.#redis.psubscribe(pattern.glob);
  }
  async close(): Promise<void> {
    this.#redis.disconnect();
    await Promise.resolve();
  }
}

/** Bytes a relay publisher buffers before it waits for the socket. */
const RELAY_HIGH_WATER = 1024 * 1024;

/** Relay frames: u32 length, u8 subject length, subject, payload. */
class RelayBench implements BenchClient {
  #conn: Deno.Conn;
  #out: Uint8Array[] = [];
  #outBytes = 0;
  #writing: Promise<void> | undefined;
  #encoder = new TextEncoder();
  #pump: Promise<void> | undefined;
  #rolePublisher = false;
  private constructor(conn: Deno.Conn) {
    this.#conn = conn;
  }
  static async open(url: string): Promise<RelayBench> {
    const port = Number(url.slice(url.lastIndexOf(":") + 1));
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    conn.setNoDelay(true);
    return new RelayBench(conn);
  }
  #role(role: string): Promise<void> {
    return writeAll(this.#conn, this.#encoder.encode(role));
  }
  publish(subject: string, payload: Uint8Array): Promise<unknown> | undefined {
    if (!this.#rolePublisher) {
      this.#rolePublisher = true;
      this.#out.push(this.#encoder.encode("P"));
    }
    const s = this.#encoder.encode(subject);
    const frame = new Uint8Array(5 + s.length + payload.length);
    new DataView(frame.buffer).setUint32(0, 1 + s.length + payload.length);
    frame[4] = s.length;
    frame.set(s, 5);
    frame.set(payload, 5 + s.length);
    this.#out.push(frame);
    this.#outBytes += frame.length;
    this.#writing ??= this.#drain();
    return this.#outBytes >= RELAY_HIGH_WATER ? this.#writing : undefined;
  }
  async #drain(): Promise<void> {
    while (this.#out.length > 0) {
      const chunks = this.#out;
      this.#out = [];
      let total = 0;
      for (const c of chunks) total += c.length;
      const bytes = new Uint8Array(total);
      let at = 0;
      for (const c of chunks) {
        bytes.set(c, at);
        at += c.length;
      }
      this.#outBytes = 0;
      await writeAll(this.#conn, bytes);
    }
    this.#writing = undefined;
  }
  async flush(): Promise<void> {
    while (this.#writing) await this.#writing;
  }
  async subscribe(_subjects: string[], onEvent: OnEvent): Promise<void> {
    await this.#role("S");
    // The relay answers one byte once the subscriber is registered.
    const ack = new Uint8Array(1);
    if (await this.#conn.read(ack) !== 1) throw new Error("The relay closed the connection");
    this.#pump = this.#read(onEvent);
  }
  subscribePattern(_pattern: PatternSpec, onEvent: OnEvent): Promise<void> {
    return this.subscribe([], onEvent);
  }
  async #read(onEvent: OnEvent): Promise<void> {
    const decoder = new TextDecoder();
    let buf = new Uint8Array(256 * 1024);
    let have = 0;
    try {
      while (true) {
        if (have === buf.length) {
          const bigger = new Uint8Array(buf.length * 2);
          bigger.set(buf);
          buf = bigger;
        }
        const n = await this.#conn.read(buf.subarray(have));
        if (n === null) return;
        have += n;
        let at = 0;
        const view = new DataView(buf.buffer);
        while (have - at >= 4) {
          const len = view.getUint32(at);
          if (have - at - 4 < len) break;
          const sl = buf[at + 4]!;
          const subject = decoder.decode(buf.subarray(at + 5, at + 5 + sl));
          onEvent(subject, buf.slice(at + 5 + sl, at + 4 + len));
          at += 4 + len;
        }
        buf.copyWithin(0, at, have);
        have -= at;
      }
    } catch { /* closed */ }
  }
  async close(): Promise<void> {
    await this.flush();
    try {
      this.#conn.close();
    } catch { /* closed */ }
    await this.#pump;
  }
}

async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  let at = 0;
  while (at < bytes.length) at += await conn.write(bytes.subarray(at));
}
