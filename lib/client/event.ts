/** The event a subscriber receives, and how it is made from the wire. Browser compatible. */

import { getLogger } from "@logtape/logtape";
import { decodeMessage } from "../protocol/codec.ts";
import type { EventFrame } from "../protocol/frames/event.ts";

const log = getLogger(["es", "client"]);

/** One event: the subject as the publisher spelled it, the message, and the server's time. */
export interface Event<T = unknown> {
  /** The subject, spelled as the publisher spelled it. */
  subject: string;
  /** The message, decoded: any JSON value, `Uint8Array`, `Date`, or an integer. */
  msg: T;
  /** Server clock, milliseconds since the epoch; equal for every subscriber. */
  time: number;
}

/**
 * Decodes a wire event, or logs a warning and returns `undefined` when its
 * payload does not decode: another publisher's bad bytes must not end this
 * subscriber's connection.
 */
export function toEventOrSkip(frame: EventFrame): Event | undefined {
  try {
    return {
      subject: frame.subject,
      msg: decodeMessage(frame.codec, frame.payload),
      time: frame.time,
    };
  } catch (error) {
    log.warn("Skipped an event on {subject} that does not decode: {error}", {
      subject: frame.subject,
      error: String(error),
    });
    return undefined;
  }
}
