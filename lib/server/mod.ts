/** Running the event server inside your own program. */

export { EventServer, startEventServer } from "./event_server.ts";
export { EventServiceStarter } from "./starter.ts";
export type { EventServerOptions } from "./options.ts";
export type { ServerStats, SubjectStats, SubscriberStats } from "../node/stats.ts";
