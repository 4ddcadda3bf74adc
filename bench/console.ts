/**
 * Web console page loads (issue 16: under 300 ms with 100 servers configured), no Docker: a daemon
 * assembled by `startDaemon` as `serve` runs it, 100 in-process probe servers, a signed-in
 * session. In Debian's chromium (playwright-core): from navigation start to the overview's table
 * showing all 100 servers, and to a server's page showing its tools, as a reload and from a blank
 * tab (a new renderer process, as a first visit). The baseline, in the same browser and run, is
 * the browser's own floor: a one-row HTML page from a bare node HTTP server, loaded the same way.
 * Over HTTP alone: the overview's data against `/status` (the sync status it is drawn from). The
 * machine's load average is printed with the figures: on a shared machine it moves them a lot.
 * Run alone: `npx tsx bench/console.ts`.
 */
import { EventEmitter } from "node:events";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { loadavg } from "node:os";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Browser, Page } from "playwright-core";
import type { Daemon } from "../src/daemon/start-daemon.js";
import { startDaemon } from "../src/daemon/start-daemon.js";
import { staticSecretSource } from "../src/secrets/secret-source.js";
import { findChromium } from "../test/support/chromium.js";
import { InProcessLauncher } from "../test/support/in-process-launcher.js";
import type { ProbeEvents } from "../test/support/in-process-servers.js";
import { PROBE_PACKAGE, probePackage, probeUpstream } from "../test/support/in-process-servers.js";
import { testServer, writeRegistry } from "../test/support/servers.js";
import { percentile, type BenchRow } from "./bench-row.js";

const KEY = "bench-console-key-0123456789abcdef";
const SERVERS = 100;
const LOADS = 15;
const TARGET_MS = 300;

/** The page's globals as the functions run there see them (this file compiles without the DOM lib). */
declare const document: { querySelectorAll(selector: string): { length: number } };
declare const performance: { now(): number };

interface ConsoleDaemon {
  daemon: Daemon;
  base: string;
  cookie: string;
  close(): Promise<void>;
}

async function startConsoleDaemon(servers: number): Promise<ConsoleDaemon> {
  const dir = await mkdtemp(join(tmpdir(), "mcp-router-bench-console-"));
  const launcher = new InProcessLauncher({ upstreams: { [PROBE_PACKAGE]: probeUpstream(new EventEmitter<ProbeEvents>()) } });
  await writeRegistry(
    join(dir, "registry"),
    Array.from({ length: servers }, (_, i) => testServer(`s${String(i).padStart(3, "0")}`, probePackage())),
  );
  const daemon = await startDaemon({
    registry: { dir: join(dir, "registry") },
    dataDir: join(dir, "data"),
    secrets: staticSecretSource({}),
    log: { level: "silent" },
    http: { host: "127.0.0.1", port: 0, apiKeys: [KEY] },
    launcher,
  });
  await daemon.sync.started;
  const live = daemon.status().servers.filter((s) => s.reason === "Applied").length;
  if (live !== servers) throw new Error(`${live} of ${servers} servers applied`);
  const base = daemon.url!.href;
  const res = await fetch(new URL("/api/console/session", base), { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ key: KEY }) });
  const cookie = (res.headers.get("set-cookie") ?? "").split(";")[0]!;
  return {
    daemon,
    base,
    cookie,
    close: async () => {
      await daemon.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Median ms from navigation start until `selector` matches `count` elements, over LOADS fresh loads (after one warm-up). */
async function pageLoad(page: Page, url: string, selector: string, count: number, fresh: boolean): Promise<number> {
  const samples: number[] = [];
  for (let i = 0; i <= LOADS; i++) {
    // fresh: from a blank tab (a new renderer process for the site, as a first visit); else a reload.
    if (fresh) await page.goto("about:blank");
    await page.goto(`${url}${url.includes("#") ? "" : "#/"}`.replace("#", `?load=${i}#`));
    await page.waitForFunction(([s, n]) => document.querySelectorAll(s as string).length >= (n as number), [selector, count], { polling: "raf" });
    const ms = await page.evaluate(() => performance.now());
    if (i > 0) samples.push(ms);
  }
  return percentile(samples, 50);
}

/** The floor: a bare HTTP server with one small HTML page holding one table row. */
async function startFloorPage(): Promise<{ url: string; close(): Promise<void> }> {
  const html = '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>floor</title></head><body><table><tbody><tr data-prefix="x"><td>x</td></tr></tbody></table></body></html>';
  const server = createServer((_req, res) => res.writeHead(200, { "content-type": "text/html; charset=utf-8" }).end(html));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

async function httpMedian(url: string, headers: Record<string, string>): Promise<number> {
  const samples: number[] = [];
  for (let i = 0; i <= 50; i++) {
    const t0 = performance.now();
    const res = await fetch(url, { headers });
    await res.arrayBuffer();
    if (i > 0) samples.push(performance.now() - t0);
  }
  return percentile(samples, 50);
}

export async function benchConsole(): Promise<BenchRow[]> {
  const many = await startConsoleDaemon(SERVERS);
  const one = await startConsoleDaemon(1);
  const rows: BenchRow[] = [];
  let browser: Browser | undefined;
  try {
    const overviewData = await httpMedian(new URL("/api/console/overview", many.base).href, { cookie: many.cookie });
    const statusData = await httpMedian(new URL("/status", many.base).href, { authorization: `Bearer ${KEY}` });
    rows.push({
      name: `console: overview data, ${SERVERS} servers (HTTP, p50)`,
      value: overviewData,
      unit: "ms",
      baseline: { name: "GET /status (same data source)", value: statusData },
      ratio: overviewData / statusData,
    });
    const executablePath = findChromium();
    if (!executablePath) {
      console.error("bench console: no chromium (apt-get install -y chromium): page loads not measured");
      return rows;
    }
    const { chromium } = await import("playwright-core");
    browser = await chromium.launch({ executablePath, headless: true, args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"] });
    const floorPage = await startFloorPage();
    const floor = async (fresh: boolean): Promise<number> => {
      const page = await browser!.newPage();
      try {
        return await pageLoad(page, floorPage.url, "tbody tr[data-prefix]", 1, fresh);
      } finally {
        await page.close();
      }
    };
    const measure = async (d: ConsoleDaemon, path: string, selector: string, count: number, fresh: boolean): Promise<number> => {
      const context = await browser!.newContext();
      const [name, value] = d.cookie.split("=") as [string, string];
      await context.addCookies([{ name, value, url: d.base }]);
      const page = await context.newPage();
      try {
        return await pageLoad(page, `${d.base}${path}`, selector, count, fresh);
      } finally {
        await context.close();
      }
    };
    for (const fresh of [false, true]) {
      const how = fresh ? "from a blank tab" : "reload";
      const baseline = await floor(fresh);
      const small = await measure(one, "#/", "tbody tr[data-prefix]", 1, fresh);
      const overview = await measure(many, "#/", "tbody tr[data-prefix]", SERVERS, fresh);
      const server = await measure(many, "#/servers/s050", "details.tool", 4, fresh);
      for (const [name, value] of [
        [`console: overview page, 1 server, ${how} (chromium, p50)`, small],
        [`console: overview page, ${SERVERS} servers, ${how} (chromium, p50)`, overview],
        [`console: server page, ${SERVERS} servers configured, ${how} (chromium, p50)`, server],
      ] as const) {
        rows.push({ name, value, unit: "ms", baseline: { name: `bare one-row page, ${how}`, value: baseline }, ratio: value / baseline, target: `< ${TARGET_MS} ms`, ok: value < TARGET_MS });
      }
    }
    await floorPage.close();
    console.error(`bench console: load average ${loadavg().map((l) => l.toFixed(1)).join(" ")} (1/5/15 min) on ${SERVERS} servers' figures`);
    return rows;
  } finally {
    await browser?.close();
    await many.close();
    await one.close();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { formatTable } = await import("./bench-row.js");
  console.log(formatTable(await benchConsole()));
}
