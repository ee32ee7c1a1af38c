/**
 * The byte-stream interface that clients and servers speak the protocol
 * over: a TCP connection satisfies it as it is; WebSocket and in-memory
 * transports adapt to it.
 */

/** A bidirectional byte stream. */
export interface Transport {
  /** Reads into `buffer`; resolves to the number of bytes read, or `null` at the end. */
  read(buffer: Uint8Array): Promise<number | null>;
  /** Writes some of `bytes`; resolves to how many were written. */
  write(bytes: Uint8Array): Promise<number>;
  /** Closes both directions. May throw if already closed; callers ignore that. */
  close(): void;
}

/** Writes every byte of `bytes`, however many calls that takes. */
export async function writeAll(transport: Transport, bytes: Uint8Array): Promise<void> {
  let written = await transport.write(bytes);
  while (written < bytes.length) {
    written += await transport.write(bytes.subarray(written));
  }
}

/** Closes a transport, ignoring "already closed". */
export function closeQuietly(transport: Transport): void {
  try {
    transport.close();
  } catch {
    // Already closed: nothing to do.
  }
}
