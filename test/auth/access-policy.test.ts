/**
 * The access policy on its own: `access.yaml` parsed and validated with located, hinted errors
 * (and found by the loader beside `servers/`, never taken for a server file), and what it means
 * for each kind of principal (who selectors, server and name globs, the default of every tool,
 * the local operator never restricted, the error that names the missing grant).
 */
import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { readFile } from "node:fs/promises";
import { AccessPolicy, globMatcher } from "../../src/auth/access-policy.js";
import { formatStatus } from "../../src/cli/format-status.js";
import type { Principal } from "../../src/auth/principal.js";
import { ANONYMOUS_PRINCIPAL, apiKeyPrincipal, LOCAL_PRINCIPAL } from "../../src/auth/principal.js";
import { parseAccessFile } from "../../src/registry/access-file.js";
import { loadRegistry } from "../../src/registry/loader.js";
import { ACCESS_TYPES_FILE, generateAccessTypes } from "../../scripts/registry-types.js";

const oauth = (subject: string, groups: string[] = []): Principal => ({ kind: "oauth", id: `oauth:${subject}`, subject, issuer: "https://auth.example.com", scopes: [], groups, expiresAt: 0 });

const POLICY = `grants:
  - who: ["group:eng"]
    servers: ["memory", "git*"]
  - who: ["subject:bob"]
    servers: ["memory"]
    tools: ["read_*", "search"]
    prompts: ["none"]
    resources: ["memory://notes/*"]
  - who: ["key:0123abcd", "anonymous"]
    servers: ["*"]
    tools: ["whoami"]
limits:
  - who: ["*"]
    rate: 60/minute
`;

describe("access.yaml: parsing and validation", () => {
  it("accepts a valid file and says nothing", () => {
    const load = parseAccessFile("registry/access.yaml", "access.yaml", POLICY);
    assert.deepEqual(load.diagnostics, []);
    assert.equal(load.policy?.grants.length, 3);
  });

  it("locates each problem at its line with a hint: a bad who, a bad rate, an unknown field, a missing servers", () => {
    const text = `grants:
  - who: ["alice"]
    servers: ["memory"]
  - who: ["*"]
    tool: ["x"]
limits:
  - who: ["*"]
    rate: 10 per minute
extra: true
`;
    const { policy, diagnostics } = parseAccessFile("registry/access.yaml", "access.yaml", text);
    assert.equal(policy, undefined);
    const byPath = Object.fromEntries(diagnostics.map((d) => [d.path, d]));
    assert.equal(byPath["grants[0].who[0]"]?.line, 2);
    assert.match(byPath["grants[0].who[0]"]?.message ?? "", /must be `\*`, `anonymous`, `key:<8 hex chars>`, `subject:<token subject>` or `group:<group or role>`/);
    assert.match(byPath["grants[0].who[0]"]?.hint ?? "", /sha256sum/);
    assert.equal(byPath["grants[1].tool"]?.line, 5);
    assert.match(byPath["grants[1].tool"]?.hint ?? "", /Did you mean `tools`\?/);
    assert.equal(byPath["grants[1].servers"]?.rule, "schema.required");
    assert.equal(byPath["limits[0].rate"]?.line, 8);
    assert.match(byPath["limits[0].rate"]?.message ?? "", /60\/minute/);
    assert.equal(byPath["extra"]?.line, 9);
    assert.equal(byPath["extra"]?.hint, "The file has `grants` and `limits` only.");
  });

  it("refuses YAML syntax errors and alias bombs with a located error", () => {
    assert.equal(parseAccessFile("a.yaml", "access.yaml", "grants:\n  - who: [\n").diagnostics[0]?.rule, "yaml.syntax");
    const bomb = `a: &a ["x","x","x","x","x","x","x","x"]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b]\ngrants: [*c,*c,*c,*c,*c,*c,*c,*c]\n`;
    assert.equal(parseAccessFile("a.yaml", "access.yaml", bomb).diagnostics[0]?.rule, "yaml.alias-bomb");
  });

  it("keeps its generated types in step with the schema", async () => {
    assert.equal(await readFile(ACCESS_TYPES_FILE, "utf8"), await generateAccessTypes());
  });

  describe("found by the loader", () => {
    let dir: string;
    before(async () => {
      dir = await mkdtemp(join(tmpdir(), "mcp-router-access-"));
    });
    after(() => rm(dir, { recursive: true, force: true }));

    it("refuses a symlinked, oversized or binary access file by name", async () => {
      const hostile = await mkdtemp(join(tmpdir(), "mcp-router-access-hostile-"));
      try {
        await symlink("/etc/hostname", join(hostile, "access.yaml"));
        assert.equal((await loadRegistry(hostile)).access?.diagnostics[0]?.rule, "file.symlink");
        await rm(join(hostile, "access.yaml"));
        await writeFile(join(hostile, "access.yaml"), Buffer.alloc(1024 * 1024 + 1, "#"));
        assert.equal((await loadRegistry(hostile)).access?.diagnostics[0]?.rule, "file.too-large");
        await writeFile(join(hostile, "access.yaml"), Buffer.from([0x67, 0x00, 0x01]));
        assert.equal((await loadRegistry(hostile)).access?.diagnostics[0]?.rule, "file.binary");
      } finally {
        await rm(hostile, { recursive: true, force: true });
      }
    });

    it("at the registry's root, its problems among the registry's, never as a server file", async () => {
      await writeFile(join(dir, "access.yaml"), "grants:\n  - who: [nobody]\n    servers: [x]\n");
      const flat = await loadRegistry(dir, { displayRoot: "reg" });
      assert.deepEqual(flat.files, [], "a registry without servers/ keeps server files at its root: access.yaml is not one");
      assert.equal(flat.access?.file, "access.yaml");
      assert.deepEqual(flat.diagnostics.map((d) => `${d.file}:${d.line} ${d.path}`), ["reg/access.yaml:2 grants[0].who[0]"]);
      await mkdir(join(dir, "servers"));
      await writeFile(join(dir, "access.yaml"), POLICY);
      const nested = await loadRegistry(dir);
      assert.equal(nested.access?.policy?.grants.length, 3);
      assert.deepEqual(nested.diagnostics, []);
    });
  });
});

describe("access policy: who may use what", () => {
  const policy = new AccessPolicy(parseAccessFile("a", "access.yaml", POLICY).policy);

  it("grants by group claim, with server globs and every tool by default", () => {
    const alice = policy.accessFor(oauth("alice", ["eng"]));
    assert.equal(alice.unrestricted, false);
    assert.ok(alice.allows("tool", "memory", "delete_everything"));
    assert.ok(alice.allows("tool", "github", "create_issue"));
    assert.ok(alice.allows("prompt", "git", "commit-message"));
    assert.equal(alice.server("fetch"), false);
    assert.equal(alice.allows("tool", "fetch", "fetch"), false);
  });

  it("grants by subject with tool, prompt and resource globs", () => {
    const bob = policy.accessFor(oauth("bob"));
    assert.ok(bob.allows("tool", "memory", "read_graph"));
    assert.ok(bob.allows("tool", "memory", "search"));
    assert.equal(bob.allows("tool", "memory", "searches"), false, "a glob is anchored");
    assert.equal(bob.allows("tool", "memory", "create_entities"), false);
    assert.equal(bob.allows("prompt", "memory", "summarise"), false);
    assert.ok(bob.allows("resource", "memory", "memory://notes/today"));
    assert.equal(bob.allows("resource", "memory", "memory://secrets/x"), false);
  });

  it("grants by API key id and to anonymous callers; nobody else gets anything", () => {
    assert.ok(policy.accessFor(apiKeyPrincipal("0123abcd")).allows("tool", "fetch", "whoami"));
    assert.equal(policy.accessFor(apiKeyPrincipal("0123abcd")).allows("tool", "fetch", "fetch"), false);
    assert.ok(policy.accessFor(ANONYMOUS_PRINCIPAL).allows("tool", "x", "whoami"));
    const stranger = policy.accessFor(apiKeyPrincipal("ffffffff"));
    assert.equal(stranger.server("memory"), false);
    assert.equal(policy.accessFor(oauth("carol", ["sales"])).server("memory"), false);
  });

  it("never restricts the local operator, and restricts nobody without a file", () => {
    assert.equal(policy.accessFor(LOCAL_PRINCIPAL).unrestricted, true);
    assert.equal(AccessPolicy.OPEN.accessFor(apiKeyPrincipal("ffffffff")).unrestricted, true);
    assert.equal(AccessPolicy.OPEN.restricted, false);
  });

  it("gives principals with the same grants the same key (their filtered lists are shared)", () => {
    assert.equal(policy.accessFor(oauth("alice", ["eng"])).key, policy.accessFor(oauth("dave", ["eng"])).key);
    assert.notEqual(policy.accessFor(oauth("alice", ["eng"])).key, policy.accessFor(oauth("bob")).key);
  });

  it("names the missing grant in its refusal", () => {
    assert.equal(
      AccessPolicy.denial(oauth("bob", ["ops"]), "tool", "memory", "create_entities"),
      'oauth:bob may not use tool "create_entities" of server "memory": no grant in the registry\'s access.yaml covers it (a grant with who: ["subject:bob" or one of its groups], servers: ["memory"], tools: ["create_entities"] would)',
    );
  });

  it("matches globs literally but for * and ?", () => {
    const m = globMatcher(["a.b", "c?d", "e*"]);
    assert.ok(m("a.b") && m("cxd") && m("e") && m("efg"));
    assert.ok(!m("axb") && !m("cd") && !m("xe"));
  });
});

describe("mcp-router status", () => {
  const base = { source: "dir", ready: true, settled: true, reconciles: 1, failures: 0, servers: [] };
  it("shows the access policy's condition: none, applied, or broken with the last good one serving", () => {
    assert.match(formatStatus(base), /^access\n {2}no access\.yaml: every authenticated caller may use every server$/m);
    const since = new Date().toISOString();
    assert.match(formatStatus({ ...base, access: { file: "access.yaml", reason: "Applied", stale: false, message: "serving 3 grant(s), 1 limit(s)", since } }), /^ {2}access\.yaml {2}ok {2}since \d+s ago\n {6}serving 3 grant\(s\), 1 limit\(s\)$/m);
    assert.match(formatStatus({ ...base, access: { file: "access.yaml", reason: "ValidationFailed", stale: true, message: "registry/access.yaml:2:10  grants[0].who[0]: must be", since } }), /^ {2}access\.yaml {2}STALE \(the last good version serves\)/m);
    assert.match(formatStatus({ ...base, access: { file: "access.yaml", reason: "ValidationFailed", stale: false, message: "x", since } }), /FAILED \(nothing is granted\)/);
  });
});
