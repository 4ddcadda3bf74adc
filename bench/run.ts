/**
 * `npm run bench`: every figure the issues ask for, in one table, each with the baseline
 * measured in the same run and the ratio. `npm run bench -- registry sync` runs some groups only;
 * flags (`--name=value`) go to the groups that read them (`load`: see bench/load.ts).
 */
import { arch, cpus, totalmem } from "node:os";
import { benchAuth } from "./auth.js";
import { formatTable, type BenchRow } from "./bench-row.js";
import { benchContainerEras } from "./container-eras.js";
import { benchConsole } from "./console.js";
import { benchEras } from "./eras.js";
import { benchGateway } from "./gateway.js";
import { runLaunchBench } from "./launch.js";
import { benchLoad } from "./load.js";
import { benchPropose } from "./propose.js";
import { benchRegistry } from "./registry.js";
import { benchSync } from "./sync.js";
import { benchTracing } from "./tracing.js";

const groups: Record<string, () => Promise<BenchRow[]>> = {
  registry: benchRegistry,
  sync: benchSync,
  launch: () => runLaunchBench(),
  gateway: () => benchGateway(),
  eras: () => benchEras(),
  "container-eras": () => benchContainerEras(),
  tracing: () => benchTracing(),
  load: () => benchLoad(),
  auth: () => benchAuth(),
  propose: () => benchPropose(),
  console: () => benchConsole(),
};

const wanted = process.argv.slice(2).filter((a) => !a.startsWith("-"));
const unknown = wanted.filter((w) => !(w in groups));
if (unknown.length) {
  console.error(`unknown bench group(s): ${unknown.join(", ")}; known: ${Object.keys(groups).join(", ")}`);
  process.exit(2);
}
console.log(`machine: ${cpus().length} x ${cpus()[0]?.model ?? "?"} (${arch()}), ${Math.round(totalmem() / 2 ** 30)} GiB, node ${process.version}`);
const rows: BenchRow[] = [];
for (const [name, run] of Object.entries(groups)) {
  if (wanted.length && !wanted.includes(name)) continue;
  console.error(`bench: ${name}...`);
  try {
    rows.push(...(await run()));
  } catch (err) {
    console.error(`bench ${name} failed: ${(err as Error).stack ?? err}`);
    process.exitCode = 1;
  }
}
console.log(formatTable(rows));
