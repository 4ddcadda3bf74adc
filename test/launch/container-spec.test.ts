import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { LABELS, containerSpec, packageArgv, parseSize } from "../../src/launch/docker/container-spec.js";
import { timeoutMs } from "../../src/launch/limits.js";
import { isLaunchError } from "../../src/launch/errors.js";
import { staticSecretSource } from "../../src/secrets/secret-source.js";
import { npmPackage, testServer } from "../support/servers.js";

const noSecrets = staticSecretSource({}, "the test environment");

describe("containerSpec", () => {
  const base = testServer("memory", npmPackage("@modelcontextprotocol/server-memory"));

  it("hardens every container by default", () => {
    const { create } = containerSpec(base, { image: "img:1", secrets: noSecrets, owner: "t" });
    const host = create.HostConfig ?? {};
    assert.equal(create.Image, "img:1");
    assert.equal(create.User, "65534:65534");
    assert.equal(host.ReadonlyRootfs, true);
    assert.deepEqual(Object.keys(host.Tmpfs ?? {}), ["/tmp"]);
    assert.match(host.Tmpfs?.["/tmp"] ?? "", /size=67108864/);
    assert.deepEqual(host.CapDrop, ["ALL"]);
    assert.deepEqual(host.SecurityOpt, ["no-new-privileges"]);
    assert.equal(host.PidsLimit, 128);
    assert.equal(host.Memory, 512 * 1024 * 1024);
    assert.equal(host.MemorySwap, host.Memory);
    assert.equal(host.NanoCpus, 1e9);
    assert.equal(host.NetworkMode, "none");
    assert.equal(create.NetworkDisabled, true);
    assert.equal(host.Init, true);
    assert.equal(host.Privileged, false);
    assert.deepEqual(host.Binds, []);
    assert.equal(create.OpenStdin, true);
    assert.equal(create.StdinOnce, false);
    assert.equal(create.Tty, false);
    assert.deepEqual(create.Env, ["HOME=/tmp"]);
    assert.deepEqual(create.Cmd, []);
  });

  it("labels containers as ours with owner, prefix, revision and lifecycle", () => {
    const { create } = containerSpec(base, { image: "i", secrets: noSecrets, owner: "own" });
    assert.deepEqual(create.Labels, {
      [LABELS.managed]: "true",
      [LABELS.owner]: "own",
      [LABELS.server]: "memory",
      [LABELS.name]: base.name,
      [LABELS.revision]: base.hash,
      [LABELS.lifecycle]: "per-call",
      [LABELS.network]: "none",
    });
  });

  it("applies router.limits", () => {
    const server = testServer("x", npmPackage("@modelcontextprotocol/server-memory"), {
      limits: { memory: "1g", cpus: 0.5, pids: 32, tmpfs: "8m", timeoutSeconds: 5 },
    });
    const host = containerSpec(server, { image: "i", secrets: noSecrets, owner: "t" }).create.HostConfig ?? {};
    assert.equal(host.Memory, 1024 ** 3);
    assert.equal(host.NanoCpus, 5e8);
    assert.equal(host.PidsLimit, 32);
    assert.match(host.Tmpfs?.["/tmp"] ?? "", /size=8388608$/);
    assert.equal(timeoutMs(server), 5000);
    assert.equal(timeoutMs(base), 60_000);
  });

  it("network: bridge when declared; an allowlist joins the egress network with the proxy in env", () => {
    const bridge = testServer("b", npmPackage("@modelcontextprotocol/server-memory"), { network: "bridge" });
    const b = containerSpec(bridge, { image: "i", secrets: noSecrets, owner: "t" });
    assert.equal(b.create.HostConfig?.NetworkMode, "bridge");
    assert.equal(b.create.NetworkDisabled, false);
    assert.deepEqual(b.warnings, []);
    const allow = testServer("a", npmPackage("@modelcontextprotocol/server-memory"), { network: { allow: ["api.github.com:443"] } });
    const proxyUrl = "http://a:0123abcd@172.30.0.2:3128";
    const a = containerSpec(allow, { image: "i", secrets: noSecrets, owner: "t", egress: { network: "mcp-router-egress", proxyUrl } });
    assert.equal(a.create.HostConfig?.NetworkMode, "mcp-router-egress");
    assert.equal(a.create.NetworkDisabled, false);
    assert.equal(a.create.Labels?.[LABELS.network], "allow:api.github.com:443");
    for (const name of ["HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"]) assert.ok(a.create.Env?.includes(`${name}=${proxyUrl}`), name);
    assert.ok(a.create.Env?.includes("NODE_USE_ENV_PROXY=1"));
    assert.ok(a.secretValues.includes(proxyUrl), "the proxy credentials are scrubbed like secrets");
    assert.ok(!JSON.stringify(a.create.Cmd).includes("0123abcd"));
  });

  it("binds only declared mounts, read-only", () => {
    const server = testServer("fs", npmPackage("@modelcontextprotocol/server-filesystem"), {
      mounts: [{ source: "/srv/docs", target: "/data" }],
    });
    assert.deepEqual(containerSpec(server, { image: "i", secrets: noSecrets, owner: "t" }).create.HostConfig?.Binds, ["/srv/docs:/data:ro"]);
  });

  it("sets only declared env: secrets from the source, fixed values and defaults from the entry", () => {
    const server = testServer(
      "gh",
      npmPackage("@modelcontextprotocol/server-memory", {
        environmentVariables: [
          { name: "API_TOKEN", isSecret: true, isRequired: true },
          { name: "MEMORY_FILE_PATH", value: "/tmp/memory.jsonl" },
          { name: "LOG_LEVEL", default: "info" },
          { name: "OPTIONAL_SECRET", isSecret: true },
          { name: "URL", value: "https://{host}/api", variables: { host: { default: "example.org" } } },
        ],
      }),
    );
    const secrets = staticSecretSource({ API_TOKEN: "s3cr3t-value", UNDECLARED: "nope" });
    const spec = containerSpec(server, { image: "i", secrets, owner: "t" });
    assert.deepEqual(spec.create.Env, ["HOME=/tmp", "API_TOKEN=s3cr3t-value", "MEMORY_FILE_PATH=/tmp/memory.jsonl", "LOG_LEVEL=info", "URL=https://example.org/api"]);
    assert.deepEqual(spec.secretNames, ["API_TOKEN"]);
    assert.ok(!JSON.stringify(spec.create.Cmd).includes("s3cr3t"), "secrets never on the command line");
    assert.ok(!JSON.stringify(spec.create.Env).includes("UNDECLARED"));
  });

  it("a missing required secret fails with the variable's name and how to provide it, never a value", () => {
    const server = testServer(
      "gh",
      npmPackage("@modelcontextprotocol/server-memory", {
        environmentVariables: [
          { name: "GITHUB_TOKEN", isSecret: true, isRequired: true },
          { name: "OTHER", isSecret: true, isRequired: true },
        ],
      }),
    );
    assert.throws(
      () => containerSpec(server, { image: "i", secrets: staticSecretSource({ OTHER: "visible-secret" }, "the daemon's environment"), owner: "t" }),
      (error: unknown) => {
        assert.ok(isLaunchError(error, "SECRET_MISSING"));
        assert.match(error.message, /GITHUB_TOKEN/);
        assert.match(error.message, /the daemon's environment/);
        assert.match(error.message, /--secrets-file/);
        assert.doesNotMatch(error.message, /visible-secret/);
        assert.doesNotMatch(error.message, /OTHER/);
        return true;
      },
    );
  });

  it("builds argv from packageArguments and refuses secret arguments", () => {
    const server = testServer(
      "fs",
      npmPackage("@modelcontextprotocol/server-filesystem", {
        packageArguments: [
          { type: "named", name: "--mode", value: "ro" },
          { type: "named", name: "--verbose" },
          { type: "positional", value: "/data" },
          { type: "positional", valueHint: "extra", default: "/more" },
          { type: "positional", valueHint: "skipped" },
        ],
      }),
    );
    assert.deepEqual(packageArgv(server, server.entry.packages?.[0] ?? assert.fail(), noSecrets), ["--mode", "ro", "--verbose", "/data", "/more"]);
    const secret = testServer("s", npmPackage("@modelcontextprotocol/server-memory", { packageArguments: [{ type: "named", name: "--token", isSecret: true }] }));
    assert.throws(() => containerSpec(secret, { image: "i", secrets: noSecrets, owner: "t" }), /never passed on a command line/);
  });

  it("a server without a package at router.package fails with what to do", () => {
    const server = testServer("p", npmPackage("@modelcontextprotocol/server-memory"), { package: 3 });
    assert.throws(() => containerSpec(server, { image: "i", secrets: noSecrets, owner: "t" }), (e: unknown) => isLaunchError(e, "PACKAGE_MISSING"));
  });

  it("parses sizes", () => {
    assert.equal(parseSize("512"), 512);
    assert.equal(parseSize("4k"), 4096);
    assert.equal(parseSize("2g"), 2 * 1024 ** 3);
    assert.throws(() => parseSize("1.5g"));
  });
});
