/**
 * How es subjects and events travel on NATS: every es subject (any string,
 * case-insensitive) maps to one valid NATS subject, and every event carries
 * its origin and sequence so that a node never delivers one twice.
 */

/** The NATS subject prefix of one es cluster's events. */
export const EVENTS_PREFIX = "es.e.";
/** Where the nodes of a cluster announce themselves. */
export const NODES_SUBJECT = "es.nodes";
/** The NATS wildcard that takes every event (what a node with patterns needs). */
export const ALL_EVENTS = `${EVENTS_PREFIX}*`;

/** Bytes before the event body: 8 of origin id, 4 of sequence. */
export const ENVELOPE_BYTES = 12;

const encoder = new TextEncoder();

/**
 * The NATS subject for a subject key (`subjectKey()` of an es subject): the
 * key's UTF-8 bytes in base64url, one token, so dots, spaces and wildcards of
 * es subjects mean nothing to NATS.
 *
 * @example
 * ```ts
 * natsSubject("stockquote.sun"); // "es.e.c3RvY2txdW90ZS5zdW4"
 * ```
 */
export function natsSubject(key: string): string {
  const bytes = encoder.encode(key);
  let binary = "";
  for (let i = 0; i < bytes.length; i++) binary += String.fromCharCode(bytes[i]!);
  const base64 = btoa(binary).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
  return EVENTS_PREFIX + base64;
}

/** A random origin id for one node's life. */
export function newOrigin(): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(8));
}

/** `origin ‖ u32 seq ‖ body`, the payload published on NATS. */
export function wrap(origin: Uint8Array, seq: number, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(ENVELOPE_BYTES + body.length);
  out.set(origin, 0);
  new DataView(out.buffer).setUint32(8, seq >>> 0);
  out.set(body, ENVELOPE_BYTES);
  return out;
}

/** The parts of a payload from `wrap()`, or undefined when it is too short to be one. */
export function unwrap(
  data: Uint8Array,
): { origin: string; seq: number; body: Uint8Array } | undefined {
  if (data.length < ENVELOPE_BYTES) return undefined;
  let origin = "";
  for (let i = 0; i < 8; i++) origin += data[i]!.toString(16).padStart(2, "0");
  const seq = new DataView(data.buffer, data.byteOffset + 8, 4).getUint32(0);
  return { origin, seq, body: data.subarray(ENVELOPE_BYTES) };
}
