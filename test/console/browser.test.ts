/**
 * The console in a real browser (Debian's chromium via playwright-core) against a real daemon with
 * real servers (in-process: the probe server and server-everything): sign in, the overview and its
 * live update, a server's page, try a tool (text and an image), set a missing secret and see its
 * server go live, a POST without the CSRF token refused, sign out; the main path by keyboard only. With CONSOLE_SCREENSHOTS=<dir> it also saves
 * the screenshots the README shows.
 */
import assert from "node:assert/strict";
import { EventEmitter } from "node:events";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { Browser, Page } from "playwright-core";
import type { Daemon } from "../../src/daemon/start-daemon.js";
import { startDaemon } from "../../src/daemon/start-daemon.js";
import { staticSecretSource } from "../../src/secrets/secret-source.js";
import { launchChromium } from "../support/chromium.js";
import { FakeApis } from "../support/fake-apis.js";
import { FIXTURES } from "../propose/dev-set.js";
import { InProcessLauncher } from "../support/in-process-launcher.js";
import type { ProbeEvents } from "../support/in-process-servers.js";
import { EVERYTHING_PACKAGE, PROBE_PACKAGE, everythingUpstream, probePackage, probeUpstream } from "../support/in-process-servers.js";
import { npmPackage, testServer, writeRegistry } from "../support/servers.js";

/** The page's globals as the functions run there see them (this file compiles without the DOM lib). */
declare const document: { activeElement: { matches(selector: string): boolean; id: string; tagName: string } | null };

const KEY = "console-browser-test-key-0123456789";
const SCREENSHOTS = process.env.CONSOLE_SCREENSHOTS;

/** Presses Tab (or Shift+Tab) until the focused element matches, as a keyboard user would; fails after `max` presses. */
async function tabTo(page: Page, selector: string, { back = false, max = 60 } = {}): Promise<void> {
  for (let i = 0; i < max; i++) {
    if (await page.evaluate((s) => document.activeElement?.matches(s) ?? false, selector)) return;
    await page.keyboard.press(back ? "Shift+Tab" : "Tab");
  }
  throw new Error(`${selector} was not reached with ${back ? "Shift+Tab" : "Tab"} in ${max} presses`);
}

async function shot(page: Page, name: string): Promise<void> {
  if (!SCREENSHOTS) return;
  await mkdir(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, `console-${name}.png`), fullPage: true });
}

describe("web console in a browser", () => {
  let dir: string;
  let daemon: Daemon;
  let browser: Browser | undefined;
  let base: string;
  let fake: FakeApis;

  before(async () => {
    // GitHub, for proposing from a URL: the test suite's fake at the HTTP boundary.
    fake = await new FakeApis().start();
    fake.addRepoFromDir("modelcontextprotocol/servers", join(FIXTURES, "repos/servers-memory"), { description: "Model Context Protocol Servers" });
    dir = await mkdtemp(join(tmpdir(), "mcp-router-console-browser-"));
    const launcher = new InProcessLauncher({ upstreams: { [EVERYTHING_PACKAGE]: await everythingUpstream(), [PROBE_PACKAGE]: probeUpstream(new EventEmitter<ProbeEvents>()) } });
    await writeRegistry(join(dir, "registry"), [
      testServer("everything", npmPackage(EVERYTHING_PACKAGE)),
      testServer("notes", probePackage()),
      // Asks for a secret the store does not grant: refused at apply, shown as failed with the reason.
      testServer("needs-token", { ...probePackage(), environmentVariables: [{ name: "NOTES_TOKEN", isSecret: true, isRequired: true, description: "the notes service token" }] }),
    ]);
    daemon = await startDaemon({
      registry: { dir: join(dir, "registry") },
      dataDir: join(dir, "data"),
      secrets: staticSecretSource({}),
      log: { level: process.env.LOG_LEVEL ?? "silent" },
      http: { host: "127.0.0.1", port: 0, apiKeys: [KEY], console: { proposer: { githubApiUrl: fake.githubUrl, githubThrottle: false } } },
      launcher,
    });
    await daemon.sync.started;
    base = daemon.url!.href;
  });
  after(async () => {
    await browser?.close();
    await daemon.close();
    await fake.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it("sign in, overview, a server, try a tool, CSRF refused, sign out: by keyboard only", async (t) => {
    browser = await launchChromium(t);
    if (!browser) return;
    const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    page.setDefaultTimeout(15_000);
    const problems: string[] = [];
    page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
    page.on("console", (message) => {
      // The 401s of signing in wrongly and of the refused POST are expected; nothing else may complain.
      if (message.type() === "error" && !/401|403/.test(message.text())) problems.push(`console error: ${message.text()}`);
    });
    await page.goto(base);

    // Sign in: a wrong key is refused in place, the right one opens the overview.
    await page.locator("#api-key").waitFor();
    await shot(page, "sign-in");
    await tabTo(page, "#api-key");
    await page.keyboard.type("not-the-key-at-all");
    await page.keyboard.press("Enter");
    await page.locator("#sign-in-error", { hasText: "not one the daemon accepts" }).waitFor();
    assert.equal(await page.evaluate(() => document.activeElement?.id), "api-key", "focus goes back to the key field");
    await page.keyboard.press("Control+A");
    await page.keyboard.type(KEY);
    await page.keyboard.press("Enter");

    // The overview: every server with its condition; the refused one says why.
    await page.locator("h1", { hasText: "Overview" }).waitFor();
    await page.locator('tr[data-prefix="notes"][data-condition="live"]').waitFor();
    assert.equal(await page.locator('tr[data-prefix="everything"]').getAttribute("data-condition"), "live");
    assert.equal(await page.locator('tr[data-prefix="needs-token"]').getAttribute("data-condition"), "failed");
    assert.match(await page.locator('tr[data-prefix="needs-token"]').innerText(), /NOTES_TOKEN/);
    assert.equal(await page.locator("#applied-revision code").innerText(), daemon.status().lastAppliedRevision);
    assert.match(await page.locator("#who").innerText(), /signed in as key:[0-9a-f]{8}/);

    // Live: a new file in the registry appears without a reload.
    await writeRegistry(join(dir, "registry"), [testServer("added", probePackage())]);
    await page.locator('tr[data-prefix="added"][data-condition="live"]').waitFor();
    await page.locator(".reloads li", { hasText: "added" }).first().waitFor();
    await shot(page, "overview");

    // To a server's page by keyboard.
    await tabTo(page, "#server-link-notes");
    await page.keyboard.press("Enter");
    await page.locator("h1", { hasText: "notes" }).waitFor();
    assert.equal(await page.evaluate(() => document.activeElement?.tagName), "H1", "focus moves to the new page's heading");
    assert.match(await page.locator("pre.file").innerText(), /prefix: notes/);

    // Try a tool by keyboard: open it, fill its form, submit, read the result.
    await tabTo(page, "#tool-remember summary");
    await page.keyboard.press("Enter");
    await tabTo(page, "#tool-remember-note");
    await page.keyboard.type("typed in a browser");
    await page.keyboard.press("Enter");
    await page.locator("#tool-remember-result pre", { hasText: "notes: typed in a browser" }).waitFor();

    // An empty required field is caught before any call, at the field.
    await page.locator("#tool-remember-note").fill("");
    await page.keyboard.press("Enter");
    await page.locator("#tool-remember-result .error", { hasText: "note: is required" }).waitFor();
    await page.locator(".calls tbody tr").first().waitFor();
    assert.match(await page.locator(".calls tbody tr").first().innerText(), /remember\s+ok/);

    // An image result is shown as an image.
    await page.goto(`${base}#/servers/everything`);
    await page.locator("#tool-get-tiny-image summary").click();
    await page.locator("#tool-get-tiny-image button[type=submit]").click();
    const image = page.locator("#tool-get-tiny-image-result img");
    await image.waitFor();
    assert.ok((await image.evaluate((img) => {
      const decoded = img as unknown as { complete: boolean; naturalWidth: number };
      return decoded.complete ? decoded.naturalWidth : 0;
    })) > 0, "the image decoded");
    await shot(page, "server");

    // The failed server's page: its missing secret.
    await page.goto(`${base}#/servers/needs-token`);
    await page.locator('tr[data-secret="NOTES_TOKEN"]', { hasText: "missing" }).waitFor();

    // Set the missing secret on the Secrets page, by keyboard: the server goes live.
    await tabTo(page, 'a[href="#/secrets"]', { back: true });
    await page.keyboard.press("Enter");
    await page.locator("h1", { hasText: "Secrets" }).waitFor();
    await tabTo(page, "#secret-NOTES_TOKEN-value");
    await page.keyboard.type("a-token-typed-in-the-browser");
    await page.keyboard.press("Enter");
    await page.locator('section[data-secret="NOTES_TOKEN"][data-set="true"]').waitFor();
    assert.equal(await page.locator("#secret-NOTES_TOKEN-value").inputValue(), "", "the value is not kept in the page");
    await shot(page, "secrets");
    await page.goto(`${base}#/`);
    await page.locator('tr[data-prefix="needs-token"][data-condition="live"]').waitFor();
    assert.equal((await page.content()).includes("a-token-typed-in-the-browser"), false);

    // Add a server: an error shown at its line, fixed, written, live on the overview.
    const file = (packageVersion: string) =>
      `name: dev.mcp-router.test/drafted\ndescription: added in the browser\nversion: 1.0.0\npackages:\n  - registryType: npm\n    identifier: "@mcp-router-test/probe"\n    version: ${packageVersion}\n    transport:\n      type: stdio\nrouter:\n  prefix: drafted\n`;
    await tabTo(page, 'a[href="#/add"]', { back: true });
    await page.keyboard.press("Enter");
    await page.locator("h1", { hasText: "Add a server" }).waitFor();
    // From a repository URL: the steps show, the proposed file lands in the editor.
    await tabTo(page, "#repo-url");
    await page.keyboard.type("https://github.com/modelcontextprotocol/servers/tree/main/src/memory");
    await page.keyboard.press("Enter");
    await page.locator("#proposal-steps li", { hasText: "gathering evidence" }).waitFor();
    await page.waitForFunction(() => (globalThis as unknown as { document: { querySelector(s: string): { value: string } | null } }).document.querySelector("#draft")?.value.includes("server-memory") ?? false);
    await page.locator("#draft-state").filter({ hasText: /servers\/memory\.yaml/ }).waitFor();
    await shot(page, "add-server");
    await page.locator("#draft").fill(file("latest"));
    const problem = page.locator('#draft-problems li[data-line="7"]');
    await problem.waitFor();
    await page.locator("#draft-state", { hasText: "1 problem in servers/drafted.yaml" }).waitFor();
    await problem.locator("button").focus();
    await page.keyboard.press("Enter");
    assert.equal(await page.evaluate(() => document.activeElement?.id), "draft", "the problem's line button takes the cursor to the editor");
    await page.locator("#draft").fill(file("1.0.0"));
    await page.locator("#draft-state", { hasText: "Valid: servers/drafted.yaml" }).waitFor();
    await tabTo(page, "#draft-write");
    await page.keyboard.press("Enter");
    await page.locator('tr[data-prefix="drafted"][data-condition="live"]').waitFor();

    // Metrics: the calls made above, per server.
    await page.goto(`${base}#/metrics`);
    await page.locator('tr[data-server="notes"]').waitFor();
    assert.match(await page.locator('tr[data-server="notes"]').innerText(), /notes\s+1\s/);
    await shot(page, "metrics");

    // Connect: the snippets carry this gateway's URL, and a placeholder, never a key.
    await page.goto(`${base}#/connect`);
    await page.locator("#claude-code-snippet").waitFor();
    assert.equal(await page.locator("#claude-code-snippet").innerText(), `claude mcp add --transport http mcp-router ${base}mcp --header "Authorization: Bearer <your API key>"`);
    assert.equal(JSON.parse(await page.locator("#cursor-snippet").innerText()).mcpServers["mcp-router"].url, `${base}mcp`);
    assert.equal((await page.content()).includes(KEY), false);
    await shot(page, "connect");

    // A POST from this very page without the CSRF token: the cookie goes along, and is not enough.
    const refused = await page.evaluate(async () => {
      const res = await fetch("/api/console/servers/notes/tools/whoami/call", { method: "POST", headers: { "content-type": "application/json" }, body: '{"arguments":{}}' });
      return { status: res.status, body: (await res.json()) as { error: { code: string } } };
    });
    assert.equal(refused.status, 403);
    assert.equal(refused.body.error.code, "CSRF_TOKEN_INVALID");

    // Sign out by keyboard (back up to the header), and the session is gone for good.
    await page.locator("h1").focus();
    await tabTo(page, "#sign-out", { back: true });
    await page.keyboard.press("Enter");
    await page.locator("#api-key").waitFor();
    const after = await page.evaluate(async () => (await fetch("/api/console/overview")).status);
    assert.equal(after, 401);
    assert.deepEqual(problems, []);
  });
});
