/**
 * The es client: `Publisher` and `Subscriber` classes as in the original
 * Event Server, and `connect()` with subscriptions as async iterables.
 * Browser compatible: `Deno.*` is used only where present.
 *
 * @module
 */

export { Publisher } from "./publisher.ts";
export { Subscriber } from "./subscriber.ts";
export type { SubscribeOptions, SubscriberOptions } from "./subscriber.ts";
export { Client, connect, Subscription } from "./client.ts";
export type { SubscriptionOptions } from "./client.ts";
export type { Event } from "./event.ts";
export { EVENTSERVER_NAME } from "./options.ts";
export type { ClientOptions, Overflow } from "./options.ts";
export { exponentialBackoff } from "./reconnect.ts";
export type { Backoff, ReconnectOptions } from "./reconnect.ts";
export type {
  DisconnectStatus,
  ErrorStatus,
  MissedStatus,
  ReconnectStatus,
  Status,
  StatusEvent,
  StatusOf,
  StatusSource,
  StatusType,
} from "./status.ts";
export {
  AuthenticationError,
  ConnectionClosedError,
  EsError,
  NamingError,
  ProtocolError,
} from "../errors.ts";
