/**
 * Test support for a real Docker engine: availability (skip locally, FAIL under CI), and the
 * locally built images every Docker test uses (nothing can be pulled here).
 */
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { chmod, copyFile, mkdir, mkdtemp, readFile, realpath, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, it } from "node:test";
import type { SuiteContext, TestContext } from "node:test";
import Docker from "dockerode";

const here = dirname(fileURLToPath(import.meta.url));
const HELPER_VERSION = "1";

export function run(command: string, args: string[], input?: string): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = execFile(command, args, { maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) reject(Object.assign(new Error(`${command} ${args.join(" ")} failed: ${stderr || error.message}`), { stdout, stderr }));
      else resolve({ stdout, stderr });
    });
    if (input !== undefined) child.stdin?.end(input);
  });
}

let available: Promise<boolean> | undefined;

/** Whether a Docker engine answers (cached). */
export function dockerAvailable(): Promise<boolean> {
  available ??= new Docker()
    .ping()
    .then(() => true)
    .catch(() => false);
  return available;
}

/**
 * Whether a Docker engine answers, for a suite's `describeWhen`: under CI, where the engine is part
 * of the job, a missing one is an error instead.
 */
export async function dockerUnlessCi(): Promise<boolean> {
  if (await dockerAvailable()) return true;
  if (process.env.CI) throw new Error(NO_ENGINE_UNDER_CI);
  return false;
}

const NO_ENGINE_UNDER_CI = "Docker engine unavailable under CI: run .ci/docker-up.sh before the tests";

/**
 * Call at the top of a Docker test: returns false (and marks the test skipped) when no engine
 * answers and CI is not set; under CI a missing engine fails the test.
 */
export async function requireDocker(t: TestContext): Promise<boolean> {
  if (await dockerAvailable()) return true;
  if (process.env.CI) throw new Error(NO_ENGINE_UNDER_CI);
  t.skip("no Docker engine (run .ci/docker-up.sh); skipped outside CI");
  return false;
}

const NO_ENGINE = "no Docker engine (run .ci/docker-up.sh)";

/**
 * A suite that needs something this machine may lack (a Docker engine by default). When it is
 * there, this is `describe`. When it is not, the suite is one test, skipped with the reason so
 * that the runner's summary counts it (a skipped `describe` counts as no test at all); under CI,
 * where the engine is part of the job, that test fails instead.
 */
export function describeWhen(
  available: boolean,
  name: string,
  options: { timeout?: number; reason?: string; failUnderCi?: boolean },
  fn: (s: SuiteContext) => void | Promise<void>,
): void {
  const { reason = NO_ENGINE, failUnderCi = true, ...suiteOptions } = options;
  if (available) {
    describe(name, suiteOptions, fn);
    return;
  }
  describe(name, () => {
    it(`needs what is missing: ${reason}`, (t) => {
      if (failUnderCi && process.env.CI) throw new Error(`${reason}, and CI requires it: run .ci/docker-up.sh before the tests`);
      t.skip(reason);
    });
  });
}

export interface TestImages {
  /** Minimal image with /usr/local/bin/node, its libraries, /bin/sleep, nobody, /tmp. */
  nodeBase: string;
  /** The probe MCP server (test/support/probe-server.mjs) on the node base: an `oci` package. */
  probe: string;
  /**
   * A 2026-07-28 stdio server of the SDK v2 (test/support/modern-stdio-server.ts, bundled) on the
   * node base: an `oci` package; it serves 2025 openings too unless given `--modern-only`.
   */
  modern: string;
}

async function imageExists(tag: string): Promise<boolean> {
  try {
    await new Docker().getImage(tag).inspect();
    return true;
  } catch {
    return false;
  }
}

async function sharedLibraries(binary: string): Promise<string[]> {
  const { stdout } = await run("ldd", [binary]);
  const libs: string[] = [];
  for (const line of stdout.split("\n")) {
    const match = /(?:=>\s*)?(\/\S+)\s+\(0x/.exec(line);
    if (match?.[1]) libs.push(match[1]);
  }
  return libs;
}

async function buildNodeBase(tag: string): Promise<void> {
  const root = await mkdtemp(join(tmpdir(), "mcp-router-rootfs-"));
  try {
    const node = await realpath(process.execPath);
    const sleep = await realpath("/bin/sleep");
    const files = new Set<string>([...(await sharedLibraries(node)), ...(await sharedLibraries(sleep))]);
    for (const file of files) {
      await mkdir(join(root, dirname(file)), { recursive: true });
      await copyFile(await realpath(file), join(root, file));
    }
    await mkdir(join(root, "usr/local/bin"), { recursive: true });
    await copyFile(node, join(root, "usr/local/bin/node"));
    await mkdir(join(root, "bin"), { recursive: true });
    await copyFile(sleep, join(root, "bin/sleep"));
    await mkdir(join(root, "etc"), { recursive: true });
    await writeFile(join(root, "etc/passwd"), "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n");
    await writeFile(join(root, "etc/group"), "root:x:0:\nnogroup:x:65534:\n");
    await mkdir(join(root, "tmp"), { recursive: true });
    await chmod(join(root, "tmp"), 0o1777);
    await mkdir(join(root, "root"), { recursive: true });
    const { stdout: tar } = await run("bash", ["-c", `tar -C '${root}' -cf - . | docker import --change 'ENV PATH=/usr/local/bin:/usr/bin:/bin' - '${tag}'`]);
    void tar;
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

async function buildProbe(tag: string, base: string): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), "mcp-router-probe-"));
  try {
    await copyFile(join(here, "probe-server.mjs"), join(dir, "probe-server.mjs"));
    await writeFile(join(dir, "Dockerfile"), `FROM ${base}\nCOPY probe-server.mjs /opt/probe/probe-server.mjs\nENTRYPOINT ["node", "/opt/probe/probe-server.mjs"]\n`);
    await run("docker", ["build", "-q", "-t", tag, dir]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** One file of the SDK v2 stdio server and everything it imports. */
async function bundleModern(): Promise<string> {
  const { build } = await import("esbuild");
  const out = await build({ entryPoints: [join(here, "modern-stdio-server.ts")], bundle: true, platform: "node", format: "esm", target: "node20", write: false, logLevel: "silent" });
  const file = out.outputFiles[0];
  if (!file) throw new Error("esbuild produced no bundle for modern-stdio-server.ts");
  return file.text;
}

async function buildModern(tag: string, base: string, bundle: string): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), "mcp-router-modern-"));
  try {
    await writeFile(join(dir, "server.mjs"), bundle);
    await writeFile(join(dir, "Dockerfile"), `FROM ${base}\nCOPY server.mjs /opt/modern/server.mjs\nENTRYPOINT ["node", "/opt/modern/server.mjs"]\n`);
    await run("docker", ["build", "-q", "-t", tag, dir]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

let images: Promise<TestImages> | undefined;

/** Builds (once, cached by tag) the images the Docker tests use. About a second each. */
export function ensureTestImages(): Promise<TestImages> {
  images ??= (async () => {
    const nodeVersion = process.version;
    const baseTag = `mcp-router-test/node-base:${nodeVersion.slice(1)}-h${HELPER_VERSION}`;
    if (!(await imageExists(baseTag))) await buildNodeBase(baseTag);
    const probeSource = await readFile(join(here, "probe-server.mjs"));
    const probeHash = createHash("sha256").update(probeSource).update(baseTag).digest("hex").slice(0, 12);
    const probeTag = `mcp-router-test/probe:${probeHash}`;
    if (!(await imageExists(probeTag))) await buildProbe(probeTag, baseTag);
    const modernBundle = await bundleModern();
    const modernTag = `mcp-router-test/modern:${createHash("sha256").update(modernBundle).update(baseTag).digest("hex").slice(0, 12)}`;
    if (!(await imageExists(modernTag))) await buildModern(modernTag, baseTag, modernBundle);
    return { nodeBase: baseTag, probe: probeTag, modern: modernTag };
  })();
  return images;
}

/** Our containers (label dev.mcp-router.managed=true) currently on the engine, optionally of one owner. */
export async function listOurContainers(owner?: string): Promise<Docker.ContainerInfo[]> {
  const labels = ["dev.mcp-router.managed=true", ...(owner ? [`dev.mcp-router.owner=${owner}`] : [])];
  return new Docker().listContainers({ all: true, filters: JSON.stringify({ label: labels }) });
}

/** Host folder where prepared npm packages are cached across test runs. */
export function testDataDir(): string {
  return process.env.MCP_ROUTER_TEST_DATA ?? join(tmpdir(), "mcp-router-test-data");
}

/** Waits until the container no longer exists (removal happens off the caller's path); fails after `timeout`. */
export async function containerGone(containerId: string | undefined, timeout = 15_000): Promise<void> {
  if (!containerId) throw new Error("expected a container id");
  const docker = new Docker();
  const deadline = Date.now() + timeout;
  for (;;) {
    try {
      await docker.getContainer(containerId).inspect();
    } catch (error) {
      if ((error as { statusCode?: number }).statusCode === 404) return;
      throw error;
    }
    if (Date.now() > deadline) throw new Error(`container ${containerId.slice(0, 12)} still exists after ${timeout} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
