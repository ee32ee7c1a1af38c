/** Wire constants of es protocol v2: frame types, error codes, codec tags and default limits. */

/** The protocol version this code speaks; sent in HELLO and CONNECT. */
export const PROTOCOL_VERSION = 2;

/** Bytes of the length prefix that begins every frame (u32, big-endian). */
export const LENGTH_PREFIX_BYTES = 4;

/** Frame type codes: the first byte after the length prefix. */
export const FrameType = {
  /** Server → client, first frame: version, auth flag, server nonce, limits. */
  HELLO: 0x01,
  /** Client → server answer to HELLO: version, nonce, proof, flow-control window, queue choice. */
  CONNECT: 0x02,
  /** Server → client: handshake accepted, with the server's own proof. */
  READY: 0x03,
  /** Client → server: one message on one or more subjects. */
  PUB: 0x10,
  /** Client → server: subscribe to exact subjects, with subscription ids (request). */
  SUB: 0x11,
  /** Client → server: subscribe to regular-expression patterns, with subscription ids (request). */
  SUBMATCH: 0x12,
  /** Client → server: remove subscriptions by id (request). */
  UNSUB: 0x13,
  /** Client → server: reply once everything sent before it is processed (request). */
  FLUSH: 0x14,
  /** Client → server: ask for the server's counters (request). */
  STATS: 0x15,
  /** Client → server: the client took events off its buffer; the server may send that many more. */
  CREDIT: 0x16,
  /** Client → server: which subscriptions would an event on this subject reach, and why (request). */
  EXPLAIN: 0x17,
  /** Client → name server: register a name for a URI (request). */
  NS_REGISTER: 0x40,
  /** Client → name server: resolve a name (request; reply body is the URI). */
  NS_RESOLVE: 0x41,
  /** Client → name server: remove a name (request). */
  NS_UNREGISTER: 0x42,
  /** Client → name server: list names by prefix (request; reply body is JSON). */
  NS_LIST: 0x43,
  /** Server → client: one event, with the ids of the subscriptions it is for. */
  EVENT: 0x20,
  /** Server → client: a request succeeded; may carry a body. */
  OK: 0x21,
  /** Server → client: a request (or the connection) failed. */
  ERR: 0x22,
  /** Server → client: this many events for you were dropped since the last one you got. */
  MISSED: 0x23,
  /** Either way: are you there? */
  PING: 0x30,
  /** Either way: answer to PING. */
  PONG: 0x31,
  /** Server → client: the server is closing this connection, and why. */
  BYE: 0x32,
} as const;
/** One of the frame type codes. */
export type FrameType = typeof FrameType[keyof typeof FrameType];

/** Error codes carried by ERR and BYE frames. */
export const ErrorCode = {
  /** Malformed frame or a frame not allowed in this state. */
  PROTOCOL: 1,
  /** Missing or wrong passphrase. */
  AUTH: 2,
  /** Unsupported protocol version. */
  VERSION: 3,
  /** A pattern that is not a valid regular expression es can run. */
  BAD_PATTERN: 4,
  /** A subject that is empty, too long, or reserved. */
  BAD_SUBJECT: 5,
  /** A frame over the size limit. */
  FRAME_TOO_LARGE: 6,
  /** A configured limit was reached (connections, subscriptions, buffered bytes). */
  LIMIT: 7,
  /** The server is shutting down. */
  SHUTDOWN: 8,
  /** A subscriber that stayed full for too long. */
  SLOW_CONSUMER: 9,
  /** Name server: unknown name, or a name held by another live connection. */
  NAMING: 10,
  /** The peer stopped answering heartbeats. */
  TIMEOUT: 11,
  /** Any other failure on the server. */
  INTERNAL: 12,
} as const;
/** One of the error codes. */
export type ErrorCode = typeof ErrorCode[keyof typeof ErrorCode];

/** Codec tags: how a payload's bytes are to be decoded by subscribers. */
export const CodecTag = {
  /** The payload is the message: a `Uint8Array` as it is. */
  RAW: 0,
  /** MessagePack (the default). */
  MSGPACK: 1,
  /** UTF-8 JSON text. */
  JSON: 2,
} as const;
/** One of the codec tags. */
export type CodecTag = typeof CodecTag[keyof typeof CodecTag];

/**
 * What a subscriber's queue on the server does when it is full (sent in
 * CONNECT; 0 asks for the server's default).
 */
export const OverflowCode = {
  /** The server's default (`--block-queue` / `--no-block-queue`). */
  DEFAULT: 0,
  /** Publishers wait; nothing is lost. */
  BLOCK: 1,
  /** The newest event is dropped. */
  DROP_NEW: 2,
  /** The oldest queued event makes room. */
  DROP_OLD: 3,
  /** One queued event per subject, the newest (conflation). */
  LATEST: 4,
} as const;
/** One of the overflow codes. */
export type OverflowCode = typeof OverflowCode[keyof typeof OverflowCode];

/** A flow-control window or credit that means "no limit". */
export const UNLIMITED = 0xffff_ffff;

/** Largest frame, type byte and body, in bytes. */
export const DEFAULT_MAX_FRAME_BYTES = 1024 * 1024;
/** Largest frame before the handshake is done: a CONNECT is small, and strangers get little. */
export const HANDSHAKE_MAX_FRAME_BYTES = 4096;
/** Longest subject, in UTF-8 bytes. */
export const DEFAULT_MAX_SUBJECT_BYTES = 1024;
/** Longest pattern, in UTF-8 bytes. */
export const DEFAULT_MAX_PATTERN_BYTES = 1024;
/** Most subjects in one PUB, SUB, SUBMATCH frame (and ids in one UNSUB or EVENT). */
export const MAX_ITEMS_PER_FRAME = 65535;
/** Bytes of a handshake nonce. */
export const NONCE_BYTES = 16;
/** Bytes an EVENT frame adds to its publish's payload, besides subject and subscription ids. */
export const EVENT_OVERHEAD_BYTES = LENGTH_PREFIX_BYTES + 1 + 2 + 8 + 1 + 2;
/** Subjects beginning with this are the server's own (`$es.interest`); clients cannot publish there. */
export const RESERVED_PREFIX = "$es.";
