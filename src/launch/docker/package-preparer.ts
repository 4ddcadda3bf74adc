import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { copyFile, cp, mkdir, readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import path, { join } from "node:path";
import type Docker from "dockerode";
import type { Logger } from "pino";
import type { Build, Package, RegistryServer } from "../../registry/types.js";
import { LaunchError } from "../errors.js";
import { selectedPackage } from "./container-spec.js";

/** What a call starts from: an image that is already on the engine. */
export interface PreparedPackage {
  image: string;
  /** Entrypoint override, when the image's own is not the server. */
  entrypoint?: string[];
}

export interface BaseImages {
  /** Image with `node` on PATH (production default `node:24-slim`). */
  node: string;
  /** Image with python and `uv` on PATH (production default `ghcr.io/astral-sh/uv:python3.12-bookworm-slim`). */
  python: string;
}

export const DEFAULT_BASE_IMAGES: BaseImages = {
  node: "node:24-slim",
  python: "ghcr.io/astral-sh/uv:python3.12-bookworm-slim",
};

export interface PackagePreparerOptions {
  docker: Docker;
  logger: Logger;
  /** Where host-side installs are cached, keyed by content hash. */
  dataDir: string;
  baseImages?: Partial<BaseImages>;
  /** Run npm install scripts on the host while preparing (default false: scripts are a supply-chain risk). */
  npmInstallScripts?: boolean;
  /** The npm binary (default `npm`). */
  npmCommand?: string;
  /**
   * Build arguments (`ARG`s) for every `router.build` image, e.g. `{BASE_IMAGE: "debian:bookworm-slim"}`
   * to build on a base image that is already on the engine. They are part of the image's tag.
   * Not for secrets: build args show in progress messages and in the image's history.
   */
  buildArgs?: Record<string, string>;
}

const PREPARED_REPO = "mcp-router/pkg";
/** Repository of the images built from Dockerfiles in the registry repo (`router.build`). */
const BUILT_REPO = "mcp-router/build";
/** Build output lines kept for the error message of a failed build. */
const BUILD_TAIL_LINES = 15;

/** Content hash of what makes a prepared image: change any of it and a new image is built. */
export function preparedKey(kind: string, base: string, pkg: Package, extra: Record<string, unknown> = {}): string {
  const material = JSON.stringify({
    v: 1,
    kind,
    base,
    registryType: pkg.registryType,
    registryBaseUrl: pkg.registryBaseUrl ?? null,
    identifier: pkg.identifier,
    version: pkg.version ?? null,
    fileSha256: pkg.fileSha256 ?? null,
    ...extra,
  });
  return createHash("sha256").update(material).digest("hex").slice(0, 20);
}

/**
 * The tag of a `router.build` image. The server's hash already covers its registry file, its
 * Dockerfile and every byte of its build context; the build args are added, since they change
 * what is built too.
 */
export function builtImageTag(server: RegistryServer, buildArgs: Record<string, string> = {}): string {
  const args = Object.entries(buildArgs).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const key = createHash("sha256").update(JSON.stringify({ v: 1, server: server.hash, args })).digest("hex").slice(0, 20);
  return `${BUILT_REPO}:${server.prefix}-${key}`;
}

/** The image reference of an `oci` package. */
export function ociReference(pkg: Package): string {
  const id = pkg.identifier;
  const lastSegment = id.slice(id.lastIndexOf("/") + 1);
  if (id.includes("@") || lastSegment.includes(":") || !pkg.version) return id;
  return `${id}:${pkg.version}`;
}

/** The Dockerfile of an npm server image: the host-installed node_modules on top of the node base. */
export function npmDockerfile(base: string, identifier: string, binPath: string, key: string): string {
  return [
    `FROM ${base}`,
    `COPY node_modules /opt/mcp/node_modules`,
    `LABEL dev.mcp-router.prepared="${key}"`,
    `ENTRYPOINT ${JSON.stringify(["node", `/opt/mcp/node_modules/${identifier}/${binPath}`])}`,
    "",
  ].join("\n");
}

/** The argv of the install step in the python builder stage. */
export function pypiInstallArgv(pkg: Package): string[] {
  const spec = pkg.version ? `${pkg.identifier}==${pkg.version}` : pkg.identifier;
  const argv = ["uv", "pip", "install", "--python", "/opt/mcp/venv/bin/python", "--no-cache"];
  if (pkg.registryBaseUrl && pkg.registryBaseUrl !== "https://pypi.org") argv.push("--index-url", pkg.registryBaseUrl);
  argv.push(spec);
  return argv;
}

/**
 * The Dockerfile of a PyPI server image: a builder stage makes a venv with uv, the final stage
 * copies it onto the same base. The command is the package's name, as `uvx <package>` would run it.
 */
export function pypiDockerfile(base: string, pkg: Package, key: string): string {
  return [
    `FROM ${base} AS build`,
    `RUN ${JSON.stringify(["uv", "venv", "/opt/mcp/venv"])}`,
    `RUN ${JSON.stringify(pypiInstallArgv(pkg))}`,
    `FROM ${base}`,
    `COPY --from=build /opt/mcp/venv /opt/mcp/venv`,
    `ENV PATH=/opt/mcp/venv/bin:/usr/local/bin:/usr/bin:/bin`,
    `LABEL dev.mcp-router.prepared="${key}"`,
    `ENTRYPOINT ${JSON.stringify([pkg.identifier])}`,
    "",
  ].join("\n");
}

/** The entry script of an npm package from its `bin` field. */
export function npmBinPath(identifier: string, manifest: { bin?: string | Record<string, string>; main?: string }): string {
  const { bin } = manifest;
  if (typeof bin === "string") return bin;
  if (bin && typeof bin === "object") {
    const entries = Object.entries(bin);
    const unscoped = identifier.slice(identifier.lastIndexOf("/") + 1);
    const chosen = entries.find(([name]) => name === unscoped) ?? (entries.length === 1 ? entries[0] : undefined) ?? entries[0];
    if (chosen) return chosen[1];
  }
  if (manifest.main) return manifest.main;
  throw new LaunchError("PREPARE_FAILED", `npm package ${identifier} declares no bin and no main`, "Check that the package is an MCP server runnable with npx.");
}

/** Makes each server version ready to start with no download: derived images cached by content hash. */
export class PackagePreparer {
  private readonly docker: Docker;
  private readonly logger: Logger;
  private readonly base: BaseImages;
  private readonly inflight = new Map<string, Promise<PreparedPackage>>();
  private readonly done = new Map<string, PreparedPackage>();

  constructor(private readonly options: PackagePreparerOptions) {
    this.docker = options.docker;
    this.logger = options.logger;
    this.base = { ...DEFAULT_BASE_IMAGES, ...options.baseImages };
  }

  /** The prepared artifact if this server version is ready, without doing anything. */
  peek(server: RegistryServer): PreparedPackage | undefined {
    return this.done.get(server.hash);
  }

  async prepare(server: RegistryServer, onProgress: (message: string) => void = () => undefined): Promise<PreparedPackage> {
    const ready = this.done.get(server.hash);
    if (ready) return ready;
    let pending = this.inflight.get(server.hash);
    if (!pending) {
      pending = this.prepareUncached(server, onProgress).finally(() => this.inflight.delete(server.hash));
      this.inflight.set(server.hash, pending);
    }
    const prepared = await pending;
    this.done.set(server.hash, prepared);
    return prepared;
  }

  private async prepareUncached(server: RegistryServer, onProgress: (message: string) => void): Promise<PreparedPackage> {
    const build = server.entry.router?.build;
    if (build) return this.prepareBuild(server, build, onProgress);
    const pkg = selectedPackage(server);
    switch (pkg.registryType) {
      case "npm":
        return this.prepareNpm(server, pkg, onProgress);
      case "pypi":
        return this.preparePypi(server, pkg, onProgress);
      case "oci":
        return this.prepareOci(server, pkg, onProgress);
      default:
        throw new LaunchError(
          "PACKAGE_UNSUPPORTED",
          `server ${server.prefix}: registryType ${pkg.registryType} is not supported`,
          "Use an npm, pypi or oci package.",
        );
    }
  }

  private async imageExists(ref: string): Promise<boolean> {
    try {
      await this.docker.getImage(ref).inspect();
      return true;
    } catch {
      return false;
    }
  }

  private async prepareOci(server: RegistryServer, pkg: Package, onProgress: (message: string) => void): Promise<PreparedPackage> {
    const image = ociReference(pkg);
    if (await this.imageExists(image)) {
      onProgress(`${server.prefix}: image ${image} is present`);
      return { image };
    }
    onProgress(`${server.prefix}: pulling ${image}`);
    try {
      const stream = await this.docker.pull(image);
      await this.follow(stream, onProgress);
    } catch (error) {
      throw new LaunchError("PREPARE_FAILED", `server ${server.prefix}: cannot pull image ${image}: ${(error as Error).message}`, "Check the image reference and that the engine can reach its registry, or load the image with `docker load`.", { cause: error });
    }
    return { image };
  }

  private async prepareNpm(server: RegistryServer, pkg: Package, onProgress: (message: string) => void): Promise<PreparedPackage> {
    if (!pkg.version) {
      throw new LaunchError("PREPARE_FAILED", `server ${server.prefix}: npm package ${pkg.identifier} has no version`, "Pin an exact `version` in the registry file.");
    }
    const scripts = this.options.npmInstallScripts === true;
    const key = preparedKey("npm", this.base.node, pkg, { scripts });
    const tag = `${PREPARED_REPO}:npm-${key}`;
    if (await this.imageExists(tag)) {
      onProgress(`${server.prefix}: ${pkg.identifier}@${pkg.version} is ready (${tag})`);
      return { image: tag };
    }
    const dir = join(this.options.dataDir, "packages", key);
    if (!existsSync(join(dir, ".complete"))) {
      onProgress(`${server.prefix}: installing ${pkg.identifier}@${pkg.version} with npm`);
      const staging = `${dir}.staging-${process.pid}-${Date.now()}`;
      await mkdir(staging, { recursive: true });
      await writeFile(join(staging, "package.json"), JSON.stringify({ name: "mcp-router-prepared", private: true }));
      const args = ["install", "--prefix", staging, "--no-audit", "--no-fund", "--omit=dev", "--no-package-lock", "--loglevel=error"];
      if (!scripts) args.push("--ignore-scripts");
      if (pkg.registryBaseUrl) args.push("--registry", pkg.registryBaseUrl);
      args.push(`${pkg.identifier}@${pkg.version}`);
      try {
        await execFileAsync(this.options.npmCommand ?? "npm", args);
      } catch (error) {
        await rm(staging, { recursive: true, force: true });
        throw new LaunchError("PREPARE_FAILED", `server ${server.prefix}: npm install of ${pkg.identifier}@${pkg.version} failed: ${lastLines((error as { stderr?: string }).stderr ?? (error as Error).message, 5)}`, "Check the package name and version, and that the npm registry is reachable.", { cause: error });
      }
      await rm(dir, { recursive: true, force: true });
      await rename(staging, dir);
      await writeFile(join(dir, ".complete"), new Date().toISOString());
    }
    const manifest = JSON.parse(await readFile(join(dir, "node_modules", pkg.identifier, "package.json"), "utf8")) as { bin?: string | Record<string, string>; main?: string };
    const binPath = npmBinPath(pkg.identifier, manifest);
    await writeFile(join(dir, "Dockerfile"), npmDockerfile(this.base.node, pkg.identifier, binPath.replace(/^\.\//, ""), key));
    onProgress(`${server.prefix}: building image ${tag} from ${this.base.node}`);
    await this.build(server, dir, ["Dockerfile", "node_modules"], tag, onProgress);
    return { image: tag };
  }

  private async preparePypi(server: RegistryServer, pkg: Package, onProgress: (message: string) => void): Promise<PreparedPackage> {
    const key = preparedKey("pypi", this.base.python, pkg);
    const tag = `${PREPARED_REPO}:pypi-${key}`;
    if (await this.imageExists(tag)) return { image: tag };
    const dir = join(this.options.dataDir, "packages", key);
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, "Dockerfile"), pypiDockerfile(this.base.python, pkg, key));
    onProgress(`${server.prefix}: building image ${tag} (uv pip install ${pkg.identifier}) from ${this.base.python}`);
    await this.build(server, dir, ["Dockerfile"], tag, onProgress);
    return { image: tag };
  }

  /**
   * `router.build`: the image is built from a Dockerfile in the registry repo, once per server
   * version (and build args), and found by its tag after that.
   */
  private async prepareBuild(server: RegistryServer, build: Build, onProgress: (message: string) => void): Promise<PreparedPackage> {
    const prepared = (image: string): PreparedPackage => (build.command?.length ? { image, entrypoint: [...build.command] } : { image });
    if (!server.root) {
      throw new LaunchError(
        "PREPARE_FAILED",
        `server ${server.prefix}: router.build needs the registry folder its paths are relative to, and this server was not loaded from one`,
        "Load the server with the registry loader (mcp-router validate/serve), which records its registry root.",
      );
    }
    const buildArgs = this.options.buildArgs ?? {};
    const tag = builtImageTag(server, buildArgs);
    if (await this.imageExists(tag)) {
      onProgress(`${server.prefix}: image ${tag} is ready (built earlier from ${build.dockerfile})`);
      return prepared(tag);
    }
    const root = server.root;
    const dockerfile = path.resolve(root, build.dockerfile);
    const contextDir = path.resolve(root, build.context ?? path.posix.dirname(build.dockerfile));
    const inContext = path.relative(contextDir, dockerfile);
    const argsText = Object.keys(buildArgs).length ? ` with ${Object.entries(buildArgs).map(([k, v]) => `${k}=${v}`).join(", ")}` : "";
    onProgress(`${server.prefix}: building image ${tag} from ${build.dockerfile}${argsText}`);

    // The engine reads the Dockerfile from the context it is sent; one that lies outside the
    // context is built from a staged copy of both (as `docker build -f` does).
    let staging: string | undefined;
    let context = contextDir;
    let dockerfileName = inContext.split(path.sep).join("/");
    if (inContext === ".." || inContext.startsWith(`..${path.sep}`) || path.isAbsolute(inContext)) {
      staging = join(this.options.dataDir, "builds", `${tag.slice(tag.indexOf(":") + 1)}.staging-${process.pid}-${Date.now()}`);
      await cp(contextDir, staging, { recursive: true });
      dockerfileName = ".mcp-router.Dockerfile";
      await copyFile(dockerfile, join(staging, dockerfileName));
      context = staging;
    }
    const tail: string[] = [];
    const started = Date.now();
    try {
      const stream = await this.docker.buildImage(
        { context, src: await listContextFiles(context) },
        {
          t: tag,
          dockerfile: dockerfileName,
          buildargs: buildArgs,
          rm: true,
          forcerm: true,
          labels: { "dev.mcp-router.managed": "true", "dev.mcp-router.server": server.prefix, "dev.mcp-router.revision": server.hash },
        },
      );
      await this.follow(stream, (text) => {
        for (const line of text.split(/\r?\n/)) {
          if (!line.trim()) continue;
          tail.push(line);
          if (tail.length > BUILD_TAIL_LINES) tail.shift();
          onProgress(`${server.prefix}: ${line}`);
        }
      });
    } catch (error) {
      const message = (error as Error).message.trim();
      const output = tail.filter((line) => line !== message);
      // A base image that cannot be pulled fails in the first step, within a second: say how to build offline.
      const unpullable = /no such host|pull access denied|manifest unknown|registry-1\.docker\.io|dial tcp/i.test(message) && output.some((line) => /^Step \d+\/\d+ : FROM /.test(line));
      throw new LaunchError(
        "PREPARE_FAILED",
        `server ${server.prefix}: building image ${tag} from ${build.dockerfile}${argsText} failed: ${message}${output.length ? `\nlast build output:\n${output.join("\n")}` : ""}`,
        unpullable
          ? "Its base image cannot be pulled from here (no image registry reachable?). Put a base image on the engine and name it with MCP_ROUTER_BUILD_ARGS=BASE_IMAGE=<tag> (the README's \"Offline\" section has a recipe for python_sandbox); the daemon retries on its own."
          : `Check the Dockerfile (\`docker build -f ${dockerfile} ${contextDir}\` reproduces the build), that its base image is on the engine or can be pulled (build args such as BASE_IMAGE choose another), and that any package mirror it uses is reachable.`,
        { cause: error },
      );
    } finally {
      if (staging) await rm(staging, { recursive: true, force: true });
    }
    if (!(await this.imageExists(tag))) {
      throw new LaunchError("PREPARE_FAILED", `server ${server.prefix}: the build of ${tag} ended without an image${tail.length ? `; last build output:\n${tail.join("\n")}` : ""}`, "Run the build by hand with `docker build` to see what happened.");
    }
    this.logger.info({ server: server.prefix, image: tag, ms: Date.now() - started }, "built image from the registry");
    onProgress(`${server.prefix}: built ${tag} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    return prepared(tag);
  }

  private async build(server: RegistryServer, context: string, src: string[], tag: string, onProgress: (message: string) => void): Promise<void> {
    try {
      const stream = await this.docker.buildImage({ context, src }, { t: tag, rm: true, forcerm: true, labels: { "dev.mcp-router.managed": "true" } });
      await this.follow(stream, onProgress);
    } catch (error) {
      throw new LaunchError("PREPARE_FAILED", `server ${server.prefix}: building image ${tag} failed: ${(error as Error).message}`, "Check that the base image is present on the engine (see the launcher's base image options).", { cause: error });
    }
    this.logger.info({ server: server.prefix, image: tag }, "prepared image");
  }

  private follow(stream: NodeJS.ReadableStream, onProgress: (message: string) => void): Promise<void> {
    return new Promise((resolve, reject) => {
      this.docker.modem.followProgress(
        stream,
        (error: Error | null, output: Array<{ error?: string }>) => {
          const failed = output?.find((event) => event.error);
          if (error) reject(error);
          else if (failed?.error) reject(new Error(failed.error));
          else resolve();
        },
        (event: { stream?: string; status?: string; progress?: string; error?: string }) => {
          const text = (event.stream ?? event.status ?? "").trim();
          if (text) onProgress(event.progress ? `${text} ${event.progress}` : text);
        },
      );
    });
  }
}

function execFileAsync(command: string, args: string[]): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) reject(Object.assign(error, { stderr }));
      else resolve({ stdout, stderr });
    });
  });
}

/** Every file under a build context, relative and `/`-separated (dockerode tars exactly these; it applies .dockerignore). */
async function listContextFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile() || e.isSymbolicLink())
    .map((e) => path.relative(dir, join(e.parentPath, e.name)).split(path.sep).join("/"))
    .sort();
}

function lastLines(text: string, n: number): string {
  return text.split(/\r?\n/).filter((l) => l.trim()).slice(-n).join(" | ");
}
