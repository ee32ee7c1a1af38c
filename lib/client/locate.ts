/** Finding the event server (its URI as given, or through the name server) and connecting to it. */

import { ClientConnection } from "./connection.ts";
import { OverflowCode } from "../protocol/constants.ts";
import { ConnectionClosedError, NamingError } from "../errors.ts";
import {
  type ClientOptions,
  DEFAULT_NS_URI,
  EVENTSERVER_NAME,
  type Overflow,
  readEnv,
} from "./options.ts";

const OVERFLOW_CODES: Record<Overflow, OverflowCode> = {
  "block": OverflowCode.BLOCK,
  "drop-new": OverflowCode.DROP_NEW,
  "drop-old": OverflowCode.DROP_OLD,
  "latest": OverflowCode.LATEST,
};
import { locateNameServer } from "./name_proxy.ts";
import { browserEventServer } from "./browser_default.ts";

/**
 * The event server's URI: `esURI` if given; in a browser without `nsURI`, the
 * WebSocket of the server that served the client (see browser_default.ts);
 * else what the name server says.
 *
 * @throws {NamingError} saying what was tried when the server cannot be found.
 */
async function resolveEventServer(options: ClientOptions): Promise<string> {
  if (options.esURI) return options.esURI;
  const fromEnv = options.nsURI ? undefined : readEnv("ES_URL");
  if (fromEnv) return fromEnv;
  const browserDefault = options.nsURI ? undefined : browserEventServer(import.meta.url);
  if (browserDefault !== undefined) return browserDefault;
  const nsURI = options.nsURI ?? readEnv("ES_NS") ?? DEFAULT_NS_URI;
  let ns;
  try {
    ns = await locateNameServer({
      nsURI,
      ident: options.ident,
      connectTimeoutMs: options.connectTimeoutMs,
      ...(options.caCerts ? { caCerts: options.caCerts } : {}),
    });
  } catch (error) {
    if (error instanceof NamingError) {
      throw new NamingError(
        `Cannot find the event server: no name server at ${nsURI}. Start "es serve", or pass --es / --ns (esURI / nsURI), or set ES_URL / ES_NS`,
        { cause: error },
      );
    }
    throw error;
  }
  try {
    return await ns.resolve(EVENTSERVER_NAME);
  } catch (error) {
    if (error instanceof NamingError) {
      throw new NamingError(
        `Cannot find the event server: the name server at ${nsURI} knows no "${EVENTSERVER_NAME}" (no "es serve" registered there; pass --es / esURI, or set ES_URL)`,
        { cause: error },
      );
    }
    throw error;
  } finally {
    await ns.close();
  }
}

/** The URIs of a server list (`es://a:7766,es://b:7766`), in order. */
export function serverList(uris: string): string[] {
  return uris.split(",").map((u) => u.trim()).filter((u) => u !== "");
}

/**
 * Finds the event server (see `resolveEventServer()`) and connects to it with
 * the passphrase, connect timeout and CA certificates of `options`. When the
 * URI is a list, the servers are tried in turn, starting at `turn` (modulo the
 * list's length): a client that lost one moves on to the next.
 *
 * @param clientName How the connection introduces itself (shown in the server's statistics).
 * @throws {NamingError} when the server cannot be found.
 * @throws {ConnectionClosedError} when none can be reached (the last one's reason).
 * @throws {AuthenticationError} when the passphrase is missing or wrong.
 */
export async function openEventServer(
  options: ClientOptions,
  clientName: string,
  turn = 0,
): Promise<ClientConnection> {
  const uris = serverList(await resolveEventServer(options));
  if (uris.length === 0) throw new TypeError("Invalid esURI: no server in the list");
  let lastError: unknown;
  for (let i = 0; i < uris.length; i++) {
    const uri = uris[(turn + i) % uris.length]!;
    try {
      return await ClientConnection.open(uri, {
        ident: options.ident ?? readEnv("ES_IDENT"),
        clientName,
        connectTimeoutMs: options.connectTimeoutMs,
        ...(options.caCerts ? { caCerts: options.caCerts } : {}),
        ...(options.bufferSize ? { windowEvents: options.bufferSize } : {}),
        ...(options.bufferBytes ? { windowBytes: options.bufferBytes } : {}),
        ...(options.queueSize ? { queueSize: options.queueSize } : {}),
        ...(options.overflow ? { overflow: OVERFLOW_CODES[options.overflow] } : {}),
      });
    } catch (error) {
      // Only "cannot reach it" moves on: a refused passphrase would be refused by every node.
      if (!(error instanceof ConnectionClosedError) || uris.length === 1) throw error;
      lastError = error;
    }
  }
  throw lastError;
}
