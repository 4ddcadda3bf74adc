import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { DEFAULT_POLICY, parsePolicy } from "../../src/registry/policy.js";
import { privilegeMarkdown, privilegeSummary, privilegeText, type PrivilegeItem } from "../../src/registry/privileges.js";
import type { RegistryFile } from "../../src/registry/types.js";

const base = { name: "io.github.acme/tool", description: "A tool", version: "1.2.3" };

function packageFile(router: Record<string, unknown> = {}, pkg: Record<string, unknown> = {}): RegistryFile {
  return {
    ...base,
    packages: [{ registryType: "npm", identifier: "@acme/tool", version: "1.2.3", runtimeHint: "npx", transport: { type: "stdio" }, ...pkg }],
    router: { prefix: "tool", ...router },
  } as RegistryFile;
}

const find = (items: PrivilegeItem[], setting: string, detail?: RegExp) => items.filter((i) => i.setting === setting && (!detail || detail.test(i.detail)));

describe("privilege summary", () => {
  it("shows every kind of privilege a package file can ask for, marking what goes beyond the defaults", () => {
    const entry = packageFile(
      {
        network: { allow: ["api.acme.com", "*.acme-cdn.net"] },
        mounts: [{ source: "/srv/docs", target: "/docs" }],
        lifecycle: "per-session",
        limits: { memory: "1g", cpus: 0.5, pids: 64, timeoutSeconds: 300, tmpfs: "32m", concurrency: 4 },
      },
      {
        runtimeArguments: [{ type: "named", name: "--init" }],
        packageArguments: [{ type: "named", name: "--root", value: "/docs" }, { type: "positional", valueHint: "path" }],
        environmentVariables: [
          { name: "ACME_TOKEN", description: "API token for acme.com", isRequired: true, isSecret: true },
          { name: "ACME_REGION", description: "Region", default: "eu" },
          { name: "ACME_MODE", value: "fast" },
        ],
      },
    );
    const s = privilegeSummary(entry);
    assert.deepEqual(find(s.items, "secret").map((i) => [i.detail, i.why, i.warn]), [["`ACME_TOKEN` (required)", "API token for acme.com", false]]);
    assert.deepEqual(find(s.items, "store value").map((i) => i.detail), ["`ACME_REGION` (optional)"]);
    assert.deepEqual(find(s.items, "environment variable").map((i) => i.detail), ["`ACME_MODE` (a fixed value in the file)"]);
    assert.match(find(s.items, "network")[0]!.detail, /only `api\.acme\.com`, `\*\.acme-cdn\.net`/);
    const mount = find(s.items, "mount")[0]!;
    assert.equal(mount.detail, "host `/srv/docs` → `/docs` (read-only)");
    assert.equal(mount.warn, true);
    const lifecycle = find(s.items, "lifecycle")[0]!;
    assert.equal(lifecycle.warn, true);
    assert.match(lifecycle.note ?? "", /state is shared between calls/);
    const limits = Object.fromEntries(find(s.items, "limit").map((i) => [i.detail, i.warn]));
    assert.deepEqual(limits, { "memory 1g": true, "tmpfs 32m": false, "cpus 0.5": false, "pids 64": false, "timeoutSeconds 300": true, "at most 4 at once": false });
    assert.deepEqual(find(s.items, "runtime argument").map((i) => [i.detail, i.warn]), [["`--init`", false]]);
    assert.deepEqual(find(s.items, "package argument").map((i) => i.detail), ["`--root /docs`", "`<path>`"]);
    assert.equal(s.refusedCount, 0, "no policy given, and the rules refuse nothing");
    assert.equal(s.policy, undefined);
  });

  it("shows a remote's URL, its headers and the variables inside header templates", () => {
    const entry = {
      ...base,
      remotes: [
        {
          type: "streamable-http",
          url: "https://{tenant}.acme.com/mcp",
          variables: { tenant: { description: "Your tenant", isRequired: true } },
          headers: [
            { name: "Authorization", value: "Bearer {token}", variables: { token: { isSecret: true, isRequired: true, description: "Acme token" } } },
            { name: "X-Api-Key", isSecret: true, isRequired: true, description: "Key" },
          ],
        },
      ],
      router: { prefix: "tool" },
    } as RegistryFile;
    const s = privilegeSummary(entry);
    assert.deepEqual(find(s.items, "remote").map((i) => i.detail), ["streamable-http `https://{tenant}.acme.com/mcp`"]);
    assert.deepEqual(find(s.items, "header").map((i) => i.detail), ["`Authorization`: template `Bearer {token}`", "`X-Api-Key`: from the store"]);
    assert.deepEqual(find(s.items, "store value").map((i) => [i.detail, i.why]), [["`tenant` (required)", "Your tenant"]]);
    assert.deepEqual(find(s.items, "secret").map((i) => [i.detail, i.path]), [
      ["`token` (required)", "remotes[0].headers[0].variables.token"],
      ["`X-Api-Key`, or `X_API_KEY` (required)", "remotes[0].headers[1]"],
    ]);
    assert.equal(find(s.items, "network").length, 0, "a remote's connections are the daemon's, not a container's egress");
  });

  it("shows an OpenAPI server's spec, base URL and credential, and a build's Dockerfile and command", () => {
    const openapi = privilegeSummary({ ...base, router: { prefix: "tool", openapi: { spec: "http://api.acme.com/openapi.json", baseUrl: "https://api.acme.com/v2", auth: { type: "apiKey", in: "header", name: "X-Key", secret: "ACME_KEY" } } } } as RegistryFile);
    assert.deepEqual(find(openapi.items, "openapi").map((i) => [i.detail, i.warn]), [
      ["spec `http://api.acme.com/openapi.json`", true],
      ["calls `https://api.acme.com/v2`", false],
      ["auth apiKey in header `X-Key`, secret `ACME_KEY`", false],
    ]);
    assert.deepEqual(find(openapi.items, "secret").map((i) => [i.detail, i.why]), [["`ACME_KEY` (required)", "OpenAPI apiKey credential"]]);
    const build = privilegeSummary({ ...base, router: { prefix: "tool", build: { dockerfile: "sandboxes/tool/Dockerfile", command: ["python", "-m", "tool"] } } } as RegistryFile);
    const item = find(build.items, "build")[0]!;
    assert.equal(item.detail, "image built from `sandboxes/tool/Dockerfile`, command `python -m tool`");
    assert.equal(item.warn, true);
  });

  it("marks secret names that are also the daemon's or CI's credentials, softly for GitHub's token", () => {
    const entry = packageFile({}, {
      environmentVariables: ["GITHUB_TOKEN", "ANTHROPIC_API_KEY", "AWS_SECRET_ACCESS_KEY", "NPM_TOKEN", "KUBECONFIG", "GITHUB_PERSONAL_ACCESS_TOKEN"].map((name) => ({ name, isSecret: true, isRequired: true })),
    });
    const notes = Object.fromEntries(privilegeSummary(entry).items.filter((i) => i.setting === "secret").map((i) => [i.detail.replace(/`/g, "").split(" ")[0], i.warn ? i.note : undefined]));
    assert.match(notes.GITHUB_TOKEN ?? "", /also the name CI runners .* use for their own token/);
    assert.match(notes.ANTHROPIC_API_KEY ?? "", /propose Action/);
    assert.match(notes.AWS_SECRET_ACCESS_KEY ?? "", /cloud account/);
    assert.match(notes.NPM_TOKEN ?? "", /publishing token/);
    assert.match(notes.KUBECONFIG ?? "", /cluster/);
    assert.equal(notes.GITHUB_PERSONAL_ACCESS_TOKEN, undefined, "a GitHub server's own token name is fine");
  });

  it("marks what the rules refuse, and with a policy what the policy refuses, naming the policy", () => {
    const entry = packageFile(
      { network: "bridge", mounts: [{ source: "/srv/docs", target: "/docs" }], limits: { memory: "4g" } },
      { runtimeArguments: [{ type: "named", name: "--privileged" }], environmentVariables: [{ name: "LD_PRELOAD", value: "/x.so" }] },
    );
    const rulesOnly = privilegeSummary(entry);
    assert.deepEqual(rulesOnly.items.filter((i) => i.refused).map((i) => i.setting).sort(), ["environment variable", "runtime argument"]);
    const strict = privilegeSummary(entry, { policy: DEFAULT_POLICY });
    assert.deepEqual(strict.items.filter((i) => i.refused).map((i) => i.setting).sort(), ["environment variable", "limit", "mount", "network", "runtime argument"]);
    assert.equal(strict.policy, "the default operator policy");
    const generous = parsePolicy("mounts: [/srv]\nnetwork: {bridge: true}\nlimits: {memory: 8g}\n", "/etc/mcp-router/policy.yaml");
    const allowed = privilegeSummary(entry, { policy: generous });
    assert.deepEqual(allowed.items.filter((i) => i.refused).map((i) => i.setting).sort(), ["environment variable", "runtime argument"]);
    assert.ok(allowed.items.find((i) => i.setting === "network")!.warn, "allowed, still marked");
    assert.match(privilegeText(allowed), /checked against the operator policy \/etc\/mcp-router\/policy\.yaml/);
  });

  it("never shows a value that could be secret, and escapes the file's text in markdown", () => {
    const entry = packageFile({}, {
      environmentVariables: [{ name: "ACME_MODE", value: "s3cr3t-looking-but-not-declared-secret", description: "mode | <img src=x onerror=alert(1)> [click](https://evil.example)" }],
      packageArguments: [{ type: "named", name: "--key", value: "argument-secret-value", isSecret: true }],
    });
    const s = privilegeSummary(entry);
    const md = privilegeMarkdown(s);
    const text = privilegeText(s);
    for (const out of [md, text, JSON.stringify(s)]) {
      assert.doesNotMatch(out, /s3cr3t-looking|argument-secret-value/);
    }
    assert.match(md, /`--key <secret>`/);
    assert.doesNotMatch(md, /<img/);
    assert.match(md, /mode \\\| &lt;img src=x onerror=alert\(1\)&gt; \\\[click\\\]/);
    for (const line of md.split("\n").filter((l) => l.startsWith("| ") && !l.startsWith("| ---"))) {
      assert.equal(line.replace(/\\\|/g, "").split("|").length, 7, `a row keeps its five cells: ${line}`);
    }
  });
});
