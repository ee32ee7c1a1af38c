/**
 * What one client connection does on an event node once its handshake is
 * done: publish (the hot path), subscribe and unsubscribe by subscription id,
 * flush, statistics. Its subscriptions are its own; the node's router holds
 * them in the index under the connection's queue.
 */

import { type CompiledPattern, compilePattern, loadPatternEngine } from "../broker/pattern.ts";
import { type Router, whenAllHaveRoom } from "../broker/router.ts";
import type { Blocker, OverflowPolicy } from "../broker/subscriber_queue.ts";
import { FrameError, RequestError } from "../errors.ts";
import { ErrorCode, FrameType, OverflowCode, UNLIMITED } from "../protocol/constants.ts";
import type { Connect } from "../protocol/frames/connect.ts";
import { decodePub, newPubFrame } from "../protocol/frames/pub.ts";
import { decodeRequest } from "../protocol/frames/request.ts";
import { fromUtf8 } from "../protocol/frames/_body.ts";
import { decodeSubscribe } from "../protocol/frames/subscribe.ts";
import { decodeUnsubscribe } from "../protocol/frames/unsubscribe.ts";
import type { RawFrame } from "../protocol/parser.ts";
import type { CachedSubject, SubjectCache } from "../protocol/subject_cache.ts";
import { isReserved, utf8Length } from "../protocol/subjects.ts";
import type { ReliabilityCounters } from "../session/counters.ts";
import type { Session, SessionHandler } from "../session/session.ts";
import type { NodeOptions } from "./options.ts";

/** Publishes between two looks at the clock. */
const PUBLISHES_PER_CHECK = 64;
/** Longest a connection routes before it lets other connections run, in milliseconds. */
const SLICE_MS = 20;

/** One subscription of a connection. */
export interface SubscriptionRecord {
  readonly pattern: boolean;
  /** The subject as the client spelled it, or the pattern's text. */
  readonly item: string;
  /** Queue group, or "" for none. */
  readonly group: string;
}

/** What a connection needs from its node. */
export interface ConnectionHost {
  readonly options: NodeOptions;
  readonly router: Router;
  readonly counters: ReliabilityCounters;
  /** The node's cache of subjects seen in PUB frames. */
  readonly subjects: SubjectCache;
  /** Resolves once every subscription change so far is in force on every node. */
  interestInForce(): Promise<void>;
  /**
   * Resolves once other nodes processed what was forwarded to them and hold
   * connection `publisher` no more (for FLUSH).
   */
  settled(publisher: number): Promise<void> | undefined;
  /** The server's statistics as JSON bytes. */
  statsReply(): Promise<Uint8Array>;
  /** What the server's subscriptions say about `subject`, as JSON bytes. */
  explainReply(subject: string): Promise<Uint8Array>;
}

const POLICIES: Record<number, OverflowPolicy | undefined> = {
  [OverflowCode.BLOCK]: "block",
  [OverflowCode.DROP_NEW]: "drop-new",
  [OverflowCode.DROP_OLD]: "drop-old",
  [OverflowCode.LATEST]: "latest",
};

/** An event-server connection: the `SessionHandler` of the event node. */
export class EventConnection implements SessionHandler {
  readonly session: Session;
  /** Subscriptions by id. */
  readonly subscriptions: Map<number, SubscriptionRecord> = new Map();
  /** Publish frames received. */
  published = 0;

  #host: ConnectionHost;
  #pub = newPubFrame();
  #blocked: Blocker[] = [];
  #publishesSinceCheck = 0;

  /**
   * Sets up the connection's queue as the client asked in CONNECT.
   *
   * @throws {RequestError} for a queue the server does not allow (the handshake then fails).
   */
  constructor(session: Session, connect: Connect, host: ConnectionHost) {
    this.session = session;
    this.#host = host;
    const options = host.options;
    const policy = connect.overflow === OverflowCode.DEFAULT
      ? (options.blockQueue ? "block" : "drop-new")
      : POLICIES[connect.overflow];
    if (policy === undefined) {
      throw new RequestError(ErrorCode.PROTOCOL, `Unknown overflow policy ${connect.overflow}`);
    }
    // Holding publishers is the operator's choice: a subscriber cannot impose it on a dropping server.
    if (policy === "block" && !options.blockQueue) {
      throw new RequestError(
        ErrorCode.LIMIT,
        'Overflow policy "block" refused: this server drops events for full queues (--no-block-queue); choose drop-new, drop-old or latest',
      );
    }
    const capacity = connect.queueSize === 0 ? options.queueSize : connect.queueSize;
    if (capacity > options.maxQueueSize) {
      throw new RequestError(
        ErrorCode.LIMIT,
        `Queue size ${capacity} is over the server's limit of ${options.maxQueueSize}`,
      );
    }
    session.queue.configure({ capacity, maxBytes: options.maxQueueBytes, policy });
    session.queue.setWindow(connect.windowEvents || UNLIMITED, connect.windowBytes || UNLIMITED);
  }

  handle(frame: RawFrame): Promise<unknown> | undefined {
    switch (frame.type) {
      case FrameType.PUB:
        return this.#publish(frame.body);
      case FrameType.SUB:
      case FrameType.SUBMATCH:
        return this.#subscribe(frame.type === FrameType.SUBMATCH, frame.body);
      case FrameType.UNSUB:
        return this.#unsubscribe(frame.body);
      case FrameType.FLUSH: {
        const { requestId } = decodeRequest(frame.body, "FLUSH");
        const settled = this.#host.settled(this.session.id);
        if (settled === undefined) {
          this.session.reply(requestId);
          return;
        }
        return settled.then(() => this.session.reply(requestId));
      }
      case FrameType.EXPLAIN: {
        const { requestId, body } = decodeRequest(frame.body, "EXPLAIN");
        const subject = fromUtf8(body, "EXPLAIN frame");
        return this.#host.explainReply(subject).then((json) => this.session.reply(requestId, json));
      }
      case FrameType.STATS: {
        const { requestId } = decodeRequest(frame.body, "STATS");
        return this.#host.statsReply().then((json) => this.session.reply(requestId, json));
      }
      case FrameType.NS_REGISTER:
      case FrameType.NS_RESOLVE:
      case FrameType.NS_UNREGISTER:
      case FrameType.NS_LIST:
        throw new RequestError(
          ErrorCode.PROTOCOL,
          "Refused: this is an event server, not a name server",
        );
      default:
        throw new FrameError(
          ErrorCode.PROTOCOL,
          `Unknown or unexpected frame type 0x${frame.type.toString(16).padStart(2, "0")}`,
        );
    }
  }

  /**
   * PUB, the hot path: subjects checked before any is routed, duplicates
   * collapsed, one timestamp for the whole publish; a full queue in block
   * mode holds the rest of the publish until it has room.
   */
  #publish(body: Uint8Array): Promise<unknown> | undefined {
    const host = this.#host;
    const pub = this.#pub;
    decodePub(body, host.subjects, host.options.maxSubjectBytes, pub);
    const subjects = pub.subjects;
    for (let i = 0; i < subjects.length; i++) {
      if (isReserved(subjects[i]!.subject)) {
        throw new RequestError(
          ErrorCode.BAD_SUBJECT,
          `Publish refused: subject ${
            JSON.stringify(subjects[i]!.subject)
          } is reserved for the server`,
        );
      }
    }
    const list = subjects.length === 1 ? subjects : distinct(subjects);
    this.published++;
    host.router.totals.publishes++;
    return this.#routeFrom(list, 0, Date.now(), pub.codec, pub.payload);
  }

  /** Routes `subjects[from…]`; returns a promise when it must wait (for room, or its turn). */
  #routeFrom(
    subjects: readonly CachedSubject[],
    from: number,
    time: number,
    codec: number,
    payload: Uint8Array,
  ): Promise<unknown> | undefined {
    const router = this.#host.router;
    const blocked = this.#blocked;
    for (let i = from; i < subjects.length; i++) {
      blocked.length = 0;
      router.route(subjects[i]!, time, codec, payload, blocked, this.session.id);
      if (blocked.length > 0) this.#spareOwnQueue(blocked);
      if (blocked.length > 0 || this.#sliceOver()) {
        // The payload is a view of the read buffer, which stays as it is while the loop waits.
        const wait = blocked.length > 0 ? whenAllHaveRoom([...blocked]) : nextTurn();
        const next = i + 1;
        return wait.then(() => {
          if (next >= subjects.length) return undefined;
          this.session.turnStart = performance.now(); // A new turn: it waited.
          return this.#routeFrom(subjects, next, time, codec, payload);
        });
      }
    }
    return undefined;
  }

  /**
   * A publisher is never held for its own queue: while held it is not read,
   * so the credit its client sends to drain that queue would never arrive.
   * Its own events may fill its queue past the event count, up to the byte
   * bound; past that it waits like any publisher (and the slow-consumer
   * timeout breaks the cycle).
   */
  #spareOwnQueue(blocked: Blocker[]): void {
    const own = this.session.queue;
    const at = blocked.indexOf(own);
    if (at >= 0 && own.bytes < own.limits.maxBytes) blocked.splice(at, 1);
  }

  /** True when this connection has routed long enough that others must have their turn. */
  #sliceOver(): boolean {
    if (++this.#publishesSinceCheck < PUBLISHES_PER_CHECK) return false;
    this.#publishesSinceCheck = 0;
    // Time spent routing since this session's turn began: time it sat idle does not count.
    return performance.now() - this.session.turnStart >= SLICE_MS;
  }

  async #subscribe(pattern: boolean, body: Uint8Array): Promise<void> {
    const host = this.#host;
    const { options } = host;
    const what = pattern ? "SUBMATCH" : "SUB";
    const { requestId, firstSid, group, items } = decodeSubscribe(body, what);
    if (items.length === 0) throw new RequestError(ErrorCode.PROTOCOL, `${what} with no subject`);
    const maxBytes = pattern ? options.maxPatternBytes : options.maxSubjectBytes;
    const code = pattern ? ErrorCode.BAD_PATTERN : ErrorCode.BAD_SUBJECT;
    for (const item of items) checkItem(item, pattern ? "pattern" : "subject", maxBytes, code);
    if (utf8Length(group) > options.maxSubjectBytes) {
      throw new RequestError(
        ErrorCode.PROTOCOL,
        `Cannot subscribe: queue group ${
          JSON.stringify(group.slice(0, 40))
        } is longer than ${options.maxSubjectBytes} bytes`,
      );
    }
    for (let i = 0; i < items.length; i++) {
      if (this.subscriptions.has((firstSid + i) >>> 0)) {
        throw new RequestError(
          ErrorCode.PROTOCOL,
          `Subscription id ${(firstSid + i) >>> 0} is already in use on this connection`,
        );
      }
    }
    if (this.subscriptions.size + items.length > options.maxSubscriptions) {
      host.counters.refusedSubscriptions++;
      throw new RequestError(
        ErrorCode.LIMIT,
        `Cannot subscribe: ${
          this.subscriptions.size + items.length
        } subscriptions would exceed this connection's limit of ${options.maxSubscriptions}`,
      );
    }
    // All or nothing: every pattern compiles before any is registered.
    const index = host.router.index;
    if (pattern) await loadPatternEngine();
    const compiled: CompiledPattern[] = [];
    if (pattern) {
      for (const item of items) {
        try {
          compiled.push(index.knownPattern(item) ?? compilePattern(item));
        } catch (error) {
          throw new RequestError(ErrorCode.BAD_PATTERN, (error as Error).message);
        }
      }
    }
    const queue = this.session.queue;
    for (let i = 0; i < items.length; i++) {
      const sid = (firstSid + i) >>> 0;
      const item = items[i]!;
      if (pattern) index.subscribeMatch(queue, sid, compiled[i]!, group);
      else index.subscribe(queue, sid, item, group);
      this.subscriptions.set(sid, { pattern, item, group });
    }
    await host.interestInForce();
    this.session.reply(requestId);
  }

  async #unsubscribe(body: Uint8Array): Promise<void> {
    const { requestId, sids } = decodeUnsubscribe(body);
    for (const sid of sids) this.#remove(sid);
    await this.#host.interestInForce();
    this.session.reply(requestId);
  }

  #remove(sid: number): void {
    const record = this.subscriptions.get(sid);
    if (record === undefined) return;
    this.subscriptions.delete(sid);
    const index = this.#host.router.index;
    if (record.pattern) index.unsubscribeMatch(this.session.queue, sid, record.item, record.group);
    else index.unsubscribe(this.session.queue, sid, record.item, record.group);
  }

  closed(): void {
    if (this.subscriptions.size === 0) return;
    for (const sid of [...this.subscriptions.keys()]) this.#remove(sid);
    void this.#host.interestInForce();
  }
}

/** The subjects of a publish, each subject (by key) once, in first-seen order. */
function distinct(subjects: readonly CachedSubject[]): CachedSubject[] {
  const seen = new Set<string>();
  const out: CachedSubject[] = [];
  for (const s of subjects) {
    if (seen.has(s.key)) continue;
    seen.add(s.key);
    out.push(s);
  }
  return out;
}

function checkItem(item: string, what: string, maxBytes: number, code: number): void {
  const bytes = utf8Length(item);
  if (bytes === 0 || bytes > maxBytes) {
    throw new RequestError(
      code,
      `Cannot subscribe: ${what} ${
        JSON.stringify(item.slice(0, 40))
      } of ${bytes} bytes (must be 1 to ${maxBytes})`,
    );
  }
}

/** Resolves after other work queued on the event loop has had its turn. */
function nextTurn(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}
