/** `es ns`: the standalone name server and its queries (built with the name-server issue). */

import { UsageError } from "./usage.ts";

/** Runs `es ns`. */
export function ns(_args: string[]): Promise<number> {
  return Promise.reject(new UsageError("es ns is not available yet"));
}
