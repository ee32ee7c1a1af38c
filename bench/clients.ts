/**
 * One small connection interface over each system's usual client, used
 * inside role processes (and by the coordinator for a cluster's readiness
 * probe, bench/cluster.ts): the es client as the server serves it at
 * /client.js, npm `nats`, npm `ioredis` (default options) and the relay's
 * framing.
 */

import type { PatternSpec, Target } from "./protocol.ts";
import { openRelay } from "./relay_client.ts";

/** Called with the payload of every event a subscription receives. */
export type OnPayload = (payload: Uint8Array) => void;

/** One connection to the system under test. */
export interface BenchConnection {
  /** Hands one event to the client; never awaited by the publish loop. */
  publish(subject: string, payload: Uint8Array): void;
  /** Resolves once the server has processed everything published so far. */
  flush(): Promise<void>;
  /** Resolves once the server has registered the subscription. */
  subscribe(subjects: string[], onPayload: OnPayload): Promise<void>;
  subscribePattern(pattern: PatternSpec, onPayload: OnPayload): Promise<void>;
  close(): Promise<void>;
}

/** The part of the served es client's API the bench uses. */
interface EsModule {
  connect(options: { esURI: string }): Promise<EsClient>;
}
interface EsClient {
  publish(subject: string, message: unknown): Promise<void>;
  flush(): Promise<void>;
  subscribe(subjects: string | string[]): Promise<AsyncIterable<{ msg: unknown }>>;
  subscribeMatch(patterns: string | string[]): Promise<AsyncIterable<{ msg: unknown }>>;
  close(): Promise<void>;
}

/** Opens a connection of the target's kind. */
export async function open(target: Target): Promise<BenchConnection> {
  switch (target.kind) {
    case "es":
      return await openEs(target);
    case "nats":
      return await openNats(target.url);
    case "redis":
      return await openRedis(target.url);
    case "relay":
      return await openRelay(target.url);
  }
}

let esModule: Promise<EsModule> | undefined;

async function openEs(target: Target): Promise<BenchConnection> {
  if (!target.clientModule) throw new TypeError("An es target needs the served client module");
  // Imported by URL at run time: the bench uses the client the server serves, not lib/.
  esModule ??= import(target.clientModule) as Promise<EsModule>;
  const client = await (await esModule).connect({ esURI: target.url });
  const pumps: Promise<void>[] = [];
  const pump = (sub: AsyncIterable<{ msg: unknown }>, onPayload: OnPayload) => {
    pumps.push((async () => {
      for await (const event of sub) onPayload(event.msg as Uint8Array);
    })());
  };
  return {
    publish(subject, payload) {
      void client.publish(subject, payload);
    },
    flush: () => client.flush(),
    async subscribe(subjects, onPayload) {
      pump(await client.subscribe(subjects), onPayload);
    },
    async subscribePattern(pattern, onPayload) {
      pump(await client.subscribeMatch(pattern.regex), onPayload);
    },
    async close() {
      await client.close();
      await Promise.allSettled(pumps);
    },
  };
}

async function openNats(url: string): Promise<BenchConnection> {
  const { connect } = await import("nats");
  const nc = await connect({ servers: url.slice("nats://".length) });
  const pumps: Promise<void>[] = [];
  const pump = (subject: string, onPayload: OnPayload) => {
    const sub = nc.subscribe(subject);
    pumps.push((async () => {
      for await (const m of sub) onPayload(m.data);
    })());
  };
  return {
    publish(subject, payload) {
      nc.publish(subject, payload);
    },
    flush: () => nc.flush(),
    async subscribe(subjects, onPayload) {
      for (const s of subjects) pump(s, onPayload);
      // The server has processed the SUBs once the flush's PONG is back.
      await nc.flush();
    },
    async subscribePattern(pattern, onPayload) {
      pump(pattern.nats, onPayload);
      await nc.flush();
    },
    async close() {
      await nc.close();
      await Promise.allSettled(pumps);
    },
  };
}

async function openRedis(url: string): Promise<BenchConnection> {
  const { Redis } = await import("ioredis");
  const { Buffer } = await import("node:buffer");
  const redis = new Redis(url, { lazyConnect: true });
  await redis.connect();
  return {
    publish(subject, payload) {
      // ioredis sends a Buffer as bytes (a bare Uint8Array would be stringified); no copy.
      void redis.publish(subject, Buffer.from(payload.buffer, payload.byteOffset, payload.length));
    },
    async flush() {
      // Replies come in order on one connection: the PONG follows every PUBLISH before it.
      await redis.ping();
    },
    async subscribe(subjects, onPayload) {
      redis.on("messageBuffer", (_channel: Uint8Array, message: Uint8Array) => onPayload(message));
      await redis.subscribe(...subjects);
    },
    async subscribePattern(pattern, onPayload) {
      redis.on(
        "pmessageBuffer",
        (_pattern: Uint8Array, _channel: Uint8Array, message: Uint8Array) => onPayload(message),
      );
      await redis.psubscribe(pattern.glob);
    },
    async close() {
      redis.disconnect();
      await Promise.resolve();
    },
  };
}
