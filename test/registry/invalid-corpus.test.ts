/**
 * The invalid-file corpus: every file under test/fixtures/invalid/ must produce exactly the
 * located errors listed here (file:line:column, path, message), and nothing else.
 */
import assert from "node:assert/strict";
import { copyFile, mkdir, mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, test } from "node:test";
import { fileURLToPath } from "node:url";
import { loadRegistry } from "../../src/registry/loader.js";

const CORPUS = fileURLToPath(new URL("../fixtures/invalid/", import.meta.url));

const EXPECTED: Record<string, string[]> = {
  "alias-bomb.yaml": ["registry/servers/alias-bomb.yaml:1:1  YAML aliases expand too far (possible alias bomb)"],
  "argument-bad-type.yaml": ["registry/servers/argument-bad-type.yaml:10:15  packages[0].packageArguments[0].type: \"flag\" is not a known type"],
  "binary.yaml": ["registry/servers/binary.yaml:1:1  is a binary file, not YAML text"],
  "build-outside.yaml": ["registry/servers/build-outside.yaml:7:17  router.build.dockerfile: \"../../etc/Dockerfile\" leaves the registry repository"],
  "comment-only.yaml": ["registry/servers/comment-only.yaml:1:1  file is empty"],
  "description-empty.yaml": ["registry/servers/description-empty.yaml:2:14  description: must not be empty"],
  "description-too-long.yaml": ["registry/servers/description-too-long.yaml:2:14  description: must be at most 100 characters (it has 106)"],
  "duplicate-key.yaml": ["registry/servers/duplicate-key.yaml:4:1  Map keys must be unique"],
  "empty.yaml": ["registry/servers/empty.yaml:1:1  file is empty"],
  "env-bad-name.yaml": ["registry/servers/env-bad-name.yaml:10:15  packages[0].environmentVariables[0].name: must be a variable or header name (letters, digits, `_`, `.`, `-`; not starting with a digit)"],
  "env-duplicate.yaml": ["registry/servers/env-duplicate.yaml:11:15  packages[0].environmentVariables[1].name: \"REGION\" is already declared at environmentVariables[0]"],
  "flag-smuggling-named.yaml": [
    "registry/servers/flag-smuggling-named.yaml:9:9  packages[0].runtimeArguments[0]: runtime argument --volume would not be passed: mcp-router runs the package itself, with its own hardened settings",
    "registry/servers/flag-smuggling-named.yaml:11:16  packages[0].runtimeArguments[0].value: value \"-v=/:/host\" starts with \"-\" and would be read as a flag by the runner"],
  "flag-smuggling-positional.yaml": ["registry/servers/flag-smuggling-positional.yaml:11:16  packages[0].packageArguments[0].value: value \"--privileged\" starts with \"-\" and would be read as a flag by the runner"],
  "http-transport-no-url.yaml": ["registry/servers/http-transport-no-url.yaml:8:7  packages[0].transport.url: is required"],
  "latin1.yaml": ["registry/servers/latin1.yaml:1:1  is not valid UTF-8 text"],
  "lifecycle-bad.yaml": ["registry/servers/lifecycle-bad.yaml:12:14  router.lifecycle: must be one of \"per-call\", \"per-session\", \"shared\", not \"per-request\""],
  "limits-bad-memory.yaml": ["registry/servers/limits-bad-memory.yaml:13:13  router.limits.memory: must be a size such as `256m` or `1g`"],
  "mount-relative.yaml": ["registry/servers/mount-relative.yaml:13:15  router.mounts[0].source: must be an absolute host path"],
  "multi-document.yaml": ["registry/servers/multi-document.yaml:10:1  file holds 2 YAML documents; a registry file holds exactly one server"],
  "name-missing.yaml": ["registry/servers/name-missing.yaml:1:1  name: is required"],
  "name-no-slash.yaml": ["registry/servers/name-no-slash.yaml:1:7  name: must be reverse-DNS `namespace/name` with exactly one slash, letters, digits, `.`, `-` (and `_` after the slash)"],
  "name-two-slashes.yaml": ["registry/servers/name-two-slashes.yaml:1:7  name: must be reverse-DNS `namespace/name` with exactly one slash, letters, digits, `.`, `-` (and `_` after the slash)"],
  "named-without-dashes.yaml": ["registry/servers/named-without-dashes.yaml:11:15  packages[0].packageArguments[0].name: must be a flag name with its leading dashes, e.g. `--port`"],
  "network-bad-host.yaml": ["registry/servers/network-bad-host.yaml:14:9  router.network.allow[0]: \"https://api.weather.example.com/v1\" is not a valid host: no scheme, path or spaces allowed"],
  "network-bad-mode.yaml": ["registry/servers/network-bad-mode.yaml:12:12  router.network: must be `none`, `public`, `bridge` or a mapping `{allow: [hosts]}`"],
  "network-bad-port.yaml": ["registry/servers/network-bad-port.yaml:14:9  router.network.allow[0]: \"api.example.com:99999\" is not a valid host: port must be a number from 1 to 65535"],
  "network-bad-wildcard.yaml": ["registry/servers/network-bad-wildcard.yaml:14:9  router.network.allow[0]: \"api.*.example.com\" is not a valid host: `*` is only allowed as the whole first label (`*.example.com`)"],
  "nothing-to-run.yaml": ["registry/servers/nothing-to-run.yaml:1:1  declares nothing to run: no `packages`, `remotes`, `router.openapi` or `router.build`"],
  "oci-latest.yaml": ["registry/servers/oci-latest.yaml:6:17  packages[0].identifier: must pin an image tag or digest, not `latest`"],
  "oci-untagged.yaml": ["registry/servers/oci-untagged.yaml:6:17  packages[0].identifier: must pin an image tag or digest"],
  "package-index-out-of-range.yaml": ["registry/servers/package-index-out-of-range.yaml:12:12  router.package: points at packages[2], but the file has 1 package(s)"],
  "package-version-missing.yaml": ["registry/servers/package-version-missing.yaml:5:5  packages[0].version: an npm, pypi or nuget package needs an exact `version`"],
  "positional-no-value.yaml": ["registry/servers/positional-no-value.yaml:10:9  packages[0].packageArguments[0]: a positional argument needs `value` or `valueHint`"],
  "prefix-bad.yaml": ["registry/servers/prefix-bad.yaml:11:11  router.prefix: must be lower-case letters, digits and single dashes, starting with a letter"],
  "prefix-mismatch.yaml": ["registry/servers/prefix-mismatch.yaml:11:11  router.prefix: prefix \"forecast\" does not match the file name \"prefix-mismatch.yaml\""],
  "remote-bad-url.yaml": ["registry/servers/remote-bad-url.yaml:6:10  remotes[0].url: must be an http:// or https:// URL ({name} placeholders allowed after the scheme)"],
  "secret-variable-with-value.yaml": ["registry/servers/secret-variable-with-value.yaml:13:20  remotes[0].headers[0].variables.token.value: a secret must not carry a literal `value`"],
  "secret-with-default.yaml": ["registry/servers/secret-with-default.yaml:10:18  remotes[0].headers[0].default: a secret must not carry a literal `default`"],
  "secret-with-value.yaml": ["registry/servers/secret-with-value.yaml:12:16  packages[0].environmentVariables[0].value: a secret must not carry a literal `value`"],
  "tabs.yaml": ["registry/servers/tabs.yaml:2:1  Tabs are not allowed as indentation"],
  "top-level-list.yaml": ["registry/servers/top-level-list.yaml:1:1  top level must be a mapping of fields, not a list"],
  "top-level-scalar.yaml": ["registry/servers/top-level-scalar.yaml:1:1  top level must be a mapping of fields, not text"],
  "transport-missing.yaml": ["registry/servers/transport-missing.yaml:5:5  packages[0].transport: is required"],
  "transport-unknown.yaml": ["registry/servers/transport-unknown.yaml:9:13  packages[0].transport.type: \"websocket\" is not a known type"],
  "type-mismatch.yaml": ["registry/servers/type-mismatch.yaml:4:11  packages: must be an array, not \"npm\""],
  "unclosed-flow.yaml": ["registry/servers/unclosed-flow.yaml:5:1  Flow map in block collection must be sufficiently indented and end with a }","registry/servers/unclosed-flow.yaml:5:1  Flow sequence in block collection must be sufficiently indented and end with a ]"],
  "unknown-field.yaml": ["registry/servers/unknown-field.yaml:4:1  websiteURL: is not a known field"],
  "unknown-package-field.yaml": ["registry/servers/unknown-package-field.yaml:9:5  packages[0].enviromentVariables: is not a known field"],
  "version-latest.yaml": ["registry/servers/version-latest.yaml:3:10  version: must be an exact version, not a range or \"latest\""],
  "version-range.yaml": ["registry/servers/version-range.yaml:7:14  packages[0].version: must be an exact version, not a range or \"latest\""],
  "version-wildcard.yaml": ["registry/servers/version-wildcard.yaml:7:14  packages[0].version: must be an exact version, not a range or \"latest\""],
};

const roots: string[] = [];
after(() => Promise.all(roots.map((r) => rm(r, { recursive: true, force: true }))));

test("the corpus and the expectations list the same files", async () => {
  const files = (await readdir(CORPUS)).filter((f) => f.endsWith(".yaml")).sort();
  assert.deepEqual(files, Object.keys(EXPECTED).sort());
  assert.ok(files.length >= 30, `only ${files.length} invalid files`);
});

for (const [file, expected] of Object.entries(EXPECTED)) {
  test(`invalid: ${file}`, async () => {
    const root = await mkdtemp(path.join(tmpdir(), "mcp-router-invalid-"));
    roots.push(root);
    await mkdir(path.join(root, "servers"));
    await copyFile(path.join(CORPUS, file), path.join(root, "servers", file));
    const load = await loadRegistry(root, { displayRoot: "registry" });
    assert.equal(load.servers.length, 0, "an invalid file must not yield a server");
    const got = load.diagnostics.map((d) => `${d.file}:${d.line}:${d.column}  ${d.path ? `${d.path}: ` : ""}${d.message}`);
    assert.deepEqual(got, expected);
    for (const d of load.diagnostics) assert.ok(d.rule.length > 0, "every error names its rule");
  });
}
