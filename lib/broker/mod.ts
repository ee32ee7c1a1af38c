/**
 * Routing without I/O: the subject index, patterns, the per-subscriber queue
 * and the router.
 *
 * @module
 */

export { Router, whenAllHaveRoom } from "./router.ts";
export type { Forwarder, RouterOptions, RouterTotals, SubjectCounter } from "./router.ts";
export { SubjectIndex } from "./subject_index.ts";
export type { Delivery, InterestListener, SubjectIndexOptions } from "./subject_index.ts";
export { SubscriberQueue } from "./subscriber_queue.ts";
export type { Blocker, OverflowPolicy, QueueLimits, Target, WriteFn } from "./subscriber_queue.ts";
export { compilePattern } from "./pattern.ts";
export type { CompiledPattern } from "./pattern.ts";
