/**
 * Generated fuzzing of the loader: mutations of valid registry files (wrong types, deleted keys,
 * broken YAML, giant strings, aliases, byte noise) must never throw and must always yield either
 * a valid server or located errors.
 */
import assert from "node:assert/strict";
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { parse, stringify } from "yaml";
import { parseRegistryFile } from "../../src/registry/parse-registry-file.js";

const SERVERS = fileURLToPath(new URL("../../registry/servers/", import.meta.url));
const MUTATIONS = 600;

/** mulberry32: a small seeded PRNG, so a failing mutation can be replayed. */
function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

function paths(value: Json, prefix: (string | number)[] = []): (string | number)[][] {
  const out: (string | number)[][] = [prefix];
  if (Array.isArray(value)) value.forEach((v, i) => out.push(...paths(v, [...prefix, i])));
  else if (value && typeof value === "object") for (const [k, v] of Object.entries(value)) out.push(...paths(v, [...prefix, k]));
  return out;
}

function setAt(root: Json, at: (string | number)[], make: (old: Json) => Json | undefined): Json {
  if (at.length === 0) return make(root) ?? null;
  const copy = structuredClone(root) as Record<string | number, Json>;
  let node = copy as Record<string | number, Json>;
  for (const seg of at.slice(0, -1)) node = node[seg] as Record<string | number, Json>;
  const last = at[at.length - 1] as string | number;
  const next = make(node[last] as Json);
  if (next === undefined) {
    if (Array.isArray(node)) node.splice(Number(last), 1);
    else delete node[last];
  } else node[last] = next;
  return copy as Json;
}

function mutate(text: string, rand: () => number): string {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)] as T;
  const doc = parse(text) as Json;
  const at = pick(paths(doc));
  const structural: (() => string)[] = [
    () => stringify(setAt(doc, at, () => undefined)),
    () => stringify(setAt(doc, at, () => pick<Json>([42, -1.5, true, null, [], {}, "", ["a", 1], { x: { y: [null] } }]))),
    () => stringify(setAt(doc, at, () => "x".repeat(50_000 + Math.floor(rand() * 200_000)))),
    () => stringify(setAt(doc, at, () => "latest")),
    () => stringify(setAt(doc, at, () => "--privileged")),
    () => stringify(setAt(doc, at, (old) => (old && typeof old === "object" && !Array.isArray(old) ? { ...old, unexpected: 1 } : old))),
  ];
  const textual: (() => string)[] = [
    () => {
      const i = Math.floor(rand() * text.length);
      return text.slice(0, i);
    },
    () => {
      const i = Math.floor(rand() * text.length);
      return text.slice(0, i) + pick(["\t", ":", "- ", "{", "[", "]", "}", "'", '"', "&a ", "*a ", "!!binary ", "\n---\n", "\0", "\u{feff}", "? ", "|", ">"]) + text.slice(i);
    },
    () => {
      const lines = text.split("\n");
      const i = Math.floor(rand() * lines.length);
      lines.splice(i, 0, lines[i] ?? "");
      return lines.join("\n");
    },
    () => text.split("\n").map((l) => (rand() < 0.2 ? l.trimStart() : l)).join("\n"),
    () => `a: &a [${"x,".repeat(20)}x]\nb: &b [${"*a,".repeat(20)}*a]\nc: [${"*b,".repeat(20)}*b]\n${text}`,
    () => Array.from({ length: 200 + Math.floor(rand() * 2000) }, () => String.fromCharCode(Math.floor(rand() * 256))).join(""),
    () => "[".repeat(5000 + Math.floor(rand() * 50_000)),
  ];
  return rand() < 0.5 ? pick(structural)() : pick(textual)();
}

test(`fuzz: ${MUTATIONS} mutations of valid files never crash and always locate their errors`, { timeout: 120_000 }, async () => {
  const files = (await readdir(SERVERS)).filter((f) => f.endsWith(".yaml")).sort();
  const sources = await Promise.all(files.map(async (f) => ({ f, text: await readFile(path.join(SERVERS, f), "utf8") })));
  const rand = prng(20261121);
  let invalid = 0;
  for (let i = 0; i < MUTATIONS; i++) {
    const { f, text } = sources[i % sources.length] as { f: string; text: string };
    const mutated = mutate(text, rand);
    let result;
    try {
      result = parseRegistryFile(`registry/servers/${f}`, mutated, `servers/${f}`);
    } catch (err) {
      assert.fail(`mutation ${i} of ${f} threw: ${(err as Error).stack}\n--- input (first 500 chars) ---\n${mutated.slice(0, 500)}`);
    }
    if (result.entry) {
      assert.deepEqual(result.diagnostics, []);
      continue;
    }
    invalid++;
    assert.ok(result.diagnostics.length > 0, `mutation ${i}: invalid without an error`);
    const lineCount = mutated.split("\n").length;
    for (const d of result.diagnostics) {
      assert.equal(d.file, `registry/servers/${f}`);
      assert.ok(d.line >= 1 && d.line <= lineCount + 1, `mutation ${i}: line ${d.line} outside the file (${lineCount} lines)`);
      assert.ok(d.column >= 1, `mutation ${i}: column ${d.column}`);
      assert.ok(d.message.length > 0 && d.rule.length > 0, `mutation ${i}: empty message or rule`);
    }
  }
  // Most mutations break something; if almost none do, the mutator has stopped mutating.
  assert.ok(invalid > MUTATIONS * 0.6, `only ${invalid} of ${MUTATIONS} mutations were invalid`);
});
