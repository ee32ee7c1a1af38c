/**
 * The event server and the name registry: embed a name server, or register
 * with an external one, over a connection kept open for the server's life so
 * that the entry vanishes when the server dies.
 */

import { getLogger } from "@logtape/logtape";
import { NamingError } from "../errors.ts";
import { EVENTSERVER_NAME } from "../client/options.ts";
import { locateNameServer, type NameServerProxy } from "../client/name_proxy.ts";
import { type NameServer, startNameServer } from "./name_server.ts";

const log = getLogger(["es", "names"]);

/** Wait between attempts to re-register after the name server connection was lost. */
const REREGISTER_MS = 2_000;
/** How long connecting to the name server may take (a silent program on the port must not hang us). */
const CONNECT_TIMEOUT_MS = 5_000;

/** How an event server is named. */
export interface NamingOptions {
  /** `"embedded"`, `"none"`, or the `ns://host:port` of a name server to register with. */
  nameServer: string;
  /** Port of the embedded name server. */
  nsPort: number;
  ident: string | undefined;
  /** Interface the event server (and an embedded name server) listens on. */
  hostname: string;
  /** Take the name over from a live server. */
  replace: boolean;
}

/** An event server's name, held for as long as it runs. */
export interface Naming {
  /** The name server the event server is registered with. */
  readonly nsURI: string;
  /** True while the embedded name server cannot accept connections (for `/healthz`). */
  readonly acceptFailing: boolean;
  /** Unregisters, and stops the embedded name server. */
  close(): Promise<void>;
}

/**
 * Gives the event server at `uri` its name: starts the embedded name server
 * or finds the external one and registers `EVENTSERVER_NAME` → `uri`.
 *
 * @returns undefined when `nameServer` is `"none"`.
 * @throws {NamingError} when a live event server holds the name (and
 * `replace` is off), or when the name server cannot be reached.
 */
export async function startNaming(
  options: NamingOptions,
  uri: string,
): Promise<Naming | undefined> {
  const { nameServer: mode, nsPort, ident, hostname } = options;
  if (mode === "none") return undefined;
  let embedded: NameServer | undefined;
  let nsURI: string;
  /** Said when no es name server answers: why we expected one there. */
  let hint = "";
  if (mode === "embedded") {
    try {
      embedded = await startNameServer({ hostname, port: nsPort, ident });
      nsURI = embedded.uri;
    } catch (error) {
      if (!(error instanceof Deno.errors.AddrInUse)) throw error;
      // Another name server (most likely another `es serve`'s) has the port: use it.
      nsURI = `ns://${connectHost(hostname)}:${nsPort}`;
      hint =
        ` (the embedded name server's port ${nsPort} is taken by another program: use --ns-port, or -N)`;
      log.info(
        "Port {nsPort} is taken; registering with the name server already there ({nsURI})",
        { nsPort, nsURI },
      );
    }
  } else if (/^ns(\+tls)?:\/\//i.test(mode)) {
    nsURI = mode;
  } else {
    throw new RangeError(
      `Invalid nameServer ${JSON.stringify(mode)}: expected "embedded", "none" or ns://HOST:PORT`,
    );
  }
  const registration = new NameRegistration(
    embedded ? `ns://${connectHost(hostname)}:${embedded.port}` : nsURI,
    uri,
    ident,
  );
  try {
    await registration.register(options.replace, hint);
  } catch (error) {
    await registration.close();
    await embedded?.close();
    throw error;
  }
  return {
    nsURI,
    get acceptFailing() {
      return embedded?.acceptFailing ?? false;
    },
    async close() {
      await registration.close();
      await embedded?.close();
    },
  };
}

/** Where to connect to reach a server listening on `hostname` from this machine. */
function connectHost(hostname: string): string {
  if (hostname === "0.0.0.0" || hostname === "") return "127.0.0.1";
  if (hostname === "::" || hostname === "[::]") return "[::1]";
  return hostname.includes(":") && !hostname.startsWith("[") ? `[${hostname}]` : hostname;
}

/** The name is held by another live event server. */
class NameTakenError extends NamingError {}

/** The event server's entry in a name server, held by one open connection. */
class NameRegistration {
  #nsURI: string;
  #uri: string;
  #ident: string | undefined;
  #proxy: NameServerProxy | undefined;
  #closed = false;
  #retry: ReturnType<typeof setTimeout> | undefined;

  constructor(nsURI: string, uri: string, ident: string | undefined) {
    this.#nsURI = nsURI;
    this.#uri = uri;
    this.#ident = ident;
  }

  /** Connects and registers; `hint` ends the message when no name server answers. */
  async register(replace: boolean, hint = ""): Promise<void> {
    let proxy: NameServerProxy;
    try {
      proxy = await locateNameServer({
        nsURI: this.#nsURI,
        ident: this.#ident,
        connectTimeoutMs: CONNECT_TIMEOUT_MS,
      });
    } catch (error) {
      if (error instanceof NamingError) {
        throw new NamingError(
          `Cannot register the event server: no es name server answers at ${this.#nsURI}${hint}`,
          { cause: error },
        );
      }
      throw error;
    }
    try {
      await proxy.register(EVENTSERVER_NAME, this.#uri, { replace });
    } catch (error) {
      await proxy.close();
      if (error instanceof NamingError) {
        throw new NameTakenError(
          `Cannot start the event server: ${error.message} on ${this.#nsURI}. Another event server is running; stop it, or start this one with --replace (replace: true) to take the name over`,
          { cause: error },
        );
      }
      throw new NamingError(
        `Cannot register the event server with ${this.#nsURI}: ${(error as Error).message}`,
        { cause: error },
      );
    }
    if (replace) {
      log.info("Took over {name} on {nsURI}", { name: EVENTSERVER_NAME, nsURI: this.#nsURI });
    }
    this.#proxy = proxy;
    void this.#watch(proxy);
  }

  /** When the name server connection drops while we live, register again once it is back. */
  async #watch(proxy: NameServerProxy): Promise<void> {
    const error = await proxy.closed;
    if (this.#closed || error === undefined) return;
    log.warn("Lost the name server {nsURI} ({error}); will register again when it is back", {
      nsURI: this.#nsURI,
      error: error.message,
    });
    this.#proxy = undefined;
    this.#scheduleRetry();
  }

  #scheduleRetry(): void {
    if (this.#closed) return;
    this.#retry = setTimeout(async () => {
      this.#retry = undefined;
      if (this.#closed) return;
      try {
        await this.register(false);
        if (this.#closed) {
          await this.#proxy?.close();
          return;
        }
        log.info("Registered again with {nsURI}", { nsURI: this.#nsURI });
      } catch (error) {
        if (error instanceof NameTakenError) {
          log.error("Cannot register again with {nsURI}: {error}", {
            nsURI: this.#nsURI,
            error: error.message,
          });
          return;
        }
        log.debug("Name server {nsURI} still unavailable: {error}", {
          nsURI: this.#nsURI,
          error: String(error),
        });
        this.#scheduleRetry();
      }
    }, REREGISTER_MS);
  }

  /** Unregisters (best effort) and closes the connection. Idempotent. */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#retry !== undefined) clearTimeout(this.#retry);
    const proxy = this.#proxy;
    this.#proxy = undefined;
    if (!proxy) return;
    try {
      // Only our own entry: a server that took the name over with replace keeps it.
      if (await proxy.resolve(EVENTSERVER_NAME) === this.#uri) {
        await proxy.unregister(EVENTSERVER_NAME);
      }
    } catch {
      // Unknown name, or the name server is gone: nothing of ours is left.
    }
    await proxy.close();
  }
}
