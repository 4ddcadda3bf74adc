/**
 * Reliability suite, part 3: at least 1,000 calls from four concurrent clients through the daemon
 * (test/support/daemon.ts: watched directory -> reconciler -> gateway -> Docker) while the
 * registry reloads every second, in turn alternating two valid versions of a shared server
 * (`hub`, whose container is replaced on each change), of a per-call server (`app`) and of a
 * server nobody calls (server-everything). The calls go on until both 1,000 calls and 20 reloads
 * happened, however fast the machine. Zero failed calls, zero containers left. Prints its section of the table at the end.
 */
import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { everythingYaml, startTestDaemon, type TestDaemon } from "../support/daemon.js";
import { dockerAvailable, listOurContainers, requireDocker } from "../support/docker.js";
import { ensureReliabilityProbe, probeYaml } from "./cli-daemon.js";
import { Figures, since } from "./figures.js";

const OWNER = "rel-reload";
/** At least this many calls, and the load keeps running until at least RELOADS reloads happened. */
const TOTAL = 1000;
const RELOADS = 20;
const figures = new Figures("1,000 calls with a reload every second");

describe("reliability: reloads under load", { timeout: 300_000 }, () => {
  let daemon: TestDaemon | undefined;
  let image: string;

  before(async () => {
    if (!(await dockerAvailable())) return;
    image = await ensureReliabilityProbe();
    daemon = await startTestDaemon(OWNER, {
      "everything.yaml": everythingYaml(0),
      "hub.yaml": probeYaml("hub", image, { lifecycle: "shared" }),
      "app.yaml": probeYaml("app", image),
    });
  });

  after(async () => {
    if (daemon) {
      await daemon.close();
      const left = await listOurContainers(OWNER);
      figures.rows.push({ scenario: "6. reloads under load", figure: `${left.length} containers of ours left after shutdown`, expectation: "0", pass: left.length === 0 });
      figures.print();
      assert.deepEqual(left.map((c) => c.Id.slice(0, 12)), [], "no container of ours is left");
    } else figures.print();
  });

  it("6. ≥ 1,000 calls over 4 clients (2 shared, 2 per-call) with a reload every second: 0 failed calls, 0 leaked containers", async (t) => {
    if (!(await requireDocker(t)) || !daemon) return;
    await figures.scenario("6. reloads under load", async () => {
      const d = daemon!;
      const servers = path.join(d.dir, "registry", "servers");
      const clients: Client[] = await Promise.all([0, 1, 2, 3].map((i) => d.client(`load-${i}`)));
      let issued = 0;
      let reloads = 0;
      let ok = 0;
      const failures: string[] = [];
      const perTool = new Map<string, number>();
      // Shared-server clients pace themselves so the 1,000 calls span a few dozen reloads.
      const worker = async (client: Client, tool: string, pauseMs = 0) => {
        for (;;) {
          if (pauseMs) await new Promise((r) => setTimeout(r, pauseMs));
          if (issued >= TOTAL && reloads >= RELOADS) return;
          const n = issued++;
          const args = { text: `t${n}` };
          try {
            const result = (await client.callTool({ name: tool, arguments: args })) as CallToolResult;
            const first = result.content[0];
            const text = first?.type === "text" ? first.text : "";
            if (result.isError || text !== args.text) failures.push(`${tool} #${n}: ${JSON.stringify(result.content).slice(0, 200)}`);
            else {
              ok++;
              perTool.set(tool, (perTool.get(tool) ?? 0) + 1);
            }
          } catch (error) {
            failures.push(`${tool} #${n}: ${(error as Error).message}`);
          }
        }
      };
      const reconcilesBefore = d.sync.status().reconciles;
      const timer = setInterval(() => {
        reloads++;
        // In turn, the next of two valid versions of each file.
        const generation = Math.floor(reloads / 3) % 2;
        const [file, text] =
          reloads % 3 === 0
            ? ["hub.yaml", probeYaml("hub", image, { lifecycle: "shared", generation })]
            : reloads % 3 === 1
              ? ["app.yaml", probeYaml("app", image, { generation })]
              : ["everything.yaml", everythingYaml(generation)];
        void writeFile(path.join(servers, file), text);
      }, 1000);
      const t0 = performance.now();
      await Promise.all([
        worker(clients[0]!, "hub__echo", 40),
        worker(clients[1]!, "hub__echo", 40),
        worker(clients[2]!, "app__echo"),
        worker(clients[3]!, "app__echo"),
      ]);
      const ms = since(t0);
      clearInterval(timer);
      await Promise.all(clients.map((c) => c.close()));
      const applied = d.sync.status().reconciles - reconcilesBefore;
      const rate = (ok + failures.length) / (ms / 1000);
      figures.check(
        "6. reloads under load",
        `${ok}/${issued} ok, ${failures.length} failed in ${(ms / 1000).toFixed(1)} s = ${rate.toFixed(0)} calls/s (${perTool.get("hub__echo") ?? 0} shared, ${perTool.get("app__echo") ?? 0} in per-call containers); ${reloads} reloads, ${applied} reconciles`,
        `0 failed of ≥ ${TOTAL} calls, ≥ ${RELOADS} reloads`,
        failures.length === 0 && ok === issued && issued >= TOTAL && reloads >= RELOADS,
        failures.slice(0, 10).join("\n"),
      );
    });
  });
});
