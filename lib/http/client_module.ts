/**
 * `GET /client.js` and `GET /client.d.ts`: the bundled client, carried in the
 * program itself, sent gzip-compressed to peers that accept it.
 */

/** The bundle (200 KB of source), loaded on the first request for it: an idle server is smaller. */
function bundle(): Promise<{ CLIENT_JS: string; CLIENT_DTS: string }> {
  return import("./_generated/client_bundle.ts");
}

/** Headers that let any page (and Deno) load the module, and revalidate it after upgrades. */
const COMMON_HEADERS = {
  "access-control-allow-origin": "*",
  "cache-control": "no-cache",
  vary: "accept-encoding",
};

const gzipCache = new Map<string, Promise<Uint8Array<ArrayBuffer>>>();

/** The gzip form of `text`, computed once. */
function gzipped(text: string): Promise<Uint8Array<ArrayBuffer>> {
  let bytes = gzipCache.get(text);
  if (bytes === undefined) {
    const stream = new Blob([text]).stream().pipeThrough(new CompressionStream("gzip"));
    bytes = new Response(stream).bytes();
    gzipCache.set(text, bytes);
  }
  return bytes;
}

/** Answers with `text`, compressed when the request accepts gzip. */
async function send(
  request: Request,
  text: string,
  headers: Record<string, string>,
): Promise<Response> {
  const accepts = /\bgzip\b/i.test(request.headers.get("accept-encoding") ?? "");
  if (!accepts) return new Response(text, { headers: { ...COMMON_HEADERS, ...headers } });
  return new Response(await gzipped(text), {
    headers: { ...COMMON_HEADERS, ...headers, "content-encoding": "gzip" },
  });
}

/** The client as one ES module; Deno finds its types through `X-TypeScript-Types`. */
export async function clientModule(request: Request): Promise<Response> {
  return send(request, (await bundle()).CLIENT_JS, {
    "content-type": "text/javascript; charset=utf-8",
    "x-typescript-types": "/client.d.ts",
  });
}

/** The client's declarations. */
export async function clientDeclarations(request: Request): Promise<Response> {
  return send(request, (await bundle()).CLIENT_DTS, {
    "content-type": "application/typescript; charset=utf-8",
  });
}
