/**
 * The base image npm servers are prepared on. The configured one (default `node:24-slim`) when
 * the engine has it or can pull it; otherwise, so that a machine without registry access still
 * works with zero configuration, an image made from this machine's own `node` binary and its
 * shared libraries (`docker import` of a minimal root filesystem).
 */
import { execFile } from "node:child_process";
import { spawn } from "node:child_process";
import { chmod, copyFile, mkdir, mkdtemp, realpath, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import type Docker from "dockerode";
import type { Logger } from "pino";

const exec = promisify(execFile);

/** Tag of the image made from the host's node, e.g. `mcp-router/node-host:20.20.2`. */
export function hostNodeImageTag(version = process.version): string {
  return `mcp-router/node-host:${version.replace(/^v/, "")}`;
}

export async function resolveNodeBaseImage(docker: Docker, preferred: string, logger: Logger, pullTimeoutMs = 60_000): Promise<string> {
  if (await imageExists(docker, preferred)) return preferred;
  try {
    logger.info({ image: preferred }, "pulling the node base image");
    await pull(docker, preferred, pullTimeoutMs);
    return preferred;
  } catch (error) {
    const tag = hostNodeImageTag();
    logger.warn({ image: preferred, err: (error as Error).message.split("\n")[0], fallback: tag }, "cannot pull the node base image; using one made from this machine's node");
    if (!(await imageExists(docker, tag))) await buildHostNodeImage(docker, tag);
    return tag;
  }
}

async function imageExists(docker: Docker, ref: string): Promise<boolean> {
  try {
    await docker.getImage(ref).inspect();
    return true;
  } catch {
    return false;
  }
}

async function pull(docker: Docker, ref: string, timeoutMs: number): Promise<void> {
  const stream = await docker.pull(ref);
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`pull of ${ref} took longer than ${timeoutMs / 1000} s`)), timeoutMs);
    docker.modem.followProgress(stream, (err: Error | null) => {
      clearTimeout(timer);
      if (err) reject(err);
      else resolve();
    });
  });
}

async function sharedLibraries(binary: string): Promise<string[]> {
  const { stdout } = await exec("ldd", [binary]);
  return [...stdout.matchAll(/(?:=>\s*)?(\/\S+)\s+\(0x/g)].map((m) => m[1] as string);
}

/** A root filesystem with node, its libraries, nobody and a /tmp, imported as an image. */
export async function buildHostNodeImage(docker: Docker, tag: string): Promise<void> {
  const root = await mkdtemp(path.join(tmpdir(), "mcp-router-rootfs-"));
  try {
    const node = await realpath(process.execPath);
    for (const lib of await sharedLibraries(node)) {
      await mkdir(path.join(root, path.dirname(lib)), { recursive: true });
      await copyFile(await realpath(lib), path.join(root, lib));
    }
    await mkdir(path.join(root, "usr/local/bin"), { recursive: true });
    await copyFile(node, path.join(root, "usr/local/bin/node"));
    await mkdir(path.join(root, "etc"), { recursive: true });
    await writeFile(path.join(root, "etc/passwd"), "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n");
    await writeFile(path.join(root, "etc/group"), "root:x:0:\nnogroup:x:65534:\n");
    await mkdir(path.join(root, "tmp"), { recursive: true });
    await chmod(path.join(root, "tmp"), 0o1777);
    const tar = spawn("tar", ["-C", root, "-cf", "-", "."], { stdio: ["ignore", "pipe", "inherit"] });
    const [repo, version] = tag.split(":") as [string, string];
    const response = await docker.importImage(tar.stdout as unknown as string, { repo, tag: version, changes: "ENV PATH=/usr/local/bin:/usr/bin:/bin" } as object);
    await new Promise<void>((resolve, reject) => docker.modem.followProgress(response, (err: Error | null) => (err ? reject(err) : resolve())));
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}
