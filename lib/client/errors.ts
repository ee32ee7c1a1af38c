/** The client's error classes: every failure es reports is an `EsError`. */

/** The base of every es-specific error. */
export class EsError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "EsError";
  }
}

/** A name could not be resolved, or no name server was found. */
export class NamingError extends EsError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "NamingError";
  }
}

/** The connection could not be made, or it ended. */
export class ConnectionClosedError extends EsError {
  /** The code of the server's BYE (e.g. 8 SHUTDOWN, 9 SLOW_CONSUMER), when it sent one. */
  readonly code: number | undefined;
  constructor(message: string, options?: ErrorOptions & { code?: number }) {
    super(message, options);
    this.name = "ConnectionClosedError";
    this.code = options?.code;
  }
}

/** The server refused our passphrase (or we refused the server's proof). */
export class AuthenticationError extends EsError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "AuthenticationError";
  }
}

/** The server refused a request, or the peer broke the protocol. */
export class ProtocolError extends EsError {
  /** The protocol's error code, when the server sent one. */
  readonly code: number | undefined;
  constructor(message: string, options?: ErrorOptions & { code?: number }) {
    super(message, options);
    this.name = "ProtocolError";
    this.code = options?.code;
  }
}
