/**
 * Headless Chromium for browser tests (Debian's /usr/bin/chromium, driven by
 * playwright-core), as tests/browser_test.ts starts it; tests are ignored
 * when Chromium is not installed (`.ci/install-deps` installs it).
 */

import fs from "node:fs";
import type { Browser } from "npm:playwright-core@1.65.1";

const CHROMIUM = "/usr/bin/chromium";

/** Whether Chromium is there. */
export const HAS_CHROMIUM: boolean = (() => {
  try {
    return Deno.statSync(CHROMIUM).isFile;
  } catch {
    return false;
  }
})();

/** Appended to test names when they are ignored. */
export const SKIPPED: string = HAS_CHROMIUM
  ? ""
  : ` (ignored: ${CHROMIUM} not found; run .ci/install-deps)`;

/** Options of a browser test: ignored without Chromium; the browser's own ops are not ours. */
export const BROWSER_TEST = { ignore: !HAS_CHROMIUM, sanitizeOps: false, sanitizeResources: false };

/**
 * Loads playwright-core. At load time it probes /proc/sys/fs/binfmt_misc/WSLInterop, a
 * path Deno opens only under --allow-all; that probe (and only it) answers "absent" here.
 */
async function loadPlaywright(): Promise<typeof import("npm:playwright-core@1.65.1")> {
  const existsSync = fs.existsSync;
  fs.existsSync = (path) => String(path).startsWith("/proc/sys/") ? false : existsSync(path);
  try {
    return await import("npm:playwright-core@1.65.1");
  } finally {
    fs.existsSync = existsSync;
  }
}

/** Starts headless Chromium. */
export async function launchChromium(): Promise<Browser> {
  const { chromium } = await loadPlaywright();
  return await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
    ],
    timeout: 30_000,
  });
}
