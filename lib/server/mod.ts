/**
 * Running the event server inside your own program: `startEventServer()`
 * (or the original's `EventServiceStarter`), its options and its statistics.
 *
 * @example
 * ```ts
 * import { startEventServer } from "./mod.ts";
 *
 * await using server = await startEventServer({ port: 0, httpPort: false, nameServer: "none" });
 * console.log(server.uri, (await server.stats()).connections);
 * ```
 *
 * @module
 */

export { EventServer, startEventServer } from "./event_server.ts";
export { EventServiceStarter } from "./starter.ts";
export type { EventServerOptions } from "./options.ts";
export type { ReliabilityOptions } from "./reliability_options.ts";
export type { TrustOptions } from "./trust_options.ts";
export type { ServerStats, SubjectStats, SubscriberStats } from "../node/stats.ts";
