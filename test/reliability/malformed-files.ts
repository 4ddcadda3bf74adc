/**
 * A systematic corpus of broken registry files for the reliability suite: every kind of mistake
 * the loader must answer with a located error (YAML syntax, schema, wrong types, bad prefixes,
 * duplicates, hostile bytes, size), each made unique by its index. Also the repo's own invalid
 * fixtures (test/fixtures/invalid), read as they are.
 */
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const FIXTURES = fileURLToPath(new URL("../fixtures/invalid/", import.meta.url));

/** A valid file for prefix `p` that the mutations break; `extra` lines go under `router:`. */
function valid(p: string, i: number, o: { name?: string; version?: string; description?: string; router?: string; pkg?: string } = {}): string {
  return `name: ${o.name ?? `dev.mcp-router.malformed/${p}`}
description: ${o.description ?? `malformed sample ${i}`}
version: ${o.version ?? "1.0.0"}
packages:
  - registryType: npm
    identifier: "@modelcontextprotocol/server-memory"
    version: 1.0.${i}
    transport:
      type: stdio
${o.pkg ?? ""}router:
  prefix: ${p}
${o.router ?? ""}`;
}

type Make = (p: string, i: number) => string | Buffer;

/** Mutation kinds, by family. `p` is the file's own prefix (its name without .yaml). */
export function malformedKinds(options: { goodPrefix: string; goodName: string }): Record<string, Make> {
  return {
    // YAML syntax
    "yaml-unclosed-flow": (p, i) => `name: [oops ${i}\n${valid(p, i).split("\n").slice(1).join("\n")}`,
    "yaml-unclosed-quote": (p, i) => valid(p, i, { description: `"never closed ${i}` }),
    "yaml-bad-indent": (p, i) => valid(p, i).replace("    transport:", "  transport:\n     type: stdio\n    oops: 1"),
    "yaml-tab-indent": (p, i) => valid(p, i).replace("    transport:", "\ttransport:"),
    "yaml-duplicate-key": (p, i) => `${valid(p, i)}version: 2.0.${i}\n`,
    "yaml-multi-document": (p, i) => `${valid(p, i)}---\n${valid(p, i)}`,
    "yaml-alias-bomb": (p, i) => `a: &a ["x${i}","x","x","x","x","x","x","x","x"]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: [*e,*e,*e,*e,*e,*e,*e,*e,*e]\n`,
    "yaml-top-level-list": (_p, i) => `- ${i}\n- two\n`,
    "yaml-top-level-scalar": (_p, i) => `just text ${i}\n`,
    // schema violations
    "schema-missing-name": (p, i) => valid(p, i).replace(/^name: .*\n/, ""),
    "schema-missing-version": (p, i) => valid(p, i).replace(/^version: .*\n/m, ""),
    "schema-nothing-to-run": (p, i) => `name: dev.mcp-router.malformed/${p}\ndescription: sample ${i}\nversion: 1.0.0\nrouter:\n  prefix: ${p}\n`,
    "schema-description-too-long": (p, i) => valid(p, i, { description: `${"d".repeat(120)}${i}` }),
    "schema-unknown-field": (p, i) => `${valid(p, i)}  lifecyle: per-call\n`,
    "schema-version-latest": (p, i) => valid(p, i, { version: "latest" }),
    "schema-version-range": (p, i) => valid(p, i, { version: `^1.${i}.0` }),
    "schema-name-no-slash": (p, i) => valid(p, i, { name: `malformed-${i}` }),
    "schema-transport-unknown": (p, i) => valid(p, i).replace("type: stdio", "type: carrier-pigeon"),
    "schema-lifecycle-bad": (p, i) => valid(p, i, { router: "  lifecycle: forever\n" }),
    "schema-network-bad-host": (p, i) => valid(p, i, { router: `  network:\n    allow: ["https://api.example.com/v${i}"]\n` }),
    "schema-secret-with-value": (p, i) => valid(p, i, { pkg: `    environmentVariables:\n      - name: TOKEN\n        description: t\n        isSecret: true\n        value: s3cr3t-${i}\n` }),
    "schema-flag-smuggling": (p, i) => valid(p, i, { pkg: `    runtimeArguments:\n      - type: positional\n        value: "-v=/:/host${i}"\n` }),
    // wrong types
    "type-name-number": (p, i) => valid(p, i, { name: String(1000 + i) }),
    "type-packages-string": (p, i) => valid(p, i).replace(/packages:\n(?: {2}.*\n)+/, `packages: "npm:${i}"\n`),
    "type-timeout-string": (p, i) => valid(p, i, { router: `  limits:\n    timeoutSeconds: ten-${i}\n` }),
    "type-router-list": (p, i) => valid(p, i).replace(/router:\n[\s\S]*$/, `router:\n  - prefix: ${p}\n  - ${i}\n`),
    "type-tools-map": (p, i) => valid(p, i, { router: `  tools:\n    echo${i}: yes\n` }),
    // bad prefixes
    "prefix-mismatch": (p, i) => valid(p, i).replace(`prefix: ${p}`, `prefix: other-${i}`),
    "prefix-invalid-chars": (p, i) => valid(p, i).replace(`prefix: ${p}`, `prefix: "Bad Prefix ${i}!"`),
    // A broken file that names a good server's prefix (the file name does not match it).
    "prefix-claims-good-server": (p, i) => valid(p, i, { version: "latest" }).replace(`prefix: ${p}`, `prefix: ${options.goodPrefix}`),
    // duplicates: a valid file whose name another (good) file already uses
    "duplicate-name": (p, i) => valid(p, i, { name: options.goodName }),
    // hostile bytes and sizes
    "binary-junk": (_p, i) => Buffer.from(Array.from({ length: 512 }, (_, k) => (k * 37 + i * 11) % 256)),
    "non-utf8": (p, i) => Buffer.concat([Buffer.from(valid(p, i, { description: "caf" })), Buffer.from([0xe9, 0x0a])]),
    "huge": (p, i) => `${valid(p, i)}# ${"x".repeat(1024 * 1024 + i)}\n`,
    "empty": () => "",
    "whitespace-only": (_p, i) => " \n".repeat(1 + (i % 7)),
    "comment-only": (_p, i) => `# nothing here ${i}\n`,
  };
}

export interface MalformedFile {
  name: string;
  kind: string;
  content: string | Buffer;
}

/** `count` broken files cycling through every kind, then the repo's invalid fixtures to top up. */
export function malformedCorpus(count: number, options: { goodPrefix: string; goodName: string }): MalformedFile[] {
  const kinds = Object.entries(malformedKinds(options));
  const fixtures = readdirSync(FIXTURES).filter((n) => n.endsWith(".yaml")).sort();
  const out: MalformedFile[] = [];
  // The repo's own fixtures first (their names may carry rules, so they keep their content as is).
  for (const f of fixtures) {
    if (out.length >= count) break;
    const name = `fixture-${path.basename(f, ".yaml")}`;
    // The prefix-mismatch style fixtures only break under their own file name; keep those that fail anywhere.
    out.push({ name: `${name}.yaml`, kind: `fixture:${f}`, content: readFileSync(path.join(FIXTURES, f)) });
  }
  for (let i = 0; out.length < count; i++) {
    const [kind, make] = kinds[i % kinds.length]!;
    // "huge" files are slow to write and read: a handful is enough.
    if (kind === "huge" && i >= kinds.length * 4) continue;
    const p = `bad-${String(i).padStart(3, "0")}`;
    out.push({ name: `${p}.yaml`, kind, content: make(p, i) });
  }
  return out;
}
