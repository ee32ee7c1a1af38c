/**
 * One module per frame layout: every byte of every frame is written and read
 * here and nowhere else.
 *
 * @module
 */

export * from "./hello.ts";
export * from "./connect.ts";
export * from "./ready.ts";
export * from "./pub.ts";
export * from "./event.ts";
export * from "./subscribe.ts";
export * from "./unsubscribe.ts";
export * from "./request.ts";
export * from "./err.ts";
export * from "./bye.ts";
export * from "./control.ts";
export { fromUtf8, utf8 } from "./_body.ts";
