/**
 * A real browser for the console's tests: Debian's `chromium` (apt), driven by playwright-core.
 * Found by CHROMIUM_PATH or on the usual paths; outside CI a missing browser skips the suite with
 * the reason, under CI it FAILS (`.ci/chromium.sh` installs it before `npm test`).
 */
import { existsSync } from "node:fs";
import type { TestContext } from "node:test";
import type { Browser } from "playwright-core";
import { chromium } from "playwright-core";

const CANDIDATES = ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/lib/chromium/chromium", "/usr/bin/google-chrome"];

export const NO_CHROMIUM = "no chromium found (CHROMIUM_PATH, /usr/bin/chromium): install it with `apt-get install -y chromium` (.ci/chromium.sh does)";

export function findChromium(): string | undefined {
  const given = process.env.CHROMIUM_PATH;
  if (given) return existsSync(given) ? given : undefined;
  return CANDIDATES.find((p) => existsSync(p));
}

/** The browser, or undefined (the test marked skipped) outside CI when there is none; under CI a missing browser throws. */
export async function launchChromium(t: TestContext): Promise<Browser | undefined> {
  const executablePath = findChromium();
  if (!executablePath) {
    if (process.env.CI) throw new Error(`${NO_CHROMIUM}; under CI the browser tests fail rather than skip`);
    t.skip(`${NO_CHROMIUM}; skipped outside CI`);
    return undefined;
  }
  // As root (CI, this machine) Chromium's sandbox cannot start; the pages it loads are our own.
  return chromium.launch({ executablePath, headless: true, args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"] });
}
