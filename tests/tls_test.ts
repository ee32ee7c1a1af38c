import { assert, assertEquals, assertMatch, assertRejects } from "./_assert.ts";
import { EsProcess, runEs, spawnServe, startTestServer } from "./_helpers.ts";
import { connect, ConnectionClosedError, EsError, EVENTSERVER_NAME } from "../lib/client/mod.ts";
import { locateNameServer } from "../lib/names/mod.ts";

/** Runs openssl, throwing its stderr on failure. */
async function openssl(args: string[]): Promise<void> {
  const { code, stderr } = await new Deno.Command("openssl", {
    args,
    stdout: "null",
    stderr: "piped",
  })
    .output();
  if (code !== 0) throw new Error(`openssl ${args[0]} failed: ${new TextDecoder().decode(stderr)}`);
}

/**
 * Makes a test CA and a certificate it signs for 127.0.0.1 and localhost, in a
 * temp dir (rustls refuses a self-signed CA certificate used as the server's own).
 */
async function makeCertificate(): Promise<
  { dir: string; certPath: string; keyPath: string; caPath: string }
> {
  const dir = await Deno.makeTempDir({ prefix: "es-tls-" });
  const caPath = `${dir}/ca.pem`;
  const certPath = `${dir}/cert.pem`;
  const keyPath = `${dir}/key.pem`;
  await openssl([
    "req",
    "-x509",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-keyout",
    `${dir}/ca.key`,
    "-out",
    caPath,
    "-days",
    "1",
    "-subj",
    "/CN=es test CA",
  ]);
  await openssl([
    "req",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-keyout",
    keyPath,
    "-out",
    `${dir}/leaf.csr`,
    "-subj",
    "/CN=localhost",
  ]);
  await Deno.writeTextFile(
    `${dir}/leaf.ext`,
    "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n",
  );
  await openssl([
    "x509",
    "-req",
    "-in",
    `${dir}/leaf.csr`,
    "-CA",
    caPath,
    "-CAkey",
    `${dir}/ca.key`,
    "-CAcreateserial",
    "-out",
    certPath,
    "-days",
    "1",
    "-extfile",
    `${dir}/leaf.ext`,
  ]);
  return { dir, certPath, keyPath, caPath };
}

/** The tests make their certificates with openssl; without it they are ignored, saying so. */
const haveOpenssl = await (async () => {
  try {
    return (await new Deno.Command("openssl", { args: ["version"], stdout: "null" }).output())
      .success;
  } catch {
    return false; // Not installed.
  }
})();
if (!haveOpenssl) {
  // deno-lint-ignore no-console
  console.warn("tls_test: ignored — openssl is not installed (apt-get install openssl)");
}
const material = haveOpenssl
  ? await makeCertificate()
  : { dir: "", certPath: "", keyPath: "", caPath: "" };
const read = (path: string | undefined) => path ? Deno.readTextFile(path) : Promise.resolve("");
const cert = await read(material.certPath);
const key = await read(material.keyPath);
const ca = await read(material.caPath);

/** `Deno.test`, ignored without openssl. */
function tlsTest(
  nameOrDefinition: string | { name: string; fn: () => Promise<void> },
  fn?: () => Promise<void>,
): void {
  const definition = typeof nameOrDefinition === "string"
    ? { name: nameOrDefinition, fn: fn! }
    : nameOrDefinition;
  Deno.test({ ...definition, ignore: !haveOpenssl });
}

tlsTest({
  name: "TLS: es+tls:// with caCerts carries events; the server's URI says es+tls",
  async fn() {
    await using server = await startTestServer({ tlsCert: cert, tlsKey: key });
    assertMatch(server.uri, /^es\+tls:\/\/127\.0\.0\.1:\d+$/);
    await using client = await connect({ esURI: server.uri, caCerts: [ca] });
    const sub = await client.subscribeMatch("^secret\\.");
    await client.publish("secret.plans", { x: 1 });
    for await (const event of sub) {
      assertEquals(event.msg, { x: 1 });
      break;
    }
  },
});

tlsTest(
  "TLS: a client that does not trust the certificate is refused with a clear error",
  async () => {
    await using server = await startTestServer({ tlsCert: cert, tlsKey: key });
    await assertRejects(
      () => connect({ esURI: server.uri, reconnect: false, connectTimeoutMs: 5000 }),
      (e: unknown) => {
        assert(e instanceof EsError, String(e));
        assertMatch(e.message, /certificate|UnknownIssuer|invalid peer/i);
        return true;
      },
    );
    // The server still serves trusting clients.
    await using client = await connect({ esURI: server.uri, caCerts: [ca] });
    await client.flush();
  },
);

tlsTest("TLS: a plain es:// client on a TLS port fails instead of hanging", async () => {
  await using server = await startTestServer({ tlsCert: cert, tlsKey: key });
  const plain = server.uri.replace("es+tls://", "es://");
  await assertRejects(
    () => connect({ esURI: plain, reconnect: false, connectTimeoutMs: 3000 }),
    ConnectionClosedError,
  );
});

tlsTest(
  "es serve --tls-cert/--tls-key serves es+tls://; es publish --ca-cert reaches it",
  async () => {
    await using server = await spawnServe([
      "-N",
      "--no-http",
      "--tls-cert",
      material.certPath,
      "--tls-key",
      material.keyPath,
    ]);
    assertMatch(server.uri, /^es\+tls:\/\//);
    await using client = await connect({ esURI: server.uri, caCerts: [ca] });
    const sub = await client.subscribe("tls.cli");
    const r = await runEs([
      "publish",
      "--es",
      server.uri,
      "--ca-cert",
      material.caPath,
      "tls.cli",
      "42",
    ]);
    assertEquals(r.code, 0, r.stderr);
    for await (const event of sub) {
      assertEquals(event.msg, 42);
      break;
    }
    const bad = await runEs([
      "serve",
      "-N",
      "--no-http",
      "-p",
      "0",
      "--tls-cert",
      material.certPath,
    ]);
    assertEquals(bad.code, 2);
    assertMatch(bad.stderr, /--tls-cert and --tls-key must be given together/);
  },
);

tlsTest("es stats --ca-cert reaches an es+tls:// server", async () => {
  await using server = await startTestServer({ tlsCert: cert, tlsKey: key });
  const r = await runEs(["stats", "--json", "--es", server.uri, "--ca-cert", material.caPath]);
  assertEquals(r.code, 0, r.stderr);
  assertEquals(JSON.parse(r.stdout).uri, server.uri);
});

/** Starts `es ns -p 0 ARGS`; returns it with the URI from its banner. */
async function spawnNs(args: string[]): Promise<EsProcess & { uri: string }> {
  const child = new EsProcess(["ns", "-p", "0", ...args]);
  try {
    await child.waitForLine((l) => l === "Name Server started.");
  } catch (error) {
    await child[Symbol.asyncDispose]();
    throw error;
  }
  return Object.assign(child, {
    uri: child.stdoutLines.find((l) => l.startsWith("URI="))!.slice(4).trim(),
  });
}

tlsTest(
  "es ns --tls-cert/--tls-key serves ns+tls://; es ns list --ca-cert reaches it",
  async () => {
    await using ns = await spawnNs([
      "--tls-cert",
      material.certPath,
      "--tls-key",
      material.keyPath,
    ]);
    assertMatch(ns.uri, /^ns\+tls:\/\/127\.0\.0\.1:\d+$/);
    await using proxy = await locateNameServer({ nsURI: ns.uri, caCerts: [ca] });
    await proxy.register("over.tls", "es://127.0.0.1:1");
    const listed = await runEs(["ns", "list", "--ns", ns.uri, "--ca-cert", material.caPath]);
    assertEquals(listed.code, 0, listed.stderr);
    assertMatch(listed.stdout, /over\.tls\s+es:\/\/127\.0\.0\.1:1/);
    const untrusted = await runEs(["ns", "resolve", "over.tls", "--ns", ns.uri]);
    assertEquals(untrusted.code, 1);
    assertMatch(untrusted.stderr, /No name server at ns\+tls:/);
  },
);

tlsTest("es serve with TLS embeds an ns+tls:// name server; clients find it by name", async () => {
  await using server = await spawnServe([
    "--ns-port",
    "0",
    "--no-http",
    "--tls-cert",
    material.certPath,
    "--tls-key",
    material.keyPath,
  ]);
  assertMatch(server.nsURI!, /^ns\+tls:\/\//);
  await using client = await connect({ nsURI: server.nsURI!, caCerts: [ca] });
  const sub = await client.subscribe("tls.by.name");
  const r = await runEs([
    "publish",
    "--ns",
    server.nsURI!,
    "--ca-cert",
    material.caPath,
    "tls.by.name",
    "7",
  ]);
  assertEquals(r.code, 0, r.stderr);
  for await (const event of sub) {
    assertEquals(event.msg, 7);
    break;
  }
});

tlsTest("es serve --ns ns+tls:// --ca-cert registers with a TLS name server", async () => {
  await using ns = await spawnNs(["--tls-cert", material.certPath, "--tls-key", material.keyPath]);
  const args = ["--no-http", "--ns", ns.uri, "--tls-cert", material.certPath];
  const untrusted = await runEs(["serve", "-p", "0", ...args, "--tls-key", material.keyPath]);
  assertEquals(untrusted.code, 1, "registering through an untrusted certificate");
  assertMatch(untrusted.stderr, /no es name server answers at ns\+tls:/);
  await using server = await spawnServe([
    ...args,
    "--tls-key",
    material.keyPath,
    "--ca-cert",
    material.caPath,
  ]);
  await using proxy = await locateNameServer({ nsURI: ns.uri, caCerts: [ca] });
  assertEquals(await proxy.resolve(EVENTSERVER_NAME), server.uri);
});

tlsTest("TLS test files are removed", async () => {
  await Deno.remove(material.dir, { recursive: true });
});
