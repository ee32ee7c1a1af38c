/**
 * The name registry: a name server that maps names to URIs, and the proxy
 * clients use to ask it.
 *
 * @module
 */

export { NameServer, startNameServer } from "./name_server.ts";
export type { NameServerOptions, NameServerStats } from "./name_server.ts";
export { locateNameServer, NameServerProxy } from "../client/name_proxy.ts";
export type { LocateOptions } from "../client/name_proxy.ts";
