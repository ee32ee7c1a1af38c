/**
 * The es wire protocol v2, without I/O: constants, one module per frame
 * layout, the parser, message codecs, passphrase proofs and subject rules.
 *
 * @module
 */

export * from "./constants.ts";
export * from "./frames/mod.ts";
export { FrameParser } from "./parser.ts";
export type { ParserState, RawFrame } from "./parser.ts";
export { decodeMessage, encodeJson, encodeMessage } from "./codec.ts";
export {
  clientProof,
  makeNonce,
  serverProof,
  verifyClientProof,
  verifyServerProof,
} from "./auth.ts";
export {
  checkPatternSyntax,
  checkSubject,
  isReserved,
  subjectKey,
  toList,
  utf8Length,
} from "./subjects.ts";
export { type CachedSubject, SubjectCache } from "./subject_cache.ts";
