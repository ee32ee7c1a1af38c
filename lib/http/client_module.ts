/** `GET /client.js` and `GET /client.d.ts`: the bundled client, carried in the program itself. */

import { CLIENT_DTS, CLIENT_JS } from "./_generated/client_bundle.ts";

/** Headers that let any page (and Deno) load the module, and revalidate it after upgrades. */
const COMMON_HEADERS = {
  "access-control-allow-origin": "*",
  "cache-control": "no-cache",
};

/** The client as one ES module; Deno finds its types through `X-TypeScript-Types`. */
export function clientModule(): Response {
  return new Response(CLIENT_JS, {
    headers: {
      ...COMMON_HEADERS,
      "content-type": "text/javascript; charset=utf-8",
      "x-typescript-types": "/client.d.ts",
    },
  });
}

/** The client's declarations. */
export function clientDeclarations(): Response {
  return new Response(CLIENT_DTS, {
    headers: { ...COMMON_HEADERS, "content-type": "application/typescript; charset=utf-8" },
  });
}
