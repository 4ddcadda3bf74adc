import assert from "node:assert/strict";
import { mkdir, mkdtemp, readdir, readFile, realpath, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, test } from "node:test";
import { fileURLToPath } from "node:url";
import { parse as parseYaml } from "yaml";
import { formatDiagnostic, formatGithubAnnotation } from "../../src/registry/diagnostic.js";
import { invalidHost } from "../../src/registry/file-rules.js";
import type { ParseCache } from "../../src/registry/loader.js";
import { loadRegistry } from "../../src/registry/loader.js";
import { parseRegistryFile } from "../../src/registry/parse-registry-file.js";
import { fromServerJson, suggestPrefix, toRegistryYaml, toServerJson } from "../../src/registry/server-json.js";
import { runCliInProcess } from "../support/cli.js";
import { generateRegistryTypes, TYPES_FILE } from "../../scripts/registry-types.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const BUNDLED = path.join(ROOT, "registry");
const SERVER_JSON = path.join(ROOT, "test/fixtures/server-json");

const temps: string[] = [];
after(() => Promise.all(temps.map((t) => rm(t, { recursive: true, force: true }))));

async function tempRegistry(files: Record<string, string | Buffer> = {}): Promise<string> {
  const root = await mkdtemp(path.join(tmpdir(), "mcp-router-reg-"));
  temps.push(root);
  await mkdir(path.join(root, "servers"));
  for (const [name, body] of Object.entries(files)) await writeFile(path.join(root, "servers", name), body);
  return root;
}

/** The CLI in-process (the same command tree src/bin.ts runs), with GitHub Actions annotations off unless asked. */
function cli(args: string[], opts: { env?: Record<string, string>; input?: string } = {}) {
  return runCliInProcess(args, { env: { GITHUB_ACTIONS: "", ...opts.env }, ...(opts.input !== undefined ? { input: opts.input } : {}) });
}

const VALID = `name: io.github.acme/weather
description: Weather forecasts
version: 1.2.0
packages:
  - registryType: npm
    identifier: "@acme/weather-mcp"
    version: 1.2.0
    transport:
      type: stdio
`;

test("every file of the bundled registry is valid", async () => {
  const load = await loadRegistry(BUNDLED);
  assert.deepEqual(load.diagnostics.map(formatDiagnostic), []);
  assert.ok(load.servers.length >= 9);
  const byPrefix = new Map(load.servers.map((s) => [s.prefix, s]));
  for (const prefix of ["everything", "memory", "filesystem", "sequential-thinking", "fetch", "git", "time", "github", "deepwiki"]) {
    assert.ok(byPrefix.has(prefix), `registry/servers/${prefix}.yaml is missing`);
  }
  const github = byPrefix.get("github")?.entry;
  const token = github?.packages?.[0]?.environmentVariables?.find((v) => v.name === "GITHUB_PERSONAL_ACCESS_TOKEN");
  assert.equal(token?.isSecret, true);
  assert.equal(github?.packages?.[0]?.registryType, "oci");
  assert.equal(byPrefix.get("deepwiki")?.entry.remotes?.[0]?.type, "streamable-http");
  for (const s of load.servers) {
    for (const p of s.entry.packages ?? []) {
      if (p.registryType !== "oci") assert.match(p.version ?? "", /^\d+\.\d+\.\d+$/, `${s.file} pins an exact version`);
    }
  }
});

test("every bundled file points editors at the schema", async () => {
  for (const f of await readdir(path.join(BUNDLED, "servers"))) {
    const text = await readFile(path.join(BUNDLED, "servers", f), "utf8");
    assert.match(text, /^# yaml-language-server: \$schema=\.\.\/\.\.\/schemas\/server\.schema\.json$/m, f);
  }
});

test("the generated types match the schema (regenerate with npm run gen:types)", async () => {
  assert.equal(await readFile(TYPES_FILE, "utf8"), await generateRegistryTypes());
});

test("a valid file yields a server with its prefix, name and a content hash", async () => {
  const root = await tempRegistry({ "weather.yaml": VALID, "weather-copy.yaml": `# a comment changes nothing\n${VALID.replace("acme/weather", "acme/weather2")}` });
  const load = await loadRegistry(root);
  assert.deepEqual(load.diagnostics, []);
  const [copy, weather] = load.servers;
  assert.equal(weather?.prefix, "weather");
  assert.equal(weather?.file, "servers/weather.yaml");
  assert.equal(weather?.name, "io.github.acme/weather");
  assert.match(weather?.hash ?? "", /^[0-9a-f]{64}$/);
  assert.notEqual(copy?.hash, weather?.hash);
});

test("the hash ignores formatting and comments", async () => {
  const a = await tempRegistry({ "weather.yaml": VALID });
  const b = await tempRegistry({ "weather.yaml": `# reviewed in PR #12\n${VALID.replace("transport:\n      type: stdio", "transport: {type: stdio}")}` });
  assert.equal((await loadRegistry(a)).servers[0]?.hash, (await loadRegistry(b)).servers[0]?.hash);
});

test("files an entry refers to (build context, local OpenAPI spec) must exist inside the repo and are part of its hash", async () => {
  const built = (dockerfile: string) => `name: io.github.acme/tool\ndescription: d\nversion: 1.0.0\nrouter:\n  prefix: tool\n  build:\n    dockerfile: ${dockerfile}\n`;
  const root = await tempRegistry({ "tool.yaml": built("images/tool/Dockerfile") });
  const missing = await loadRegistry(root);
  assert.deepEqual(
    missing.diagnostics.map((d) => [d.line, d.path, d.rule]),
    [[7, "router.build.dockerfile", "file.reference-missing"]],
  );
  assert.match(missing.diagnostics[0]?.message ?? "", /images\/tool\/Dockerfile, which does not exist/);

  await mkdir(path.join(root, "images/tool"), { recursive: true });
  await writeFile(path.join(root, "images/tool/Dockerfile"), "FROM scratch\n");
  await writeFile(path.join(root, "images/tool/run.py"), "print(1)\n");
  const first = (await loadRegistry(root)).servers[0];
  assert.equal(first?.root, await realpath(root));
  await writeFile(path.join(root, "images/tool/run.py"), "print(2)\n");
  const second = (await loadRegistry(root)).servers[0];
  assert.match(second?.hash ?? "", /^[0-9a-f]{64}$/);
  assert.notEqual(second?.hash, first?.hash, "a change in the build context is a new version");

  const outside = await mkdtemp(path.join(tmpdir(), "mcp-router-outside-"));
  temps.push(outside);
  await writeFile(path.join(root, "servers/tool.yaml"), built("../" + path.basename(outside) + "/Dockerfile"));
  await writeFile(path.join(outside, "Dockerfile"), "FROM scratch\n");
  assert.deepEqual((await loadRegistry(root)).diagnostics.map((d) => d.rule), ["path.outside-registry"]);

  const api = await tempRegistry({ "api.yaml": "name: io.github.acme/api\ndescription: d\nversion: 1.0.0\nrouter:\n  prefix: api\n  openapi:\n    spec: specs/api.yaml\n" });
  assert.deepEqual((await loadRegistry(api)).diagnostics.map((d) => `${d.line}:${d.path}:${d.rule}`), ["7:router.openapi.spec:file.reference-missing"]);
  await mkdir(path.join(api, "specs"));
  await writeFile(path.join(api, "specs/api.yaml"), "openapi: 3.0.3\n");
  const a = (await loadRegistry(api)).servers[0];
  await writeFile(path.join(api, "specs/api.yaml"), "openapi: 3.1.0\n");
  assert.notEqual((await loadRegistry(api)).servers[0]?.hash, a?.hash);
});

test("duplicate names across files are reported on every file involved", async () => {
  const root = await tempRegistry({ "weather.yaml": VALID, "forecast.yaml": VALID, "other.yaml": VALID.replace("acme/weather", "acme/other") });
  const load = await loadRegistry(root, { displayRoot: "registry" });
  assert.deepEqual(load.servers.map((s) => s.prefix), ["other"]);
  assert.deepEqual(load.diagnostics.map((d) => `${d.file}:${d.line}:${d.column}  ${d.message}`), [
    'registry/servers/forecast.yaml:1:7  name "io.github.acme/weather" is also used by servers/weather.yaml',
    'registry/servers/weather.yaml:1:7  name "io.github.acme/weather" is also used by servers/forecast.yaml',
  ]);
});

test("a duplicate prefix (weather.yaml and weather.yml) is reported", async () => {
  const root = await tempRegistry({ "weather.yaml": VALID, "weather.yml": VALID.replace("acme/weather", "acme/weather-two") });
  const load = await loadRegistry(root);
  assert.equal(load.servers.length, 0);
  assert.ok(load.diagnostics.every((d) => d.rule === "prefix.duplicate"), load.diagnostics.map(formatDiagnostic).join("\n"));
  assert.equal(load.diagnostics.length, 2);
});

test("hostile files: symlinks leaving the registry, huge files, folders named .yaml", async () => {
  const outside = await mkdtemp(path.join(tmpdir(), "mcp-router-outside-"));
  temps.push(outside);
  await writeFile(path.join(outside, "secret.yaml"), VALID);
  const root = await tempRegistry({ "weather.yaml": VALID, "huge.yaml": `name: x\ndescription: "${"a".repeat(2 * 1024 * 1024)}"\n` });
  await symlink(path.join(outside, "secret.yaml"), path.join(root, "servers", "escape.yaml"));
  await symlink(path.join(root, "servers", "weather.yaml"), path.join(root, "servers", "alias.yaml"));
  await symlink(path.join(root, "servers", "nowhere.yaml"), path.join(root, "servers", "dangling.yaml"));
  await mkdir(path.join(root, "servers", "folder.yaml"));
  const load = await loadRegistry(root, { displayRoot: "registry" });
  const byFile = Object.fromEntries(load.files.map((f) => [f.file, f.diagnostics.map((d) => d.rule)]));
  assert.deepEqual(byFile["servers/escape.yaml"], ["file.symlink-escape"]);
  assert.deepEqual(byFile["servers/huge.yaml"], ["file.too-large"]);
  assert.deepEqual(byFile["servers/folder.yaml"], ["file.not-a-file"]);
  assert.deepEqual(byFile["servers/dangling.yaml"], ["file.unreadable"]);
  // A link inside the registry is read, and then clashes with its target by name and prefix.
  assert.ok(byFile["servers/alias.yaml"]?.includes("name.duplicate"));
  const huge = load.diagnostics.find((d) => d.rule === "file.too-large");
  assert.match(huge?.message ?? "", /is 2\.0 MiB; registry files are limited to 1 MiB/);
});

test("diagnostics render as file:line:col with a hint, and as GitHub annotations", () => {
  const parsed = parseRegistryFile("registry/servers/weather.yaml", VALID.replace("version: 1.2.0\n    transport", "version: latest\n    transport"), "servers/weather.yaml");
  const [d] = parsed.diagnostics;
  assert.ok(d);
  assert.equal(
    formatDiagnostic(d),
    'registry/servers/weather.yaml:7:14  packages[0].version: must be an exact version, not a range or "latest"\n' +
      "    hint: Pin the version you reviewed, e.g. `2025.8.4` (see `npm view <package> version`).",
  );
  assert.equal(
    formatGithubAnnotation(d),
    "::error file=registry/servers/weather.yaml,line=7,col=14,title=schema.not::packages[0].version: must be an exact version, not a range or \"latest\"%0APin the version you reviewed, e.g. `2025.8.4` (see `npm view <package> version`).",
  );
});

test("all schema errors of a file are reported at once, each located", () => {
  const text = `name: weather
description: ${"x".repeat(120)}
version: ^1
packages:
  - registryType: npm
    identifier: w
    version: latest
    transport: {type: stdoi}
router:
  prefix: weather
  lifecycle: forever
`;
  const got = parseRegistryFile("w.yaml", text, "servers/weather.yaml").diagnostics.map((d) => `${d.line}:${d.column} ${d.path}`);
  assert.deepEqual(got, ["1:7 name", "2:14 description", "3:10 version", "7:14 packages[0].version", "8:23 packages[0].transport.type", "11:14 router.lifecycle"]);
});

test("allowlist hosts", () => {
  for (const ok of ["api.github.com", "*.github.com", "10.0.0.1", "10.0.0.0/8", "api.github.com:443", "[::1]:8080", "::1", "localhost"]) {
    assert.equal(invalidHost(ok), undefined, ok);
  }
  for (const bad of ["https://x.com", "x.com/path", "a..b", "*.*.com", "999.1.1.1", "10.0.0.0/40", "x.com:0", "-x.com", "a b", ""]) {
    assert.notEqual(invalidHost(bad), undefined, bad);
  }
});

test("prefix suggestions from server names", () => {
  assert.equal(suggestPrefix("io.github.modelcontextprotocol/server-memory"), "memory");
  assert.equal(suggestPrefix("io.github.github/github-mcp-server"), "github");
  assert.equal(suggestPrefix("io.github.x/mcp-server-fetch"), "fetch");
  assert.equal(suggestPrefix("com.example/Weather_API"), "weather-api");
  assert.equal(suggestPrefix("com.example/123"), "server");
});

for (const file of ["time.json", "github-oci.json", "github-remote.json", "tenant-sse.json", "filesystem.json", "many-env.json"]) {
  test(`import -> export is lossless: ${file}`, async () => {
    const original = JSON.parse(await readFile(path.join(SERVER_JSON, file), "utf8")) as Record<string, unknown>;
    const prefix = suggestPrefix(original.name as string);
    const yaml = toRegistryYaml(fromServerJson(original, prefix));
    const parsed = parseRegistryFile(`servers/${prefix}.yaml`, yaml, `servers/${prefix}.yaml`);
    assert.deepEqual(parsed.diagnostics.map(formatDiagnostic), []);
    assert.ok(parsed.entry);
    assert.equal(parsed.entry.router?.prefix, prefix);
    assert.deepEqual(toServerJson(parsed.entry), original);
    // And through the CLI, with the YAML on disk in between.
    const root = await tempRegistry();
    const imported = await cli(["import", path.join(SERVER_JSON, file), "--registry", root]);
    assert.equal(imported.code, 0, imported.stderr);
    const exported = await cli(["export", prefix, "--registry", root]);
    assert.equal(exported.code, 0, exported.stderr);
    assert.deepEqual(JSON.parse(exported.stdout), original);
  });
}

test("export of a bundled server is a server.json without router:", async () => {
  const out = await cli(["export", "memory"]);
  assert.equal(out.code, 0, out.stderr);
  const doc = JSON.parse(out.stdout);
  assert.equal(doc.$schema, "https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json");
  assert.equal(doc.name, "io.github.modelcontextprotocol/server-memory");
  assert.equal(doc.router, undefined);
  const byName = await cli(["export", "io.github.modelcontextprotocol/server-memory"]);
  assert.deepEqual(JSON.parse(byName.stdout), doc);
  const missing = await cli(["export", "nope"]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /no server "nope" in .*; known prefixes: .*memory/);
});

test("import reads standard input, refuses to overwrite, and refuses invalid documents", async () => {
  const root = await tempRegistry();
  const doc = await readFile(path.join(SERVER_JSON, "time.json"), "utf8");
  const first = await cli(["import", "-", "--registry", root, "--prefix", "clock"], { input: doc });
  assert.equal(first.code, 0, first.stderr);
  const yaml = await readFile(path.join(root, "servers", "clock.yaml"), "utf8");
  assert.match(yaml, /^# yaml-language-server: \$schema=/);
  assert.equal((parseYaml(yaml) as { router: { prefix: string } }).router.prefix, "clock");
  const again = await cli(["import", "-", "--registry", root, "--prefix", "clock"], { input: doc });
  assert.equal(again.code, 1);
  assert.match(again.stderr, /already exists; pass --force/);
  const bad = await cli(["import", "-", "--registry", root], { input: JSON.stringify({ name: "io.github.a/b", description: "d", version: "latest", packages: [] }) });
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /servers\/b\.yaml:\d+:\d+ {2}version: must be an exact version/);
  assert.match(bad.stderr, /nothing written/);
  const notJson = await cli(["import", "-", "--registry", root], { input: "{oops" });
  assert.equal(notJson.code, 1);
  assert.match(notJson.stderr, /standard input is not valid JSON/);
});

test("validate: exit codes, human and JSON output, GitHub annotations", async () => {
  const ok = await cli(["validate"]);
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stdout, /✓ \d+ server files valid in registry\/servers/);

  const root = await tempRegistry({ "weather.yaml": VALID, "broken.yaml": "name: io.github.a/broken\nversion: latest\n" });
  const human = await cli(["validate", root]);
  assert.equal(human.code, 1);
  assert.match(human.stdout, /broken\.yaml:2:10 {2}version: must be an exact version/);
  assert.match(human.stdout, /✗ 2 errors in 1 of 2 files \(1 valid\)/);

  const json = await cli(["validate", root, "--format", "json"]);
  assert.equal(json.code, 1);
  const report = JSON.parse(json.stdout);
  assert.equal(report.ok, false);
  assert.equal(report.errorCount, 2);
  assert.deepEqual(report.files.map((f: { file: string; valid: boolean }) => [f.file, f.valid]), [["servers/broken.yaml", false], ["servers/weather.yaml", true]]);

  const actions = await cli(["validate", root], { env: { GITHUB_ACTIONS: "true" } });
  assert.match(actions.stdout, /^::error file=.*broken\.yaml,line=2,col=10,title=schema\.not::version: must be an exact version/m);

  const badFormat = await cli(["validate", root, "--format", "xml"]);
  assert.equal(badFormat.code, 2);
});

test("--help explains each command", async () => {
  const help = await cli(["--help"]);
  for (const command of ["validate", "import", "export"]) assert.match(help.stdout, new RegExp(`^  ${command} `, "m"));
  const validateHelp = await cli(["validate", "--help"]);
  assert.match(validateHelp.stdout, /--format <format>/);
  assert.match(validateHelp.stdout, /::error annotation/);
});

test("a parse cache gives the same loads, follows a changed file and forgets a deleted one", async () => {
  const root = await tempRegistry({ "weather.yaml": VALID, "clock.yaml": VALID.replace("io.github.acme/weather", "io.github.acme/clock") });
  const cache: ParseCache = new Map();
  const first = await loadRegistry(root, { cache });
  assert.deepEqual(first, await loadRegistry(root), "a cached load equals an uncached one");
  assert.equal(cache.size, 2);
  const again = await loadRegistry(root, { cache });
  assert.deepEqual(again.servers, first.servers);
  assert.notEqual(again.servers[0]?.entry, first.servers[0]?.entry, "each load hands out its own entry objects");
  await writeFile(path.join(root, "servers", "weather.yaml"), VALID.replace("Weather forecasts", "Weather, changed"));
  await rm(path.join(root, "servers", "clock.yaml"));
  const changed = await loadRegistry(root, { cache });
  assert.deepEqual(changed.servers.map((s) => s.entry.description), ["Weather, changed"]);
  assert.equal(cache.size, 1, "the deleted file left the cache");
});
