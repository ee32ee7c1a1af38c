/**
 * The event server and the name registry: embed a name server and register
 * in it directly, or register with an external one over a connection kept
 * open for the server's life, so that the entry vanishes when the server
 * dies. Either way the server keeps its name: an entry taken over by a
 * connection that goes away is back at once (the registry keeps the claims
 * under it), and the external registration checks its name every heartbeat.
 */

import { getLogger } from "@logtape/logtape";
import { NamingError } from "../errors.ts";
import { EVENTSERVER_NAME } from "../client/options.ts";
import { locateNameServer, type NameServerProxy } from "../client/name_proxy.ts";
import type { TlsMaterial } from "../transport/tcp_listen.ts";
import { type NameServer, startNameServer } from "./name_server.ts";
import { LOCAL_OWNER } from "./registry.ts";

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
  /** The event server's certificate: the embedded name server serves `ns+tls://` with it. */
  tls: TlsMaterial | undefined;
  /** CA certificates to trust when registering with a `ns+tls://` name server. */
  caCerts: string[] | undefined;
  /** How often the registration checks that the name is still there. */
  heartbeatMs: number;
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
  const { nameServer: mode, nsPort, ident, hostname, tls } = options;
  if (mode === "none") return undefined;
  let nsURI: string;
  /** Said when no es name server answers: why we expected one there. */
  let hint = "";
  if (mode === "embedded") {
    let embedded: NameServer;
    try {
      embedded = await startNameServer({
        hostname,
        port: nsPort,
        ident,
        ...(tls ? { tlsCert: tls.cert, tlsKey: tls.key } : {}),
      });
    } catch (error) {
      if (!(error instanceof Deno.errors.AddrInUse)) throw error;
      // Another name server (most likely another `es serve`'s) has the port: use it.
      nsURI = `${tls ? "ns+tls" : "ns"}://${connectHost(hostname)}:${nsPort}`;
      hint =
        ` (the embedded name server's port ${nsPort} is taken by another program: use --ns-port, or -N)`;
      log.info(
        "Port {nsPort} is taken; registering with the name server already there ({nsURI})",
        { nsPort, nsURI },
      );
      return await registerWith(nsURI, uri, options, hint);
    }
    // In-process: the entry lives as long as the embedded name server, i.e. as this server.
    embedded.registry.register(LOCAL_OWNER, EVENTSERVER_NAME, uri);
    return {
      nsURI: embedded.uri,
      get acceptFailing() {
        return embedded.acceptFailing;
      },
      close: () => embedded.close(),
    };
  } else if (/^ns(\+tls)?:\/\//i.test(mode)) {
    nsURI = mode;
  } else {
    throw new RangeError(
      `Invalid nameServer ${JSON.stringify(mode)}: expected "embedded", "none" or ns://HOST:PORT`,
    );
  }
  return await registerWith(nsURI, uri, options, hint);
}

/** Registers `uri` with the name server at `nsURI` over a connection held open. */
async function registerWith(
  nsURI: string,
  uri: string,
  options: NamingOptions,
  hint: string,
): Promise<Naming> {
  const registration = new NameRegistration(nsURI, uri, options);
  try {
    await registration.register(options.replace, hint);
  } catch (error) {
    await registration.close();
    throw error;
  }
  return { nsURI, acceptFailing: false, close: () => registration.close() };
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
  #options: NamingOptions;
  #proxy: NameServerProxy | undefined;
  #closed = false;
  #retry: ReturnType<typeof setTimeout> | undefined;
  #check: ReturnType<typeof setInterval> | undefined;
  /** Set while another connection holds the name, so that it is logged once. */
  #heldBy: string | undefined;

  constructor(nsURI: string, uri: string, options: NamingOptions) {
    this.#nsURI = nsURI;
    this.#uri = uri;
    this.#options = options;
  }

  /** Connects and registers; `hint` ends the message when no name server answers. */
  async register(replace: boolean, hint = ""): Promise<void> {
    let proxy: NameServerProxy;
    try {
      proxy = await locateNameServer({
        nsURI: this.#nsURI,
        ident: this.#options.ident,
        connectTimeoutMs: CONNECT_TIMEOUT_MS,
        ...(this.#options.caCerts ? { caCerts: this.#options.caCerts } : {}),
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
    clearInterval(this.#check);
    this.#check = setInterval(() => void this.#checkName(proxy), this.#options.heartbeatMs);
  }

  /**
   * Registers again if the name is gone (a name server that keeps no claims
   * under a taken-over name would lose it when the taker leaves).
   */
  async #checkName(proxy: NameServerProxy): Promise<void> {
    try {
      const holder = await proxy.resolve(EVENTSERVER_NAME).catch((error) => {
        if (error instanceof NamingError) return undefined;
        throw error;
      });
      if (holder === undefined) {
        await proxy.register(EVENTSERVER_NAME, this.#uri);
        log.warn("{name} had vanished from {nsURI}; registered it again", {
          name: EVENTSERVER_NAME,
          nsURI: this.#nsURI,
        });
      } else if (holder !== this.#uri && holder !== this.#heldBy) {
        log.warn("{name} on {nsURI} is held by {holder}; ours again when that connection ends", {
          name: EVENTSERVER_NAME,
          nsURI: this.#nsURI,
          holder,
        });
      }
      this.#heldBy = holder === this.#uri ? undefined : holder;
    } catch {
      // The connection is going: #watch registers again once the name server is back.
    }
  }

  /** When the name server connection drops while we live, register again once it is back. */
  async #watch(proxy: NameServerProxy): Promise<void> {
    const error = await proxy.closed;
    if (this.#closed || error === undefined) return;
    log.warn("Lost the name server {nsURI} ({error}); will register again when it is back", {
      nsURI: this.#nsURI,
      error: error.message,
    });
    clearInterval(this.#check);
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
    clearInterval(this.#check);
    const proxy = this.#proxy;
    this.#proxy = undefined;
    if (!proxy) return;
    try {
      // Removes only our own entry: one that took the name over stays in force.
      await proxy.unregister(EVENTSERVER_NAME);
    } catch {
      // The name server is gone: nothing of ours is left.
    }
    await proxy.close();
  }
}
