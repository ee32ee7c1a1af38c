/**
 * A forging event server for the trust tests: it says HELLO as it is told
 * (asking for no passphrase, or asking for one and then proving a wrong one
 * in READY) and, to any client that accepts it, answers every request with
 * OK, so that a client that failed to refuse it would carry on as if
 * connected to the real thing.
 */

import { FrameType, PROTOCOL_VERSION } from "../lib/protocol/constants.ts";
import { encodeHello } from "../lib/protocol/frames/hello.ts";
import { encodeReady } from "../lib/protocol/frames/ready.ts";
import { encodeOk, requestIdOf } from "../lib/protocol/frames/request.ts";
import { FrameParser } from "../lib/protocol/parser.ts";
import { writeAll } from "./_raw_peer.ts";

/** How the fake lies. */
export interface ForgeryOptions {
  /** The HELLO flag: false claims that no passphrase is needed. */
  authRequired: boolean;
  /** What READY carries as the server's proof. */
  readyProof: Uint8Array;
}

/** A fake server on 127.0.0.1, port 0. */
export class ForgingServer implements AsyncDisposable {
  readonly uri: string;
  /** CONNECT frames received (a client that refuses at HELLO sends none). */
  connects = 0;
  /** Frames received after CONNECT (a client that accepted the fake goes on talking). */
  requests = 0;
  readonly #listener: Deno.TcpListener;
  readonly #conns = new Set<Deno.Conn>();
  readonly #served: Promise<void>[] = [];
  readonly #accepting: Promise<void>;

  constructor(readonly options: ForgeryOptions) {
    this.#listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    this.uri = `es://127.0.0.1:${this.#listener.addr.port}`;
    this.#accepting = this.#accept();
  }

  async #accept(): Promise<void> {
    try {
      for await (const conn of this.#listener) {
        this.#conns.add(conn);
        this.#served.push(this.#serve(conn).finally(() => this.#conns.delete(conn)));
      }
    } catch {
      // Listener closed.
    }
  }

  async #serve(conn: Deno.Conn): Promise<void> {
    const parser = new FrameParser(1024 * 1024);
    const buffer = new Uint8Array(64 * 1024);
    try {
      await writeAll(
        conn,
        encodeHello({
          version: PROTOCOL_VERSION,
          authRequired: this.options.authRequired,
          serverNonce: crypto.getRandomValues(new Uint8Array(16)),
          heartbeatMs: 30_000,
          maxFrameBytes: 1024 * 1024,
          serverName: "es/forged",
        }),
      );
      while (true) {
        const n = await conn.read(buffer);
        if (n === null) return;
        for (const frame of parser.push(buffer.subarray(0, n))) {
          if (frame.type === FrameType.CONNECT) {
            this.connects++;
            await writeAll(conn, encodeReady(this.options.readyProof));
          } else if (frame.type !== FrameType.PUB && frame.type !== FrameType.PING) {
            this.requests++;
            await writeAll(conn, encodeOk(requestIdOf(frame.body)));
          } else {
            this.requests++;
          }
        }
      }
    } catch {
      // The client hung up.
    } finally {
      try {
        conn.close();
      } catch {
        // Already closed.
      }
    }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.#listener.close();
    for (const conn of this.#conns) {
      try {
        conn.close();
      } catch {
        // Already closed.
      }
    }
    await this.#accepting;
    await Promise.all(this.#served);
  }
}
