/**
 * Every error class of es, in one place. Each sets `name`, takes
 * `ErrorOptions` for its cause, and, where the protocol gave one, carries the
 * protocol's error code (see `ErrorCode` in lib/protocol/constants.ts).
 *
 * @module
 */

/**
 * The base of every es-specific error.
 *
 * @example
 * ```ts
 * try {
 *   await publisher.flush();
 * } catch (error) {
 *   if (error instanceof EsError) console.error("es says:", error.message);
 * }
 * ```
 */
export class EsError extends Error {
  /**
   * Makes the error.
   *
   * @param message What failed and why.
   * @param options The cause, if any.
   */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "EsError";
  }
}

/**
 * A name could not be resolved, or no name server was found.
 *
 * @example
 * ```ts
 * try {
 *   await connect({ nsURI: "ns://127.0.0.1:9090" });
 * } catch (error) {
 *   if (error instanceof NamingError) console.error("start `es serve` first:", error.message);
 * }
 * ```
 */
export class NamingError extends EsError {
  /**
   * Makes the error.
   *
   * @param message What failed and why.
   * @param options The cause, if any.
   */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "NamingError";
  }
}

/**
 * The connection could not be made, or it ended.
 *
 * @example
 * ```ts
 * try {
 *   await subscriber.listen();
 * } catch (error) {
 *   if (error instanceof ConnectionClosedError && error.code === 8) console.log("server shut down");
 * }
 * ```
 */
export class ConnectionClosedError extends EsError {
  /** The code of the server's BYE (e.g. 8 SHUTDOWN, 9 SLOW_CONSUMER), when it sent one. */
  readonly code: number | undefined;
  /**
   * Makes the error.
   *
   * @param message What failed and why.
   * @param options The cause, if any, and the protocol's error code.
   */
  constructor(message: string, options?: ErrorOptions & { code?: number }) {
    super(message, options);
    this.name = "ConnectionClosedError";
    this.code = options?.code;
  }
}

/**
 * The server refused our passphrase, or the server could not prove it knows it.
 *
 * @example
 * ```ts
 * try {
 *   await connect({ esURI: "es://127.0.0.1:7766", ident: "wrong" });
 * } catch (error) {
 *   if (error instanceof AuthenticationError) console.error("check ES_IDENT");
 * }
 * ```
 */
export class AuthenticationError extends EsError {
  /**
   * Makes the error.
   *
   * @param message What failed and why.
   * @param options The cause, if any.
   */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "AuthenticationError";
  }
}

/**
 * The server refused a request, or the peer broke the protocol.
 *
 * @example
 * ```ts
 * try {
 *   await client.subscribeMatch("(?<=x)y"); // lookbehind: RE2 cannot run it
 * } catch (error) {
 *   if (error instanceof ProtocolError) console.error(error.message, error.code);
 * }
 * ```
 */
export class ProtocolError extends EsError {
  /** The protocol's error code, when the server sent one. */
  readonly code: number | undefined;
  /**
   * Makes the error.
   *
   * @param message What failed and why.
   * @param options The cause, if any, and the protocol's error code.
   */
  constructor(message: string, options?: ErrorOptions & { code?: number }) {
    super(message, options);
    this.name = "ProtocolError";
    this.code = options?.code;
  }
}

/**
 * Bytes on the wire that do not form a valid frame. The server answers it
 * with ERR (or BYE when the stream cannot go on); clients turn it into a
 * `ProtocolError`.
 */
export class FrameError extends Error {
  /** The protocol error code to report to the peer. */
  readonly code: number;
  /**
   * @param code The protocol error code to report to the peer.
   * @param message What was wrong, with the parser state.
   */
  constructor(code: number, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "FrameError";
    this.code = code;
  }
}

/** A well-formed request the server refuses (a bad subject, a limit); becomes an ERR frame. */
export class RequestError extends Error {
  /** The protocol error code of the ERR reply. */
  readonly code: number;
  /**
   * @param code The protocol error code of the ERR reply.
   * @param message Why, quoting the refused value.
   */
  constructor(code: number, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "RequestError";
    this.code = code;
  }
}
