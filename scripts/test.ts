/**
 * `npm test`: node's test runner over test/*\/*.test.ts. Files run one at a time when a Docker
 * engine answers, as under CI: they share the engine, and the reliability suite restarts it.
 * Without an engine the Docker-backed suites are reported as skipped and the rest runs two files at
 * a time. Extra arguments go to the test runner (e.g. `npm test -- --test-name-pattern=reload`).
 */
import { spawn } from "node:child_process";
import { readdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import Docker from "dockerode";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const files = readdirSync(path.join(root, "test"), { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .flatMap((d) => readdirSync(path.join(root, "test", d.name)).filter((f) => f.endsWith(".test.ts")).map((f) => path.join("test", d.name, f)))
  .sort();
const engine = await new Docker().ping().then(
  () => true,
  () => false,
);
const concurrency = engine || process.env.CI ? 1 : 2;
const child = spawn(process.execPath, ["--import", "tsx", "--test", `--test-concurrency=${concurrency}`, ...process.argv.slice(2), ...files], { cwd: root, stdio: "inherit" });
child.on("exit", (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
