/** The broker: subscription index, per-subscriber queues and routing, free of I/O. */

export { Broker, whenAllHaveRoom } from "./broker.ts";
export type { BrokerTotals, SubjectCounter } from "./broker.ts";
export { SubjectIndex } from "./subject_index.ts";
export type { PatternCheck } from "./subject_index.ts";
export { SubscriberQueue } from "./subscriber_queue.ts";
export type { QueueOptions, Target, WriteFn } from "./subscriber_queue.ts";
