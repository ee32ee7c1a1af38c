/**
 * The accept loop of the event server and the name server: the shared one
 * of lib/transport/, handing each connection on as a `TcpTransport`.
 */

import { ConnAcceptLoop } from "../transport/accept_loop.ts";
import { TcpTransport } from "../transport/tcp.ts";
import type { Listener } from "../transport/tcp_listen.ts";
import type { Transport } from "../transport/transport.ts";

/**
 * Accepts connections from `listener` until it is closed and hands each to
 * `onConnection`; survives `EMFILE` (see `ConnAcceptLoop`).
 *
 * @example
 * ```ts
 * const loop = new AcceptLoop(Deno.listen({ port: 0 }), (t) => serve(t), "event server");
 * await loop.close();
 * ```
 */
export class AcceptLoop {
  readonly #loop: ConnAcceptLoop;

  /** @param what Named in log lines ("event server", "name server"). */
  constructor(listener: Listener, onConnection: (transport: Transport) => void, what: string) {
    this.#loop = new ConnAcceptLoop(listener, (conn) => onConnection(new TcpTransport(conn)), {
      what,
    });
  }

  /** Accepts that failed (descriptors exhausted, mostly). */
  get failures(): number {
    return this.#loop.failures;
  }

  /** True while accepting is failing; `/healthz` reports it. */
  get failing(): boolean {
    return this.#loop.failing;
  }

  /** Stops accepting; resolves once the loop has ended. */
  close(): Promise<void> {
    return this.#loop.close();
  }
}
