/**
 * Validation throughput: files/s for a generated registry of 1,000 server files (ajv compiled
 * once), against the floor of merely reading and parsing the same YAML in the same run.
 */
import { cp, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parse } from "yaml";
import { loadRegistry } from "../src/registry/loader.js";
import type { BenchRow } from "./bench-row.js";

const FILES = 1000;
const REGISTRY = fileURLToPath(new URL("../registry/", import.meta.url));
const SERVERS = path.join(REGISTRY, "servers");

export async function benchRegistry(): Promise<BenchRow[]> {
  const root = await mkdtemp(path.join(tmpdir(), "mcp-router-bench-"));
  try {
    await mkdir(path.join(root, "servers"));
    // What the files refer to (build contexts, OpenAPI documents) comes along.
    for (const entry of await readdir(REGISTRY, { withFileTypes: true })) {
      if (entry.isDirectory() && entry.name !== "servers") await cp(path.join(REGISTRY, entry.name), path.join(root, entry.name), { recursive: true });
    }
    const templates = await Promise.all(
      (await readdir(SERVERS)).filter((f) => f.endsWith(".yaml")).map(async (f) => ({ prefix: f.replace(/\.yaml$/, ""), text: await readFile(path.join(SERVERS, f), "utf8") })),
    );
    for (let i = 0; i < FILES; i++) {
      const t = templates[i % templates.length]!;
      const prefix = `s${i}-${t.prefix}`.slice(0, 32).replace(/-$/, "");
      const text = t.text.replace(/^name: (.*)$/m, `name: $1-${i}`).replace(/^ {2}prefix: .*$/m, `  prefix: ${prefix}`);
      await writeFile(path.join(root, "servers", `${prefix}.yaml`), text);
    }
    await loadRegistry(root); // warm-up: compiles the schema once, as the daemon does at start

    const rounds = 5;
    let best = Infinity;
    let errors = 0;
    for (let r = 0; r < rounds; r++) {
      const t0 = performance.now();
      const load = await loadRegistry(root);
      best = Math.min(best, performance.now() - t0);
      errors = load.diagnostics.length;
    }
    if (errors) throw new Error(`the generated registry has ${errors} errors`);

    let floor = Infinity;
    for (let r = 0; r < rounds; r++) {
      const t0 = performance.now();
      const names = await readdir(path.join(root, "servers"));
      await Promise.all(names.map(async (n) => parse(await readFile(path.join(root, "servers", n), "utf8"))));
      floor = Math.min(floor, performance.now() - t0);
    }
    const rate = FILES / (best / 1000);
    const floorRate = FILES / (floor / 1000);
    return [
      {
        name: `registry: validate ${FILES} files`,
        value: rate,
        unit: "files/s",
        baseline: { name: "read+yaml.parse only", value: floorRate },
        ratio: rate / floorRate,
        // One parser (yaml, positions and bounded aliases on every path) since the js-yaml fast path
        // went: validation can no longer beat a bare parse; schema + rules must cost at most as much again.
        target: ">= 0.5x read+yaml.parse",
        ok: rate / floorRate >= 0.5,
      },
    ];
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { formatTable } = await import("./bench-row.js");
  console.log(formatTable(await benchRegistry()));
}
