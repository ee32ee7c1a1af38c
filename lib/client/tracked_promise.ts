/**
 * A promise that knows whether anyone is waiting for it. `Subscriber` uses it
 * to tell a rejected `subscribe()` the caller awaited (their error to handle)
 * from one called un-awaited in a constructor (to surface in `listen()`).
 */

/** A native promise whose `then` (used by `await`, `catch`, `finally`) marks it observed. */
export class TrackedPromise<T> extends Promise<T> {
  observed = false;

  // Derived promises are plain ones; only the original is tracked.
  static override get [Symbol.species](): PromiseConstructor {
    return Promise;
  }

  override then<R1 = T, R2 = never>(
    onFulfilled?: ((value: T) => R1 | PromiseLike<R1>) | null,
    onRejected?: ((reason: unknown) => R2 | PromiseLike<R2>) | null,
  ): Promise<R1 | R2> {
    this.observed = true;
    return super.then(onFulfilled, onRejected);
  }

  /**
   * Follows `inner`. When it rejects and nobody has attached a handler by
   * then (or by the next turn of the event loop, for a rejection that came
   * before the caller could attach one), `onUnobserved` gets the error, and
   * the rejection is marked handled so it never becomes an unhandled rejection.
   */
  static track<T>(inner: Promise<T>, onUnobserved: (error: unknown) => void): TrackedPromise<T> {
    let settle!: { resolve: (v: T) => void; reject: (e: unknown) => void };
    const tracked = new TrackedPromise<T>((resolve, reject) => settle = { resolve, reject });
    inner.then(settle.resolve, (error) => {
      if (tracked.observed) return settle.reject(error);
      // Handled for now; reported as unobserved if still nobody looks by the next turn.
      Promise.prototype.then.call(tracked, undefined, () => {});
      settle.reject(error);
      setTimeout(() => {
        if (!tracked.observed) onUnobserved(error);
      }, 0);
    });
    return tracked;
  }
}
