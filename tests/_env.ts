/**
 * Keeps the tests independent of the shell that runs them. The `ES_*`
 * variables a user may have exported (`ES_NS`, `ES_IDENT`, `ES_URL`, …) would
 * otherwise reach the client library in this process and every `es` the tests
 * spawn. Importing this module removes them from this process (tests run with
 * `--allow-env`); child processes get {@linkcode childEnv}. Tests that need a
 * variable pass it explicitly.
 */

/** The variables the `es` programs and the client library read all start with this. */
const PREFIX = "ES_";

/** `ES_*` variables that steer the tests themselves, not es: kept in this process. */
export const TEST_SETTINGS: ReadonlySet<string> = new Set(["ES_DASHBOARD_SCREENSHOT"]);

// At import, before any test runs (the client library reads the environment when it connects).
if (Deno.permissions.querySync({ name: "env" }).state === "granted") {
  for (const name of Object.keys(Deno.env.toObject())) {
    if (name.startsWith(PREFIX) && !TEST_SETTINGS.has(name)) Deno.env.delete(name);
  }
}

/**
 * The environment for a child process (spawn it with `clearEnv: true`): this
 * process's own (PATH, HOME, DENO_DIR, proxies, …) without any `ES_*`
 * variable (the tests' own settings included), with `NO_COLOR=1`, and `extra`
 * on top.
 */
export function childEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(Deno.env.toObject())) {
    if (!name.startsWith(PREFIX)) env[name] = value;
  }
  return { ...env, NO_COLOR: "1", ...extra };
}
