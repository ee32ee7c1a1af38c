/**
 * es: a Deno-native event server. This module gathers the client, the server
 * and the name registry.
 *
 * @module
 */

export * from "./client/mod.ts";
export * from "./server/mod.ts";
export * from "./names/mod.ts";
