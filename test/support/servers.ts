/** RegistryServer objects for tests, built directly (no loader). */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { join } from "node:path";
import { toRegistryYaml } from "../../src/registry/server-json.js";
import type { Package, RegistryFile, RegistryServer, Router } from "../../src/registry/types.js";

export function testServer(prefix: string, pkg: Package, router: Omit<Router, "prefix"> = {}): RegistryServer {
  const entry: RegistryFile = {
    name: `dev.mcp-router.test/${prefix}`,
    description: `test server ${prefix}`,
    version: "1.0.0",
    packages: [pkg],
    router: { prefix, ...router },
  };
  const hash = createHash("sha256").update(JSON.stringify(entry)).digest("hex");
  return { prefix, name: entry.name, file: `servers/${prefix}.yaml`, hash, entry };
}

const require = createRequire(import.meta.url);

/** The version of an npm package installed in this repo (so tests prepare what is pinned here). */
export function installedVersion(identifier: string): string {
  const path = require.resolve(`${identifier}/package.json`);
  return (JSON.parse(readFileSync(path, "utf8")) as { version: string }).version;
}

export function npmPackage(identifier: string, extra: Partial<Package> = {}): Package {
  return { registryType: "npm", identifier, version: installedVersion(identifier), runtimeHint: "npx", transport: { type: "stdio" }, ...extra };
}

export function ociPackage(image: string, extra: Partial<Package> = {}): Package {
  return { registryType: "oci", identifier: image, runtimeHint: "docker", transport: { type: "stdio" }, ...extra };
}

/** Writes these servers as registry files (`<dir>/servers/<prefix>.yaml`), as a registry repo holds them. */
export async function writeRegistry(dir: string, servers: readonly RegistryServer[]): Promise<void> {
  await mkdir(join(dir, "servers"), { recursive: true });
  await Promise.all(servers.map((server) => writeFile(join(dir, "servers", `${server.prefix}.yaml`), toRegistryYaml(server.entry))));
}
