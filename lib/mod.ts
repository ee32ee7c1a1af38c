/**
 * es: a Deno-native event server. This module gathers the client, the server
 * and the name registry.
 *
 * @module
 */

export * from "./client/mod.ts";
export * from "./server/mod.ts";
export { locateNameServer, NameServerProxy } from "./names/proxy.ts";
export type { LocateOptions } from "./names/proxy.ts";
