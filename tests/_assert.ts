/**
 * Assertions for tests: `@std/assert`, with `assertRejects` and `assertThrows`
 * that also accept the forms the tests were written with: a promise as well as
 * a function, and, for the error, a predicate or a RegExp as well as a class.
 *
 * Importing this module (every test does) also makes the test process
 * hermetic: see `_env.ts`.
 */

import "./_env.ts";
import {
  AssertionError,
  assertMatch,
  assertRejects as stdAssertRejects,
  assertThrows as stdAssertThrows,
} from "@std/assert";

export {
  assert,
  assertAlmostEquals,
  assertEquals,
  assertExists,
  assertFalse,
  assertGreater,
  assertInstanceOf,
  AssertionError,
  assertLess,
  assertMatch,
  assertNotEquals,
  assertObjectMatch,
  assertStrictEquals,
  assertStringIncludes,
  fail,
  unreachable,
} from "@std/assert";

/** An error class, as `@std/assert` takes it. */
// deno-lint-ignore no-explicit-any
type ErrorClass = abstract new (...args: any[]) => Error;

/**
 * What the error must be: an instance of a class, an error whose `String()`
 * matches a RegExp, or one for which a predicate returns `true` (the
 * predicate may also assert and throw).
 */
export type ErrorCheck = ErrorClass | RegExp | ((error: unknown) => boolean);

function isErrorClass(check: ErrorCheck): check is ErrorClass {
  return typeof check === "function" &&
    (check.prototype instanceof Error || check.prototype === Error.prototype);
}

function checkError(
  error: unknown,
  expected: RegExp | ((error: unknown) => boolean),
  msg?: string,
) {
  if (expected instanceof RegExp) {
    assertMatch(String(error), expected, msg);
  } else if (expected(error) !== true) {
    throw new AssertionError(
      `The error did not pass the check${msg ? `: ${msg}` : ""}: ${String(error)}`,
      { cause: error },
    );
  }
}

/**
 * Asserts that `actual` (a promise, or a function returning one) rejects, and
 * that the error passes `expected`.
 *
 * @returns The error.
 */
export async function assertRejects(
  actual: PromiseLike<unknown> | (() => PromiseLike<unknown>),
  expected?: ErrorCheck,
  msg?: string,
): Promise<unknown> {
  const fn = typeof actual === "function" ? actual : () => actual;
  if (expected === undefined) return await stdAssertRejects(fn, msg);
  if (isErrorClass(expected)) return await stdAssertRejects(fn, expected, undefined, msg);
  const error = await stdAssertRejects(fn, msg);
  checkError(error, expected, msg);
  return error;
}

/**
 * Asserts that `fn` throws, and that the error passes `expected`.
 *
 * @returns The error.
 */
export function assertThrows(fn: () => unknown, expected?: ErrorCheck, msg?: string): unknown {
  if (expected === undefined) return stdAssertThrows(fn, msg);
  if (isErrorClass(expected)) return stdAssertThrows(fn, expected, undefined, msg);
  const error = stdAssertThrows(fn, msg);
  checkError(error, expected, msg);
  return error;
}
