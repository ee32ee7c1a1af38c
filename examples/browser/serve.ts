// deno-lint-ignore-file no-console
/**
 * Serves the browser example page. Run an event server that lets the page's
 * origin open its WebSocket, then serve the page:
 *
 *   deno task es -- serve --allow-origin http://127.0.0.1:8000
 *   deno run --allow-net --allow-read examples/browser/serve.ts [PORT] [ES_HTTP_URL]
 *
 * PORT is the page's (default 8000), ES_HTTP_URL the es server's HTTP side
 * (default http://127.0.0.1:7767/, what `es serve` prints after `HTTP=`).
 * Then open the address it prints (http://127.0.0.1:8000/?es=http://127.0.0.1:7767/)
 * in two tabs.
 */

const PAGE = new URL("./index.html", import.meta.url);

/** Serves index.html on `port` (0 takes any free port) until the server is shut down. */
export function serveExample(port = 8000, hostname = "127.0.0.1"): Deno.HttpServer<Deno.NetAddr> {
  return Deno.serve({ port, hostname, onListen: () => {} }, async (request) => {
    const path = new URL(request.url).pathname;
    if (path !== "/" && path !== "/index.html") return new Response("Not found\n", { status: 404 });
    return new Response(await Deno.readTextFile(PAGE), {
      headers: { "content-type": "text/html; charset=utf-8" },
    });
  });
}

if (import.meta.main) {
  const port = Number(Deno.args[0] ?? 8000);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new RangeError(`Invalid PORT ${JSON.stringify(Deno.args[0])}: expected 0 to 65535`);
  }
  const esHttp = new URL(Deno.args[1] ?? "http://127.0.0.1:7767/").href;
  const server = serveExample(port);
  const origin = `http://127.0.0.1:${server.addr.port}`;
  console.log(`Open ${origin}/?es=${esHttp}`);
  console.log(`(with es serve --allow-origin ${origin}, its HTTP side at ${esHttp})`);
}
