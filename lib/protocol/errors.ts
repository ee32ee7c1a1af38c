/** The error the protocol layer throws for bytes that break the framing rules. */

import type { ErrorCode } from "./constants.ts";

/** Bytes on the wire that do not form a valid frame. */
export class FrameError extends Error {
  /** The protocol error code to report to the peer. */
  readonly code: ErrorCode;
  /**
   * @param code The protocol error code to report to the peer.
   * @param message What was wrong, with the parser state.
   */
  constructor(code: ErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "FrameError";
    this.code = code;
  }
}
