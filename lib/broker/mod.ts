/**
 * Routing without I/O: the subject index, patterns, the per-subscriber queue
 * and the router.
 *
 * @module
 */

export { Router, whenAllHaveRoom } from "./router.ts";
export type { Forwarder, RouterOptions, RouterTotals, SubjectCounter } from "./router.ts";
export type { GroupChoice, RemotePick } from "./group_pick.ts";
export { SubjectIndex } from "./subject_index.ts";
export type {
  Delivery,
  GroupInterestListener,
  GroupRoute,
  InterestItem,
  InterestListener,
  Routes,
  SubjectIndexOptions,
} from "./subject_index.ts";
export { LatestStore } from "./latest_store.ts";
export { SubscriberQueue } from "./subscriber_queue.ts";
export type { Blocker, OverflowPolicy, QueueLimits, Target, WriteFn } from "./subscriber_queue.ts";
export { compilePattern, loadPatternEngine, patternEngineLoaded } from "./pattern.ts";
export type { CompiledPattern } from "./pattern.ts";
