/**
 * Which browser pages may open `/ws`. A browser says where a page comes from
 * in `Origin`, and lets any page open a WebSocket anywhere: without this
 * check a page from any site could subscribe to everything and publish. A
 * request without `Origin` is not from a browser page and is not concerned.
 */

/** `host` (of a URL) is an IP address, which, unlike a name, cannot be re-pointed by DNS. */
function isAddress(host: string): boolean {
  return /^\d{1,3}(\.\d{1,3}){3}$/.test(host) || host.startsWith("[");
}

/**
 * Whether `origin` is the server's own HTTP origin as this request reached
 * it: the page came from the host and port the WebSocket goes to (the `Host`
 * header), named by an address or `localhost`. A DNS name is not trusted by
 * default, since a name can be pointed here after its page was loaded from
 * elsewhere (DNS rebinding); allow such names explicitly.
 */
function isOwnOrigin(origin: string, hostHeader: string | null): boolean {
  if (hostHeader === null) return false;
  let page: URL;
  let target: URL;
  try {
    page = new URL(origin);
    target = new URL(`${page.protocol}//${hostHeader}`);
  } catch {
    return false; // "null" (a sandboxed page, a file) and anything malformed
  }
  if (page.protocol !== "http:" && page.protocol !== "https:") return false;
  if (page.host !== target.host) return false;
  return page.hostname === "localhost" || isAddress(page.hostname);
}

/**
 * Whether the page that made `request` may open `/ws`.
 *
 * @param allowed Extra origins, normalized as `URL.origin`; `"*"` allows every page.
 * @example
 * ```ts
 * const request = new Request("http://127.0.0.1:7767/ws", {
 *   headers: { origin: "http://evil.example", host: "127.0.0.1:7767" },
 * });
 * originAllowed(request, undefined); // false
 * ```
 */
export function originAllowed(request: Request, allowed: readonly string[] | undefined): boolean {
  const origin = request.headers.get("origin");
  if (origin === null) return true;
  if (allowed?.includes("*") || allowed?.includes(origin)) return true;
  return isOwnOrigin(origin, request.headers.get("host"));
}
