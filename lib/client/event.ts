/** The event a subscriber receives, and how it is made from the wire. */

import { decodeMessage } from "../protocol/codec.ts";
import type { WireEvent } from "../protocol/frames.ts";

/** One event: the subject as the publisher spelled it, the message, and the server's time. */
export interface Event<T = unknown> {
  subject: string;
  msg: T;
  /** Server clock, milliseconds since the epoch; equal for every subscriber. */
  time: number;
}

/**
 * Decodes a wire event.
 *
 * @throws {TypeError} when its payload does not decode.
 */
export function toEvent(wire: WireEvent): Event {
  return { subject: wire.subject, msg: decodeMessage(wire.codec, wire.payload), time: wire.time };
}
