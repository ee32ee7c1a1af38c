/**
 * Where a client in a browser connects when given no `esURI` and no `nsURI`:
 * the `/ws` endpoint of the es HTTP server that served the client module
 * (`http://HOST:PORT/client.js` → `ws://HOST:PORT`), else of the page's origin.
 */

/** True where the runtime has no TCP (`Deno.connect`), i.e. in browsers and workers there. */
function isBrowserLike(): boolean {
  // deno-lint-ignore no-explicit-any
  return (globalThis as any).Deno?.connect === undefined;
}

/** Turns an `http(s)://` URL into the `ws(s)://host:port` of its origin, or `undefined`. */
export function webSocketOrigin(url: string | undefined): string | undefined {
  if (url === undefined) return undefined;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return undefined;
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") return undefined;
  const secure = parsed.protocol === "https:";
  const port = parsed.port || (secure ? "443" : "80");
  return `${secure ? "wss" : "ws"}://${parsed.hostname}:${port}`;
}

/**
 * The default event server of a browser client, or `undefined` outside browsers.
 *
 * @param moduleURL `import.meta.url` of the client module.
 */
export function browserEventServer(moduleURL: string): string | undefined {
  if (!isBrowserLike()) return undefined;
  // deno-lint-ignore no-explicit-any
  const page = (globalThis as any).location?.href as string | undefined;
  return webSocketOrigin(moduleURL) ?? webSocketOrigin(page);
}
