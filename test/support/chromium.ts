/**
 * A real browser for the console's tests: Debian's `chromium` (apt), driven by playwright-core.
 * Found by CHROMIUM_PATH or on the usual paths; outside CI a missing browser skips the suite with
 * the reason, under CI it FAILS (`.ci/chromium.sh` installs it before `npm test`).
 */
import { existsSync } from "node:fs";
import type { TestContext } from "node:test";
import type { Browser } from "playwright-core";
import { chromium } from "playwright-core";
import { dockerAvailable, listOurContainers } from "./docker.js";

const CANDIDATES = ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/lib/chromium/chromium", "/usr/bin/google-chrome"];

export const NO_CHROMIUM = "no chromium found (CHROMIUM_PATH, /usr/bin/chromium): install it with `apt-get install -y chromium` (.ci/chromium.sh does)";

export function findChromium(): string | undefined {
  const given = process.env.CHROMIUM_PATH;
  if (given) return existsSync(given) ? given : undefined;
  return CANDIDATES.find((p) => existsSync(p));
}

/**
 * Chromium aborts the requests it has in flight, loopback ones included, with ERR_NETWORK_CHANGED
 * whenever a network interface comes or goes, which Docker does for every container it starts or
 * removes. Earlier test files' containers are removed off their path: wait until the engine has
 * none of ours left (at most a minute) before a browser test starts.
 */
export async function quietNetwork(): Promise<void> {
  if (!(await dockerAvailable())) return;
  const deadline = Date.now() + 60_000;
  while ((await listOurContainers()).length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 250));
  // The last removal's interface change may still be on its way to the browser's notifier.
  await new Promise((r) => setTimeout(r, 1000));
}

/** The browser, or undefined (the test marked skipped) outside CI when there is none; under CI a missing browser throws. */
export async function launchChromium(t: TestContext): Promise<Browser | undefined> {
  const executablePath = findChromium();
  if (!executablePath) {
    if (process.env.CI) throw new Error(`${NO_CHROMIUM}; under CI the browser tests fail rather than skip`);
    t.skip(`${NO_CHROMIUM}; skipped outside CI`);
    return undefined;
  }
  await quietNetwork();
  // As root (CI, this machine) Chromium's sandbox cannot start; the pages it loads are our own.
  return chromium.launch({ executablePath, headless: true, args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"] });
}
