/**
 * The byte-stream interface that clients and servers speak the protocol
 * over. TCP (and TLS), WebSocket and an in-memory pair implement it, so the
 * server session and the client can be tested without sockets.
 */

/** A bidirectional byte stream. */
export interface Transport {
  /** Reads into `buffer`; resolves to the number of bytes read, or `null` at the end. */
  read(buffer: Uint8Array): Promise<number | null>;
  /**
   * Writes some of `bytes`; resolves to how many were written. The bytes are
   * borrowed until the promise settles: do not change them before.
   */
  write(bytes: Uint8Array): Promise<number>;
  /** Closes both directions. Idempotent. */
  close(): void;
  /** Resolves once the transport is closed, by either side. */
  closed(): Promise<void>;
  /** Where the peer is (`host:port`, or a description), for logs and statistics. */
  readonly remote: string;
  /**
   * Told by a server once the peer has authenticated (READY sent): a
   * transport that must buffer what it receives (WebSocket cannot pause its
   * sender) may then hold more for it than for a stranger.
   */
  authenticated?(): void;
}

/** Writes every byte of `bytes`, however many calls that takes. */
export async function writeAll(transport: Transport, bytes: Uint8Array): Promise<void> {
  let written = await transport.write(bytes);
  while (written < bytes.length) {
    written += await transport.write(bytes.subarray(written));
  }
}
