/**
 * A direct-mapped cache from a subject's UTF-8 bytes to its string and key,
 * so that the hot paths decode and lower-case each distinct subject once
 * instead of once per event. Each reader owns its own cache.
 */

import { ErrorCode } from "./constants.ts";
import { FrameError } from "../errors.ts";
import { subjectKey } from "./subjects.ts";

const utf8 = new TextDecoder("utf-8", { fatal: true });

/** ASCII without TextDecoder; anything else through it (invalid UTF-8 throws). */
function decode(bytes: Uint8Array): string {
  let ascii = true;
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i]! >= 0x80) {
      ascii = false;
      break;
    }
  }
  if (ascii && bytes.length <= 64) return String.fromCharCode(...bytes);
  try {
    return utf8.decode(bytes);
  } catch (cause) {
    throw new FrameError(ErrorCode.PROTOCOL, "Invalid UTF-8 in subject", { cause });
  }
}

/** One cached subject. */
export interface CachedSubject {
  /** The subject as spelled on the wire. */
  readonly subject: string;
  /** `subjectKey(subject)`. */
  readonly key: string;
  /** The UTF-8 bytes (an owned copy). */
  readonly bytes: Uint8Array;
  /** For the router's statistics: the counter of this subject, once it has one. */
  counter?: { published: number } | undefined;
}

/** Subjects longer than this are decoded every time instead of cached. */
const MAX_CACHED_BYTES = 256;

/**
 * Subject bytes → string and key. Two-way set associative (a subject has two
 * slots, the one used less recently is replaced), so a thousand busy subjects
 * do not evict each other. Memory is bounded: `slots` entries of at most 256
 * bytes each.
 *
 * @example
 * ```ts
 * const cache = new SubjectCache();
 * const { subject, key } = cache.lookup(bytes, 0, bytes.length);
 * ```
 */
export class SubjectCache {
  #slots: (CachedSubject | undefined)[];
  /** Per set of two slots: which one was used last. */
  #recent: Uint8Array;
  #setMask: number;

  /** @param slots Entries kept, a power of two (default 8192). */
  constructor(slots = 8192) {
    this.#slots = new Array(slots);
    this.#recent = new Uint8Array(slots >> 1);
    this.#setMask = (slots >> 1) - 1;
  }

  /**
   * The cached subject for `bytes[start, end)`, decoding it on a miss.
   *
   * @throws {FrameError} for invalid UTF-8.
   */
  lookup(bytes: Uint8Array, start: number, end: number): CachedSubject {
    const length = end - start;
    let hash = 0x811c9dc5 ^ length;
    for (let i = start; i < end; i++) hash = Math.imul(hash ^ bytes[i]!, 0x01000193);
    const set = (hash >>> 0) & this.#setMask;
    const first = set << 1;
    for (let way = 0; way < 2; way++) {
      const cached = this.#slots[first + way];
      if (cached !== undefined && same(cached.bytes, bytes, start, length)) {
        this.#recent[set] = way;
        return cached;
      }
    }
    const own = bytes.slice(start, end);
    const subject = decode(own);
    const entry: CachedSubject = { subject, key: subjectKey(subject), bytes: own };
    if (length <= MAX_CACHED_BYTES) {
      const way = this.#recent[set]! ^ 1;
      this.#slots[first + way] = entry;
      this.#recent[set] = way;
    }
    return entry;
  }
}

function same(known: Uint8Array, bytes: Uint8Array, start: number, length: number): boolean {
  if (known.length !== length) return false;
  for (let i = 0; i < length; i++) if (known[i] !== bytes[start + i]) return false;
  return true;
}
