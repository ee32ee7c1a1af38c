// deno-lint-ignore-file no-console
/**
 * Name server throughput: resolves per second (sequential and pipelined) and
 * the cost of an authenticated connect.
 *
 * Run: deno run --unstable-net --allow-net --allow-env bench/names_bench.ts
 */

import { locateNameServer, startNameServer } from "../lib/names/mod.ts";

const NAMES = 1000;
const RESOLVES = 20_000;
const CONNECTS = 200;

await using ns = await startNameServer({ port: 0, ident: "bench" });
await using proxy = await locateNameServer({ nsURI: ns.uri, ident: "bench" });
for (let i = 0; i < NAMES; i++) await proxy.register(`svc.${i}`, `es://127.0.0.1:${i + 1}`);

let start = performance.now();
for (let i = 0; i < RESOLVES; i++) await proxy.resolve(`svc.${i % NAMES}`);
let ms = performance.now() - start;
console.log(
  `sequential resolve: ${Math.round(RESOLVES / ms * 1000)}/s (${
    Math.round(ms / RESOLVES * 1000)
  } µs round trip)`,
);

start = performance.now();
await Promise.all(Array.from({ length: RESOLVES }, (_, i) => proxy.resolve(`svc.${i % NAMES}`)));
ms = performance.now() - start;
console.log(`pipelined resolve: ${Math.round(RESOLVES / ms * 1000)}/s`);

start = performance.now();
for (let i = 0; i < CONNECTS; i++) {
  await (await locateNameServer({ nsURI: ns.uri, ident: "bench" })).close();
}
ms = performance.now() - start;
console.log(`connect + authenticated handshake + close: ${(ms / CONNECTS).toFixed(2)} ms`);
