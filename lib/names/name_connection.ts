/**
 * What one client connection does on a name server once its handshake is
 * done: NS_* requests against the registry, FLUSH (the proxy's ping) and
 * STATS. Publishing and subscribing have no place here and are refused.
 */

import { getLogger } from "@logtape/logtape";
import { FrameError, RequestError } from "../errors.ts";
import { ErrorCode, FrameType } from "../protocol/constants.ts";
import { decodeRequest } from "../protocol/frames/request.ts";
import type { RawFrame } from "../protocol/parser.ts";
import type { LogLimiter } from "../session/log_limiter.ts";
import type { Session, SessionHandler } from "../session/session.ts";
import type { NameRegistry } from "./registry.ts";

const log = getLogger(["es", "names"]);
const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

/** The name server's `SessionHandler`. */
export class NameConnection implements SessionHandler {
  readonly #session: Session;
  readonly #registry: NameRegistry;
  readonly #stats: () => unknown;
  readonly #logLimiter: LogLimiter;

  /**
   * @param stats The name server's statistics, for STATS.
   * @param logLimiter Shared by the server's connections: a client that registers in a loop
   * must not fill the log.
   */
  constructor(
    session: Session,
    registry: NameRegistry,
    stats: () => unknown,
    logLimiter: LogLimiter,
  ) {
    this.#session = session;
    this.#registry = registry;
    this.#stats = stats;
    this.#logLimiter = logLimiter;
  }

  #log(template: string, properties: Record<string, unknown>): void {
    const allowed = this.#logLimiter.allow(
      Date.now(),
      (suppressed) => log.info("{suppressed} more naming changes were not logged", { suppressed }),
    );
    if (allowed) log.info(template, properties);
  }

  /**
   * Bodies: REGISTER = JSON `{name, uri, replace}`; RESOLVE, UNREGISTER = the
   * name in UTF-8; LIST = the prefix in UTF-8, then optionally a NUL and the
   * name to list after. Replies: RESOLVE = the URI, LIST = JSON
   * `{names: {name: uri}, next: name | null}` (one page), others empty.
   */
  handle(frame: RawFrame): undefined {
    const type = frame.type;
    switch (type) {
      case FrameType.NS_REGISTER:
      case FrameType.NS_RESOLVE:
      case FrameType.NS_UNREGISTER:
      case FrameType.NS_LIST: {
        const { requestId, body } = decodeRequest(frame.body, "name service");
        this.#session.reply(requestId, this.#naming(type, decodeText(body)));
        return;
      }
      case FrameType.FLUSH: {
        this.#session.reply(decodeRequest(frame.body, "FLUSH").requestId);
        return;
      }
      case FrameType.STATS: {
        const { requestId } = decodeRequest(frame.body, "STATS");
        this.#session.reply(requestId, encoder.encode(JSON.stringify(this.#stats())));
        return;
      }
      case FrameType.PUB:
      case FrameType.SUB:
      case FrameType.SUBMATCH:
      case FrameType.UNSUB:
        throw new RequestError(
          ErrorCode.PROTOCOL,
          'Refused: this is a name server, not an event server (resolve ":EventService" for that)',
        );
      default:
        throw new FrameError(
          ErrorCode.PROTOCOL,
          `Unknown or unexpected frame type 0x${type.toString(16).padStart(2, "0")}`,
        );
    }
  }

  #naming(type: number, text: string): Uint8Array | undefined {
    const session = this.#session;
    switch (type) {
      case FrameType.NS_REGISTER: {
        const { name, uri, replace } = parseRegister(text);
        this.#registry.register(session.id, name, uri, replace);
        this.#log("Registered {name} = {uri} for {remote}", { name, uri, remote: session.remote });
        return undefined;
      }
      case FrameType.NS_RESOLVE:
        return encoder.encode(this.#registry.resolve(text));
      case FrameType.NS_UNREGISTER:
        if (this.#registry.unregister(session.id, text)) {
          this.#log("Unregistered {name} at the request of {remote}", {
            name: text,
            remote: session.remote,
          });
        }
        return undefined;
      default: {
        // A NUL cannot be in a name (names are printable): it separates the prefix from the cursor.
        const [prefix = "", after = ""] = text.split("\0", 2);
        return encoder.encode(JSON.stringify(this.#registry.list(prefix, after)));
      }
    }
  }

  /** Forgets what this connection registered. */
  closed(): void {
    const dropped = this.#registry.dropOwner(this.#session.id);
    if (dropped.length > 0) {
      const shown = dropped.slice(0, 5).join(", ");
      this.#log("Connection from {remote} ended: removed {names}", {
        remote: this.#session.remote,
        names: dropped.length > 5 ? `${shown} and ${dropped.length - 5} more` : shown,
      });
    }
  }
}

function decodeText(body: Uint8Array): string {
  try {
    return decoder.decode(body);
  } catch {
    throw new RequestError(ErrorCode.PROTOCOL, "Naming request body is not valid UTF-8");
  }
}

function parseRegister(text: string): { name: string; uri: string; replace: boolean } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new RequestError(
      ErrorCode.PROTOCOL,
      `Malformed NS_REGISTER body ${JSON.stringify(text.slice(0, 80))}: expected JSON`,
    );
  }
  const { name, uri, replace } = (value ?? {}) as Record<string, unknown>;
  if (typeof name !== "string" || typeof uri !== "string") {
    throw new RequestError(
      ErrorCode.PROTOCOL,
      'Malformed NS_REGISTER body: expected {"name": string, "uri": string, "replace"?: boolean}',
    );
  }
  return { name, uri, replace: replace === true };
}
