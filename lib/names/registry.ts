/** The name registry itself: names mapped to URIs, each entry owned by the connection that made it. */

import { RequestError } from "../errors.ts";
import { ErrorCode } from "../protocol/constants.ts";

/** A refused naming request (code NAMING unless said otherwise). */
function refused(message: string, code: number = ErrorCode.NAMING): RequestError {
  return new RequestError(code, message);
}

/** One registration. */
export interface NameEntry {
  readonly uri: string;
  /** Id of the connection that registered it; the entry dies with that connection. */
  readonly owner: number;
  readonly registeredAt: number;
}

/** Longest name accepted, in characters. */
export const MAX_NAME_LENGTH = 1024;
/** Longest URI accepted, in characters. */
export const MAX_URI_LENGTH = 2048;

/**
 * Names and their URIs. Pure data: the server tells it which connection asks,
 * and calls `dropOwner()` when a connection ends.
 */
export class NameRegistry {
  readonly #entries = new Map<string, NameEntry>();

  /** Number of registered names. */
  get size(): number {
    return this.#entries.size;
  }

  /**
   * Registers `name` → `uri` for the connection `owner`.
   *
   * @throws {RequestError} when another connection holds the name and `replace` is false.
   * @throws {RequestError} with code PROTOCOL for an empty or over-long name or URI.
   */
  register(owner: number, name: string, uri: string, replace = false): void {
    checkText("name", name, MAX_NAME_LENGTH);
    checkText("URI", uri, MAX_URI_LENGTH);
    const held = this.#entries.get(name);
    if (held !== undefined && held.owner !== owner && !replace) {
      throw refused(
        `Name ${JSON.stringify(name)} is already registered to ${held.uri} by a live connection`,
      );
    }
    this.#entries.set(name, { uri, owner, registeredAt: Date.now() });
  }

  /**
   * @returns The URI registered for `name`.
   * @throws {RequestError} for an unknown name.
   */
  resolve(name: string): string {
    const entry = this.#entries.get(name);
    if (entry === undefined) {
      throw refused(`Unknown name ${JSON.stringify(name)}`);
    }
    return entry.uri;
  }

  /** Removes `name` (whoever registered it); unknown names are ignored. Returns whether it existed. */
  unregister(name: string): boolean {
    return this.#entries.delete(name);
  }

  /** Every name starting with `prefix`, with its URI, sorted by name. */
  list(prefix = ""): Record<string, string> {
    const out: Record<string, string> = {};
    const names = [...this.#entries.keys()].filter((n) => n.startsWith(prefix)).sort();
    for (const name of names) out[name] = this.#entries.get(name)!.uri;
    return out;
  }

  /** Removes every entry `owner` registered; returns their names. */
  dropOwner(owner: number): string[] {
    const dropped: string[] = [];
    for (const [name, entry] of this.#entries) {
      if (entry.owner === owner) {
        this.#entries.delete(name);
        dropped.push(name);
      }
    }
    return dropped;
  }
}

function checkText(what: string, value: unknown, max: number): void {
  if (typeof value !== "string" || value.length === 0 || value.length > max) {
    throw refused(
      `Invalid ${what} ${JSON.stringify(value)}: must be a string of 1 to ${max} characters`,
      ErrorCode.PROTOCOL,
    );
  }
}
