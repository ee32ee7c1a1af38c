// deno-lint-ignore-file no-console
/**
 * Serves the browser example page. Run an event server that lets the page's
 * origin open its WebSocket, then:
 *
 *   es serve --allow-origin http://127.0.0.1:8000
 *   deno run --allow-net --allow-read examples/browser/serve.ts [PORT]
 *
 * and open http://127.0.0.1:8000/?es=http://127.0.0.1:7767/ in two tabs.
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
  const server = serveExample(Number(Deno.args[0] ?? 8000));
  console.log(`Open http://127.0.0.1:${server.addr.port}/?es=http://127.0.0.1:7767/`);
  console.log(`(with es serve --allow-origin http://127.0.0.1:${server.addr.port})`);
}
