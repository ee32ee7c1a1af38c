/**
 * The name registry itself: names mapped to URIs, each entry owned by the
 * connection that made it. A name taken over with `replace` keeps the claims
 * under it: when the taker's connection ends, the previous owner's entry is
 * back, so a connection that takes a name and leaves cannot leave it empty or
 * pointing at itself. Only the owner removes its entry; names and URIs are
 * printable and bounded, and so is their number.
 */

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

/** One page of `NameRegistry.list()`. */
export interface NamePage {
  /** Names and their URIs, sorted by name. */
  names: Record<string, string>;
  /** The last name of this page when more follow (ask again after it), else null. */
  next: string | null;
}

/** Longest name accepted, in characters (UTF-16 code units). */
export const MAX_NAME_LENGTH = 256;
/** Longest URI accepted, in characters. */
export const MAX_URI_LENGTH = 512;
/** Most registrations in the registry (names taken over count their earlier owners' too). */
export const MAX_ENTRIES = 10_000;
/** Most registrations of one connection. */
export const MAX_ENTRIES_PER_OWNER = 1_000;
/** Most UTF-8 bytes of JSON in one page of `list()`: far below the 1 MiB frame limit. */
export const LIST_PAGE_BYTES = 256 * 1024;
/** The owner of registrations made in-process (the embedded name server's own event server). */
export const LOCAL_OWNER = 0;

/** Not printable: controls, format characters (bidi overrides, zero widths), lone surrogates, private use, line breaks. */
const UNPRINTABLE = /[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Zl}\p{Zp}]/u;

/**
 * Names and their URIs. Pure data: the server tells it which connection asks,
 * and calls `dropOwner()` when a connection ends.
 *
 * @example
 * ```ts
 * const registry = new NameRegistry();
 * registry.register(1, ":EventService", "es://127.0.0.1:7766");
 * registry.resolve(":EventService"); // "es://127.0.0.1:7766"
 * ```
 */
export class NameRegistry {
  /** Each name's claims, the one in force last. */
  readonly #claims = new Map<string, NameEntry[]>();
  /** The names each owner has a claim on. */
  readonly #owned = new Map<number, Set<string>>();
  #entries = 0;

  /** Number of registered names. */
  get size(): number {
    return this.#claims.size;
  }

  /** Number of registrations, names taken over counting their earlier owners' too. */
  get entries(): number {
    return this.#entries;
  }

  /**
   * Registers `name` → `uri` for the connection `owner`. With `replace`, the
   * entry goes over another connection's, which comes back when this one goes.
   *
   * @throws {RequestError} NAMING when another connection holds the name and `replace` is false.
   * @throws {RequestError} PROTOCOL for an empty, over-long or unprintable name or URI.
   * @throws {RequestError} LIMIT when the registry, or this owner's share of it, is full.
   */
  register(owner: number, name: string, uri: string, replace = false): void {
    checkText("name", name, MAX_NAME_LENGTH);
    checkText("URI", uri, MAX_URI_LENGTH);
    const claims = this.#claims.get(name) ?? [];
    const top = claims.at(-1);
    if (top !== undefined && top.owner !== owner && !replace) {
      throw refused(
        `Name ${JSON.stringify(name)} is already registered to ${top.uri} by a live connection`,
      );
    }
    const mine = claims.findIndex((claim) => claim.owner === owner);
    if (mine === -1) {
      const owned = this.#owned.get(owner)?.size ?? 0;
      if (this.#entries >= MAX_ENTRIES || owned >= MAX_ENTRIES_PER_OWNER) {
        throw refused(
          `Cannot register ${JSON.stringify(name)}: ${
            owned >= MAX_ENTRIES_PER_OWNER
              ? `this connection holds ${owned} names, the most one may`
              : `the registry holds ${this.#entries} entries, the most it may`
          }`,
          ErrorCode.LIMIT,
        );
      }
      this.#entries++;
      let names = this.#owned.get(owner);
      if (names === undefined) this.#owned.set(owner, names = new Set());
      names.add(name);
    } else {
      claims.splice(mine, 1);
    }
    claims.push({ uri, owner, registeredAt: Date.now() });
    this.#claims.set(name, claims);
  }

  /**
   * @returns The URI registered for `name`.
   * @throws {RequestError} for an unknown name.
   */
  resolve(name: string): string {
    const entry = this.#claims.get(name)?.at(-1);
    if (entry === undefined) {
      throw refused(`Unknown name ${JSON.stringify(name)}`);
    }
    return entry.uri;
  }

  /**
   * Removes `owner`'s registration of `name`; an unknown name is ignored.
   *
   * @returns Whether there was one.
   * @throws {RequestError} NAMING when only other (live) connections hold the name.
   */
  unregister(owner: number, name: string): boolean {
    const claims = this.#claims.get(name);
    if (claims === undefined) return false;
    if (!claims.some((claim) => claim.owner === owner)) {
      throw refused(
        `Cannot unregister ${JSON.stringify(name)}: it is registered to ${
          claims.at(-1)!.uri
        } by another live connection, and only that one may remove it`,
      );
    }
    this.#drop(owner, name);
    return true;
  }

  /**
   * Names starting with `prefix` (after `after`, when paging), sorted by
   * name, as many as fit in `LIST_PAGE_BYTES` of JSON.
   */
  list(prefix = "", after = ""): NamePage {
    const names = [...this.#claims.keys()]
      .filter((name) => name.startsWith(prefix) && name > after)
      .sort();
    const page: Record<string, string> = {};
    let bytes = 2;
    for (const name of names) {
      const uri = this.#claims.get(name)!.at(-1)!.uri;
      // At most 3 UTF-8 bytes per UTF-16 unit (escapes of `"` and `\` take 2), quotes, colon, comma.
      bytes += 3 * (name.length + uri.length) + 6;
      if (bytes > LIST_PAGE_BYTES && Object.keys(page).length > 0) {
        return { names: page, next: Object.keys(page).at(-1)! };
      }
      page[name] = uri;
    }
    return { names: page, next: null };
  }

  /** Removes every entry `owner` registered (earlier owners of names it took over are back); returns their names. */
  dropOwner(owner: number): string[] {
    const names = [...this.#owned.get(owner) ?? []];
    for (const name of names) this.#drop(owner, name);
    return names;
  }

  #drop(owner: number, name: string): void {
    const claims = this.#claims.get(name)!;
    claims.splice(claims.findIndex((claim) => claim.owner === owner), 1);
    if (claims.length === 0) this.#claims.delete(name);
    const owned = this.#owned.get(owner)!;
    owned.delete(name);
    if (owned.size === 0) this.#owned.delete(owner);
    this.#entries--;
  }
}

function checkText(what: string, value: unknown, max: number): void {
  if (typeof value !== "string" || value.length === 0 || value.length > max) {
    throw refused(
      `Invalid ${what} ${
        JSON.stringify(typeof value === "string" ? value.slice(0, 80) : value)
      }: must be a string of 1 to ${max} characters`,
      ErrorCode.PROTOCOL,
    );
  }
  if (UNPRINTABLE.test(value)) {
    throw refused(
      `Invalid ${what} ${
        JSON.stringify(value.slice(0, 80))
      }: control and invisible formatting characters are not allowed`,
      ErrorCode.PROTOCOL,
    );
  }
}
