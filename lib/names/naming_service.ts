/** Turns NS_* request bodies into registry calls: the `handleNaming` hook of a server connection. */

import { getLogger } from "@logtape/logtape";
import { ErrorCode, FrameType } from "../protocol/constants.ts";
import type { ServerConnection } from "../server/connection.ts";
import { NameRegistry, NamingRequestError } from "./registry.ts";

const log = getLogger(["es", "names"]);
const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });
const EMPTY = new Uint8Array(0);

/** The registry plus the request handling that a server connection forwards NS_* frames to. */
export class NamingService {
  readonly registry = new NameRegistry();

  /**
   * Handles one NS_* request from `connection`.
   *
   * Bodies: REGISTER = JSON `{name, uri, replace}`; RESOLVE, UNREGISTER = the
   * name in UTF-8; LIST = the prefix in UTF-8. Replies: RESOLVE = the URI,
   * LIST = a JSON object name → URI, others empty.
   *
   * @throws {NamingRequestError} for an unknown or taken name (code NAMING) or a malformed body.
   */
  handle(
    connection: ServerConnection,
    type: number,
    _requestId: number,
    body: Uint8Array,
  ): Promise<Uint8Array> {
    try {
      return Promise.resolve(this.#handle(connection, type, body));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  #handle(connection: ServerConnection, type: number, body: Uint8Array): Uint8Array {
    const text = decodeText(body);
    switch (type) {
      case FrameType.NS_REGISTER: {
        const { name, uri, replace } = parseRegister(text);
        this.registry.register(connection.id, name, uri, replace);
        log.info("Registered {name} = {uri} for {remote}", {
          name,
          uri,
          remote: connection.remote,
        });
        return EMPTY;
      }
      case FrameType.NS_RESOLVE:
        return encoder.encode(this.registry.resolve(text));
      case FrameType.NS_UNREGISTER:
        if (this.registry.unregister(text)) {
          log.info("Unregistered {name} at the request of {remote}", {
            name: text,
            remote: connection.remote,
          });
        }
        return EMPTY;
      case FrameType.NS_LIST:
        return encoder.encode(JSON.stringify(this.registry.list(text)));
      default:
        throw new NamingRequestError(
          `Unknown naming request 0x${type.toString(16)}`,
          ErrorCode.PROTOCOL,
        );
    }
  }

  /** Forgets what a closed connection registered. */
  connectionClosed(connection: ServerConnection): void {
    const dropped = this.registry.dropOwner(connection.id);
    if (dropped.length > 0) {
      log.info("Connection from {remote} ended: removed {names}", {
        remote: connection.remote,
        names: dropped.join(", "),
      });
    }
  }
}

function decodeText(body: Uint8Array): string {
  try {
    return decoder.decode(body);
  } catch {
    throw new NamingRequestError("Naming request body is not valid UTF-8", ErrorCode.PROTOCOL);
  }
}

function parseRegister(text: string): { name: string; uri: string; replace: boolean } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new NamingRequestError(
      `Malformed NS_REGISTER body ${JSON.stringify(text.slice(0, 80))}: expected JSON`,
      ErrorCode.PROTOCOL,
    );
  }
  const { name, uri, replace } = (value ?? {}) as Record<string, unknown>;
  if (typeof name !== "string" || typeof uri !== "string") {
    throw new NamingRequestError(
      'Malformed NS_REGISTER body: expected {"name": string, "uri": string, "replace"?: boolean}',
      ErrorCode.PROTOCOL,
    );
  }
  return { name, uri, replace: replace === true };
}
