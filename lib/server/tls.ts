/**
 * TLS for the servers: listening with a certificate when one is configured,
 * and the URI scheme that tells clients to use TLS (`es+tls://`, `ns+tls://`).
 */

/** A listener of either kind; the servers treat both as byte streams. */
export type ServerListener = Deno.TcpListener | Deno.TlsListener;

/** Certificate and key, PEM text. */
export interface TlsMaterial {
  cert: string;
  key: string;
}

/**
 * Listens on `hostname:port`, with TLS when `tls` is given; `reusePort` lets
 * the dispatch workers listen on the same port.
 *
 * @throws {Deno.errors.AddrInUse} when the port is taken; `Error` for an unusable certificate.
 */
export function listenMaybeTls(
  hostname: string,
  port: number,
  tls: TlsMaterial | undefined,
  reusePort = false,
): ServerListener {
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

/** The URI scheme for a server: `es` or `ns`, with `+tls` when TLS is on. */
export function uriScheme(base: "es" | "ns", tls: TlsMaterial | undefined): string {
  return tls === undefined ? base : `${base}+tls`;
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
