/** The es wire protocol v1: constants, frame encoders and decoders, the parser, codecs and auth. */

export * from "./constants.ts";
export * from "./frames.ts";
export { FrameParser } from "./parser.ts";
export type { ParserState, RawFrame } from "./parser.ts";
export { FrameError } from "./errors.ts";
export { decodeMessage, encodeJson, encodeMessage } from "./codec.ts";
export {
  clientProof,
  makeNonce,
  serverProof,
  verifyClientProof,
  verifyServerProof,
} from "./auth.ts";
export { checkSubject, compilePattern, subjectKey, toList, utf8Length } from "./subjects.ts";
export type { CompiledPattern } from "./subjects.ts";
export { closeQuietly, writeAll } from "./transport.ts";
export type { Transport } from "./transport.ts";
