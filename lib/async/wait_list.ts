/**
 * The one waiter primitive of es: callers wait for "something changed"
 * (room in a queue, a write finished, credit arrived) and are woken all at
 * once by whoever changed it. Promises only, never a polling timer.
 *
 * @module
 */

/**
 * Callers waiting for the next `release()`.
 *
 * @example
 * ```ts
 * const room = new WaitList();
 * while (queue.full) await room.wait();   // the consumer calls room.release()
 * ```
 */
export class WaitList {
  #waiters: (() => void)[] | undefined;

  /** How many callers are waiting. */
  get size(): number {
    return this.#waiters?.length ?? 0;
  }

  /** Resolves at the next `release()`. */
  wait(): Promise<void> {
    return new Promise((resolve) => (this.#waiters ??= []).push(resolve));
  }

  /** Wakes every caller waiting now. */
  release(): void {
    const waiters = this.#waiters;
    if (waiters === undefined) return;
    this.#waiters = undefined;
    for (const resolve of waiters) resolve();
  }
}

/**
 * Resolves true once `done()` holds, checking it now and at each release of
 * `changes`; false after `timeoutMs`.
 *
 * @example
 * ```ts
 * const idle = new WaitList();
 * await until(idle, () => !writing, 2_000); // the writer calls idle.release()
 * ```
 */
export async function until(
  changes: WaitList,
  done: () => boolean,
  timeoutMs = Infinity,
): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = Number.isFinite(timeoutMs)
    ? new Promise<false>((resolve) => timer = setTimeout(() => resolve(false), timeoutMs))
    : undefined;
  try {
    while (!done()) {
      const woken = changes.wait().then(() => true);
      if (!await (timeout ? Promise.race([woken, timeout]) : woken)) return false;
    }
    return true;
  } finally {
    clearTimeout(timer);
  }
}
