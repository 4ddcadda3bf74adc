/**
 * The daemon's standard launcher: every kind of server behind one Launcher. Containers (Docker,
 * created lazily so an engine that comes up after the daemon is picked up), remotes, OpenAPI.
 * `serve`, `stdio`, `call`, `tools` and `propose --verify` all launch through this one function.
 */
import type { Logger } from "pino";
import type { Launcher } from "../launch/launcher.js";
import type { SecretSource } from "../secrets/secret-source.js";

export interface DockerSettings {
  /** Owner label of our containers; reaping touches only the same owner (default `default`). */
  owner?: string;
  /** Base image for npm servers; default: `node:24-slim`, or one made from this machine's node when that cannot be pulled. */
  nodeImage?: string;
  /** Base image for PyPI servers. */
  pythonImage?: string;
  /** Pre-started containers for per-call servers (default on). */
  pool?: boolean;
  /** Build args for every `router.build` image, e.g. `{BASE_IMAGE: "local/python-sci:bookworm"}`. */
  buildArgs?: Record<string, string>;
}

export interface CreateLauncherOptions {
  logger: Logger;
  secrets: SecretSource;
  /** Prepared packages live under it. */
  dataDir: string;
  docker?: DockerSettings;
  /** Remotes, OpenAPI targets and egress may reach loopback, private and link-local addresses (operator policy `network.privateTargets`; default no). */
  privateTargets?: boolean;
}

export async function createLauncher(options: CreateLauncherOptions): Promise<Launcher> {
  const { logger, secrets } = options;
  const [{ CompositeLauncher }, { DeferredLauncher }, { RemoteLauncher }, { OpenApiLauncher }, { publicOnlyDispatcher, publicOnlyFetch }] = await Promise.all([
    import("../launch/composite-launcher.js"),
    import("../launch/deferred-launcher.js"),
    import("../launch/remote/remote-launcher.js"),
    import("../launch/openapi/openapi-launcher.js"),
    import("../launch/target-guard.js"),
  ]);
  const guarded = options.privateTargets !== true;
  const docker = await new DeferredLauncher({
    create: () => createDockerLauncher(options),
    onRecovered: () => logger.info("a Docker engine answers now: container servers are being prepared"),
  }).start();
  const reason = docker.unavailableReason;
  if (reason) logger.warn({ hint: reason.hint }, `${reason.message.split(" (ENGINE_UNAVAILABLE)")[0]}: container servers start once it does`);
  return new CompositeLauncher({
    docker,
    remote: new RemoteLauncher({ secrets, logger, ...(guarded ? { fetch: publicOnlyFetch() } : {}) }),
    openapi: new OpenApiLauncher({ secrets, logger, ...(guarded ? { dispatcher: publicOnlyDispatcher() } : {}) }),
  });
}

async function createDockerLauncher({ logger, secrets, dataDir, docker: settings = {}, privateTargets }: CreateLauncherOptions): Promise<Launcher> {
  const [{ default: Docker }, { DockerLauncher }, { resolveNodeBaseImage }, { DEFAULT_BASE_IMAGES }] = await Promise.all([
    import("dockerode"),
    import("../launch/docker/docker-launcher.js"),
    import("../launch/docker/base-image.js"),
    import("../launch/docker/package-preparer.js"),
  ]);
  const docker = new Docker();
  await docker.ping().catch((error: Error) => {
    throw Object.assign(new Error(`no Docker engine answers (${error.message})`), {
      hint: "Start Docker (Debian: `bash .ci/docker-up.sh` installs and starts one) or point DOCKER_HOST at a running engine; the daemon picks it up without a restart.",
    });
  });
  // An explicit image is used as given; the default falls back to one made from this machine's node when it cannot be pulled.
  const node = settings.nodeImage ?? (await resolveNodeBaseImage(docker, DEFAULT_BASE_IMAGES.node, logger));
  return DockerLauncher.create({
    docker,
    logger,
    secrets,
    dataDir,
    baseImages: { node, ...(settings.pythonImage ? { python: settings.pythonImage } : {}) },
    ...(settings.owner ? { owner: settings.owner } : {}),
    ...(settings.pool === false ? { pool: false as const } : {}),
    ...(settings.buildArgs ? { buildArgs: settings.buildArgs } : {}),
    ...(privateTargets ? { privateTargets: true } : {}),
  });
}
