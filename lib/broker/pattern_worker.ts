/** The worker thread that runs pattern safety checks for `PatternSafety`. */
/// <reference no-default-lib="true" />
/// <reference lib="deno.worker" />

import { judge } from "./pattern_safety.ts";

self.onmessage = (
  e: MessageEvent<{ id: number; pattern: string; maxDegree: number; timeoutMs: number }>,
) => {
  const { id, pattern, maxDegree, timeoutMs } = e.data;
  self.postMessage({ id, verdict: judge(pattern, maxDegree, timeoutMs) });
};
