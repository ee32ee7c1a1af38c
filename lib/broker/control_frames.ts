/**
 * The control frames a subscriber's queue sends ahead of its events (replies,
 * pongs, BYE): outside the queue's bound and the client's credit,
 * so a client always gets its answers, however full its queue.
 */

/**
 * Control frames waiting to be written, oldest first.
 *
 * @example
 * ```ts
 * const controls = new ControlFrames();
 * controls.push(PONG_FRAME);
 * controls.take(); // the PONG, or several frames joined into one write
 * ```
 */
export class ControlFrames {
  /** Bytes waiting. */
  bytes = 0;
  #frames: Uint8Array[] = [];

  /** Whether any frame waits. */
  get pending(): boolean {
    return this.#frames.length > 0;
  }

  push(frame: Uint8Array): void {
    this.#frames.push(frame);
    this.bytes += frame.length;
  }

  /** Every frame waiting, as one write; null when none. */
  take(): Uint8Array | null {
    const frames = this.#frames;
    if (frames.length === 0) return null;
    this.clear();
    return frames.length === 1 ? frames[0]! : concat(frames);
  }

  clear(): void {
    this.#frames = [];
    this.bytes = 0;
  }
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((size, p) => size + p.length, 0));
  parts.reduce((at, p) => (out.set(p, at), at + p.length), 0);
  return out;
}
