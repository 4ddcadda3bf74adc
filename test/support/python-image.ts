/**
 * The base image the python_sandbox tests build the sandbox on. Docker Hub and PyPI cannot be
 * reached here, so it is made from Debian's own Python packages: a `debootstrap --variant=minbase`
 * root filesystem with python3 and python3-{pandas,numpy,scipy,matplotlib,sklearn}, imported
 * into the engine with `docker import`. The sandbox Dockerfile sees that these import and
 * installs nothing, so building the sandbox on it needs no network.
 *
 * Built once per machine (a few minutes; progress goes to stderr) and reused by tag after that.
 * Parallel callers share one build: within a process through one promise, across processes
 * (other test files, other engineers' runs) through a lock directory.
 */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Docker from "dockerode";

/** Bump the suffix when the recipe below changes, so machines rebuild. */
export const PYTHON_SANDBOX_BASE_TAG = "mcp-router-test/python-sci:bookworm-1";

const SUITE = "bookworm";
const MIRROR = process.env.MCP_ROUTER_DEBIAN_MIRROR ?? "http://deb.debian.org/debian";
const PACKAGES = ["python3", "python3-pandas", "python3-numpy", "python3-scipy", "python3-matplotlib", "python3-sklearn"];
const LOCK = join(tmpdir(), "mcp-router-python-sci.lock");
/** A lock older than this whose owner is gone is taken over. */
const BUILD_TIMEOUT_MS = 30 * 60_000;

function log(message: string): void {
  process.stderr.write(`[python-sci image] ${message}\n`);
}

async function imageExists(docker: Docker, tag: string): Promise<boolean> {
  try {
    await docker.getImage(tag).inspect();
    return true;
  } catch {
    return false;
  }
}

/** Runs a command, streaming its output lines to stderr (prefixed) and keeping the last ones for errors. */
function runLogged(command: string, args: string[], label: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"] });
    const tail: string[] = [];
    const onData = (chunk: Buffer): void => {
      for (const line of chunk.toString("utf8").split("\n")) {
        if (!line.trim()) continue;
        tail.push(line);
        if (tail.length > 20) tail.shift();
        log(`${label}: ${line}`);
      }
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.on("error", reject);
    child.on("close", (code) => {
      if (code === 0) resolve();
      else reject(new Error(`${command} ${args.join(" ")} exited with ${code}:\n${tail.join("\n")}`));
    });
  });
}

function commandExists(name: string): boolean {
  return ["/usr/sbin", "/usr/bin", "/sbin", "/bin", "/usr/local/sbin", "/usr/local/bin"].some((dir) => existsSync(join(dir, name)));
}

async function ensureDebootstrap(): Promise<void> {
  if (commandExists("debootstrap")) return;
  if (process.getuid?.() !== 0) throw new Error("debootstrap is missing and this is not root: run `apt-get install -y debootstrap` (CI: .ci/run installs it)");
  log("installing debootstrap with apt-get");
  await runLogged("apt-get", ["install", "-y", "-qq", "debootstrap"], "apt-get").catch(async () => {
    await runLogged("apt-get", ["update", "-qq"], "apt-get");
    await runLogged("apt-get", ["install", "-y", "-qq", "debootstrap"], "apt-get");
  });
}

/** Unmounts anything debootstrap left mounted under `dir` (deepest first), so removing it never reaches the host. */
async function unmountUnder(dir: string): Promise<void> {
  const mounts = (await readFile("/proc/self/mounts", "utf8"))
    .split("\n")
    .map((line) => line.split(" ")[1]?.replace(/\\040/g, " "))
    .filter((point): point is string => point !== undefined && (point === dir || point.startsWith(`${dir}/`)))
    .sort((a, b) => b.length - a.length);
  for (const point of mounts) await runLogged("umount", ["-l", point], "umount").catch(() => undefined);
}

async function build(docker: Docker, tag: string): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error(`building ${tag} needs root (debootstrap); run the Docker tests as root, as CI does`);
  await ensureDebootstrap();
  const started = Date.now();
  const dir = await mkdtemp(join(tmpdir(), "mcp-router-python-rootfs-"));
  try {
    log(`debootstrap ${SUITE} with ${PACKAGES.join(", ")} from ${MIRROR} into ${dir} (takes a few minutes)`);
    await runLogged("debootstrap", ["--variant=minbase", `--include=${PACKAGES.join(",")}`, SUITE, dir, MIRROR], "debootstrap");
    await unmountUnder(dir);
    // What the image does not need at run time: downloaded .debs, apt lists, docs and man pages.
    for (const sub of ["var/cache/apt/archives", "var/lib/apt/lists", "usr/share/doc", "usr/share/man", "usr/share/info"]) {
      await rm(join(dir, sub), { recursive: true, force: true });
      await mkdir(join(dir, sub), { recursive: true });
    }
    const rootfsMs = Date.now() - started;
    log(`root filesystem ready after ${(rootfsMs / 1000).toFixed(0)} s; importing it as ${tag}`);
    const changes = ["ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "ENV LANG=C.UTF-8", 'CMD ["python3"]'];
    const changeArgs = changes.map((c) => `--change '${c}'`).join(" ");
    await runLogged("bash", ["-c", `set -euo pipefail; tar --numeric-owner -C '${dir}' -cf - . | docker import ${changeArgs} - '${tag}'`], "import");
    const info = await docker.getImage(tag).inspect();
    log(`built ${tag} in ${((Date.now() - started) / 1000).toFixed(0)} s (debootstrap ${(rootfsMs / 1000).toFixed(0)} s); size ${(info.Size / 1e6).toFixed(0)} MB`);
  } finally {
    await unmountUnder(dir);
    // Deleting a 1 GB tree of small files takes a minute or more here; nobody needs to wait for it.
    spawn("rm", ["-rf", "--one-file-system", dir], { detached: true, stdio: "ignore" }).unref();
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Takes the cross-process build lock; resolves false when the image appeared while waiting. */
async function lock(docker: Docker, tag: string): Promise<boolean> {
  let announced = false;
  for (;;) {
    try {
      await mkdir(LOCK);
      await writeFile(join(LOCK, "pid"), String(process.pid));
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
    if (await imageExists(docker, tag)) return false;
    const holder = Number(await readFile(join(LOCK, "pid"), "utf8").catch(() => "0"));
    const age = Date.now() - (await stat(LOCK).then((s) => s.mtimeMs, () => Date.now()));
    if ((holder > 0 && !alive(holder)) || age > BUILD_TIMEOUT_MS) {
      log(`taking over a stale build lock (pid ${holder || "unknown"})`);
      await rm(LOCK, { recursive: true, force: true });
      continue;
    }
    if (!announced) log(`another process (pid ${holder || "unknown"}) is building ${tag}; waiting for it`);
    announced = true;
    await new Promise((r) => setTimeout(r, 2_000));
  }
}

let inflight: Promise<string> | undefined;

/**
 * The tag of a local image with python3 and Debian's pandas, numpy, scipy, matplotlib and
 * scikit-learn, built on first use (needs root, debootstrap and deb.debian.org).
 */
export function ensurePythonSandboxBase(): Promise<string> {
  inflight ??= (async () => {
    const docker = new Docker();
    const tag = PYTHON_SANDBOX_BASE_TAG;
    if (await imageExists(docker, tag)) return tag;
    if (!(await lock(docker, tag))) return tag;
    try {
      if (!(await imageExists(docker, tag))) await build(docker, tag);
    } finally {
      await rm(LOCK, { recursive: true, force: true });
    }
    return tag;
  })().catch((error: unknown) => {
    inflight = undefined;
    throw error;
  });
  return inflight;
}
