/**
 * Listening for TCP and TLS under Deno (servers only), with `reusePort` for
 * the dispatch workers, and reading certificates from files.
 */

/** Certificate and key, PEM text. */
export interface TlsMaterial {
  cert: string;
  key: string;
}

/** A listener of either kind; servers treat both as sources of byte streams. */
export type Listener = Deno.TcpListener | Deno.TlsListener;

/**
 * Listens on `hostname:port`, with TLS when `tls` is given; `reusePort` lets
 * several threads listen on the same port.
 *
 * @throws {Deno.errors.AddrInUse} when the port is taken; `Error` for an unusable certificate.
 */
export function listenTcp(
  hostname: string,
  port: number,
  tls?: TlsMaterial,
  reusePort = false,
): Listener {
  if (tls === undefined) return Deno.listen({ hostname, port, reusePort });
  try {
    return Deno.listenTls({ hostname, port, reusePort, cert: tls.cert, key: tls.key });
  } catch (error) {
    if (error instanceof Deno.errors.AddrInUse) throw error;
    throw new Error(
      `Cannot listen with TLS on ${hostname}:${port}: ${
        (error as Error).message
      } (is the certificate/key pair valid PEM?)`,
      { cause: error },
    );
  }
}

/**
 * Reads a certificate and key from files (for the command line).
 *
 * @throws {Error} naming the file that could not be read.
 */
export function readTlsFiles(certPath: string, keyPath: string): TlsMaterial {
  const read = (path: string, what: string): string => {
    try {
      return Deno.readTextFileSync(path);
    } catch (error) {
      throw new Error(
        `Cannot read the TLS ${what} ${JSON.stringify(path)}: ${(error as Error).message}`,
      );
    }
  };
  return { cert: read(certPath, "certificate"), key: read(keyPath, "key") };
}
