import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { lookupPackage, newestVersion, resolveWithRegistry, type RegistryLookupOptions } from "../../src/propose/registry-lookup.js";

/** Recorded shapes (trimmed) of the real registries' answers. */
const NPM_ABBREVIATED = { name: "@brave/brave-search-mcp-server", "dist-tags": { latest: "2.0.58" }, versions: { "2.0.57": { name: "@brave/brave-search-mcp-server", version: "2.0.57" }, "2.0.58": { name: "@brave/brave-search-mcp-server", version: "2.0.58" } }, modified: "2025-10-01T10:00:00.000Z" };
const PYPI_JSON = { info: { name: "mcp-server-qdrant", version: "0.8.1", requires_python: ">=3.10" }, releases: { "0.8.0": [{ filename: "mcp_server_qdrant-0.8.0.tar.gz" }], "0.8.1": [{ filename: "mcp_server_qdrant-0.8.1.tar.gz" }] } };
const HUB_TAGS = { count: 3, next: null, results: [{ name: "latest" }, { name: "1.25.0" }, { name: "1.24.2" }] };
const GHCR_TOKEN = { token: "djE6Z2l0aHViL2dpdGh1Yi1tY3Atc2VydmVyOjE3MDAwMDAwMDA=" };
const GHCR_TAGS = { name: "github/github-mcp-server", tags: ["main", "sha-1a2b3c4", "v0.9.0", "v0.10.1", "0.10.0"] };

describe("registry lookup (real HTTP server on port 0, recorded shapes)", () => {
  let server: Server;
  let base: string;
  const seen: { url: string; auth?: string; accept?: string }[] = [];
  before(async () => {
    server = createServer((req, res) => {
      seen.push({ url: req.url ?? "", ...(req.headers.authorization ? { auth: req.headers.authorization } : {}), ...(req.headers.accept ? { accept: req.headers.accept } : {}) });
      const send = (status: number, body: unknown) => res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
      const url = req.url ?? "";
      if (url === "/npm/@brave%2Fbrave-search-mcp-server") return send(200, NPM_ABBREVIATED);
      if (url === "/pypi/pypi/mcp-server-qdrant/json") return send(200, PYPI_JSON);
      if (url.startsWith("/hub/v2/repositories/sonarsource/sonarqube-mcp/tags")) return send(200, HUB_TAGS);
      if (url.startsWith("/ghcr/token")) return send(200, GHCR_TOKEN);
      if (url === "/ghcr/v2/github/github-mcp-server/tags/list") return req.headers.authorization ? send(200, GHCR_TAGS) : send(401, { errors: [{ code: "UNAUTHORIZED" }] });
      return send(404, { error: "Not found" });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((r) => server.close(() => r())));
  const options = (): RegistryLookupOptions => ({
    fetch: (url, init) => fetch(url, init),
    npmBaseUrl: `${base}/npm`,
    pypiBaseUrl: `${base}/pypi`,
    dockerHubBaseUrl: `${base}/hub`,
    ociBaseUrls: { "ghcr.io": `${base}/ghcr` },
  });

  it("reads npm's abbreviated metadata: latest and whether a version is published", async () => {
    const r = await lookupPackage({ registryType: "npm", identifier: "@brave/brave-search-mcp-server", version: "2.0.57" }, options());
    assert.deepEqual(r, { registryType: "npm", identifier: "@brave/brave-search-mcp-server", exists: true, latest: "2.0.58", versionPublished: true });
    assert.match(seen.at(-1)?.accept ?? "", /application\/vnd\.npm\.install-v1\+json/);
    const missing = await lookupPackage({ registryType: "npm", identifier: "no-such-mcp-package" }, options());
    assert.equal(missing.exists, false);
    assert.match(missing.error ?? "", /not on npm/);
  });

  it("reads PyPI's JSON API, Docker Hub tags and an OCI registry's tags behind a token", async () => {
    const py = await lookupPackage({ registryType: "pypi", identifier: "mcp-server-qdrant", version: "0.9.9" }, options());
    assert.equal(py.latest, "0.8.1");
    assert.equal(py.versionPublished, false);
    const hub = await lookupPackage({ registryType: "oci", identifier: "docker.io/sonarsource/sonarqube-mcp" }, options());
    assert.equal(hub.latest, "1.25.0");
    const ghcr = await lookupPackage({ registryType: "oci", identifier: "ghcr.io/github/github-mcp-server:0.10.0" }, options());
    assert.equal(ghcr.latest, "0.10.1");
    assert.equal(ghcr.versionPublished, true);
    assert.ok(seen.some((s) => s.auth === `Bearer ${GHCR_TOKEN.token}`));
  });

  it("fills an unresolved version from the registry, and turns an unreachable registry into a reviewer TODO", async () => {
    const entry = { name: "io.github.o/r", description: "d", version: "0.0.0-unresolved", packages: [{ registryType: "pypi", identifier: "mcp-server-qdrant", version: "0.0.0-unresolved", transport: { type: "stdio" as const } }] };
    const ok = await resolveWithRegistry(entry, "0.0.0-unresolved", options());
    assert.equal(ok.resolved, true);
    assert.equal(ok.entry.version, "0.8.1");
    assert.equal(ok.entry.packages?.[0]?.version, "0.8.1");
    const down = await resolveWithRegistry(entry, "0.0.0-unresolved", { fetch: async () => Promise.reject(new Error("connect ECONNREFUSED")) });
    assert.equal(down.resolved, false);
    assert.equal(down.entry.version, "0.0.0-unresolved");
    assert.match(down.todos[0] ?? "", /still unknown: registry unreachable: connect ECONNREFUSED/);
  });

  it("picks the newest x.y.z tag", () => {
    assert.equal(newestVersion(["latest", "v1.2.10", "1.2.9", "sha-abc", "main"]), "1.2.10");
    assert.equal(newestVersion(["latest"]), undefined);
  });
});
