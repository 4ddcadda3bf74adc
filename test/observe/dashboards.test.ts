/**
 * What operators import: the Grafana dashboard (deploy/grafana) and the Prometheus alert rules
 * (deploy/prometheus) may only query metrics the daemon exports, with labels those metrics carry.
 * The daemon is started as `serve` assembles it (no Docker: in-process upstreams), one call is made
 * so the per-call series exist, and its `/metrics` is the reference.
 */
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { parse as parseYaml } from "yaml";
import type { InProcessDaemon } from "../support/in-process-daemon.js";
import { startInProcessDaemon } from "../support/in-process-daemon.js";

const root = (rel: string) => fileURLToPath(new URL(`../../${rel}`, import.meta.url));

/** Every `mcp_router_*` series name in a PromQL expression, with the label names its selector uses. */
function selectors(expr: string): { metric: string; labels: string[] }[] {
  const out: { metric: string; labels: string[] }[] = [];
  for (const m of expr.matchAll(/\b(mcp_router_[a-z0-9_]+)(\{([^}]*)\})?/g)) {
    const labels = [...(m[3] ?? "").matchAll(/([a-z_]+)\s*(=~|!~|!=|=)/g)].map((l) => l[1] as string);
    out.push({ metric: m[1] as string, labels });
  }
  return out;
}

describe("the Grafana dashboard and the alert rules query what the daemon exports", () => {
  let daemon: InProcessDaemon;
  /** Series name -> the label names seen on it. */
  const exported = new Map<string, Set<string>>();

  before(async () => {
    daemon = await startInProcessDaemon();
    const auth = { authorization: `Bearer ${daemon.key}` };
    // One call, so the per-call series (and their labels) exist.
    const init = await fetch(new URL("mcp", daemon.url), {
      method: "POST",
      headers: { ...auth, "content-type": "application/json", accept: "application/json, text/event-stream", "mcp-protocol-version": "2026-07-28", "mcp-method": "tools/call", "mcp-name": "percall__whoami" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/call", params: { name: "percall__whoami", arguments: {}, _meta: { "io.modelcontextprotocol/protocolVersion": "2026-07-28", "io.modelcontextprotocol/clientCapabilities": {} } } }),
    });
    assert.equal(init.status, 200, await init.text());
    const text = await (await fetch(new URL("metrics", daemon.url), { headers: auth })).text();
    for (const line of text.split("\n")) {
      const type = /^# TYPE (\S+) (\S+)/.exec(line);
      if (type) {
        const names = type[2] === "histogram" ? ["_bucket", "_sum", "_count"].map((s) => `${type[1]}${s}`) : [type[1] as string];
        for (const n of names) if (!exported.has(n)) exported.set(n, new Set());
        continue;
      }
      const sample = /^([a-z_:][a-z0-9_:]*)\{([^}]*)\}/.exec(line);
      if (sample) for (const l of (sample[2] ?? "").matchAll(/([a-z_]+)="/g)) exported.get(sample[1] as string)?.add(l[1] as string);
    }
    assert.ok(exported.has("mcp_router_calls_total"), "the reference has the daemon's own metrics");
  });
  after(() => daemon.close());

  const check = (where: string, expr: string) => {
    const found = selectors(expr);
    for (const { metric, labels } of found) {
      assert.ok(exported.has(metric), `${where}: ${metric} is not a metric the daemon exports`);
      const known = exported.get(metric) as Set<string>;
      for (const label of labels) {
        if (label === "job" || label === "instance" || label === "le") continue;
        if (known.size > 0) assert.ok(known.has(label), `${where}: ${metric} has no label "${label}" (it has ${[...known].join(", ")})`);
      }
    }
    return found.length;
  };

  it("every dashboard query", async () => {
    const dashboard = JSON.parse(await readFile(root("deploy/grafana/mcp-router-dashboard.json"), "utf8")) as {
      panels: { title: string; targets: { expr: string }[] }[];
      templating: { list: { name: string; query?: string }[] };
    };
    let queried = 0;
    for (const panel of dashboard.panels) {
      assert.ok(panel.targets.length > 0, `panel "${panel.title}" has a query`);
      for (const t of panel.targets) queried += check(`panel "${panel.title}"`, t.expr);
    }
    for (const v of dashboard.templating.list) if (v.query && v.query.includes("mcp_router_")) queried += check(`variable $${v.name}`, v.query);
    assert.ok(queried >= dashboard.panels.length, `${queried} metric references checked`);
  });

  it("every alert rule, each with a severity and a summary that says what to do", async () => {
    const rules = parseYaml(await readFile(root("deploy/prometheus/mcp-router-alerts.yml"), "utf8")) as {
      groups: { rules: { alert: string; expr: string; labels?: { severity?: string }; annotations?: { summary?: string; description?: string } }[] }[];
    };
    const all = rules.groups.flatMap((g) => g.rules);
    assert.ok(all.length >= 6);
    for (const rule of all) {
      check(`alert ${rule.alert}`, rule.expr);
      assert.ok(rule.labels?.severity, `alert ${rule.alert} has a severity`);
      assert.ok(rule.annotations?.summary && rule.annotations.description, `alert ${rule.alert} says what happened and what to check`);
    }
  });
});
