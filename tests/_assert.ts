/** Assertions for tests: `node:assert/strict` (std's assert is not reachable here), under familiar names. */

import assertStrict from "node:assert/strict";

export const assert: (value: unknown, message?: string) => asserts value = assertStrict.ok;
export const assertEquals: <T>(
  actual: unknown,
  expected: T,
  message?: string,
) => asserts actual is T = assertStrict.deepStrictEqual;
export const assertNotEquals = assertStrict.notDeepStrictEqual;
export const assertMatch = (actual: string, regex: RegExp, message?: string): void =>
  assertStrict.match(actual, regex, message);
export const assertRejects = assertStrict.rejects;
export const assertThrows = assertStrict.throws;
