// Metrics at a glance, from the daemon's own metrics: calls per minute, and per server its calls
// by outcome and p50/p95 latency; warm-pool hits. Refreshed while the page is open.
import { api } from "../api.js";
import { h, show } from "../dom.js";

const SVG = "http://www.w3.org/2000/svg";

function s(tag, attrs = {}, ...children) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  for (const c of children.flat()) if (c) el.append(c instanceof Node ? c : String(c));
  return el;
}

export async function metricsPage() {
  const root = h("div", { id: "metrics", "aria-live": "polite" }, h("p", { class: "loading" }, "Loading…"));
  show(h("h1", {}, "Metrics"), h("p", { class: "help" }, "From the daemon's own metrics (what /metrics exports), since it started."), root);
  let stopped = false;
  const refresh = async () => {
    try {
      render(root, await api("metrics"));
    } catch (e) {
      if (e.status !== 401) root.replaceChildren(h("p", { class: "error", role: "alert" }, e.message));
      stopped = true;
    }
  };
  await refresh();
  const timer = setInterval(() => (stopped ? clearInterval(timer) : refresh()), 10_000);
  return () => clearInterval(timer);
}

function render(root, m) {
  root.replaceChildren(
    h("section", { class: "card", "aria-labelledby": "rate-title" }, h("h2", { id: "rate-title" }, "Calls per minute, every server"), rateChart(m.perMinute, m.sampleSeconds)),
    m.pool ? h("section", { class: "card" }, h("h2", {}, "Warm pool"), h("p", {}, `${m.pool.hits} calls served from the pool, ${m.pool.misses} started a container on the caller's path`, m.pool.hits + m.pool.misses > 0 ? ` (${Math.round((100 * m.pool.hits) / (m.pool.hits + m.pool.misses))}% hits)` : "", ".")) : null,
    h(
      "section",
      { class: "card", "aria-labelledby": "per-server-title" },
      h("h2", { id: "per-server-title" }, "Per server"),
      m.servers.length === 0
        ? h("p", { class: "muted" }, "No calls yet.")
        : h(
            "table",
            { class: "metrics" },
            h("thead", {}, h("tr", {}, ["Server", "Calls", "Outcomes", "p50", "p95"].map((c) => h("th", { scope: "col" }, c)))),
            h("tbody", {}, m.servers.map((f) => row(f, Math.max(...m.servers.map((x) => x.p95Ms ?? 0), 1)))),
          ),
    ),
  );
}

function row(f, maxMs) {
  return h(
    "tr",
    { dataset: { server: f.server } },
    h("th", { scope: "row" }, h("a", { href: `#/servers/${encodeURIComponent(f.server)}` }, f.server)),
    h("td", {}, String(f.calls)),
    h("td", {}, outcomes(f), h("span", { class: "muted" }, ` ${f.ok} ok, ${f.toolErrors} tool errors, ${f.failed} failed`)),
    h("td", {}, latency(f.p50Ms, maxMs)),
    h("td", {}, latency(f.p95Ms, maxMs)),
  );
}

function outcomes(f) {
  const width = 120;
  const total = Math.max(f.calls, 1);
  let x = 0;
  const parts = [
    [f.ok, "var(--ok)"],
    [f.toolErrors, "var(--warn)"],
    [f.failed, "var(--bad)"],
  ].map(([n, color]) => {
    const w = (n / total) * width;
    const rect = s("rect", { x, y: 0, width: w, height: 10, fill: color });
    x += w;
    return rect;
  });
  return s("svg", { width, height: 10, role: "img", "aria-label": `${f.ok} ok, ${f.toolErrors} tool errors, ${f.failed} failed`, class: "bar" }, ...parts);
}

function latency(ms, maxMs) {
  if (ms === undefined) return h("span", { class: "muted" }, "–");
  const width = 100;
  return h("span", {}, s("svg", { width, height: 10, "aria-hidden": "true", class: "bar" }, s("rect", { x: 0, y: 0, width: Math.max(1, (ms / maxMs) * width), height: 10, fill: "var(--accent)" })), ` ${ms < 10 ? ms.toFixed(1) : Math.round(ms)} ms`);
}

function rateChart(points, sampleSeconds) {
  if (points.length === 0) return h("p", { class: "muted" }, `The first point comes ${sampleSeconds} s after the daemon started.`);
  const width = 600;
  const height = 120;
  const max = Math.max(...points.map((p) => p.callsPerMinute), 1);
  const step = width / Math.max(points.length, 1);
  const last = points.at(-1);
  return h(
    "figure",
    {},
    s(
      "svg",
      { viewBox: `0 0 ${width} ${height + 16}`, width: "100%", role: "img", "aria-label": `calls per minute over the last ${Math.round((points.length * sampleSeconds) / 60)} minutes; now ${Math.round(last.callsPerMinute)}`, class: "chart" },
      points.map((p, i) => {
        const h0 = (p.callsPerMinute / max) * height;
        return s("rect", { x: i * step + 1, y: height - h0, width: Math.max(1, step - 2), height: h0, fill: "var(--accent)" }, s("title", {}, `${new Date(p.at).toLocaleTimeString()}: ${Math.round(p.callsPerMinute)} calls/min`));
      }),
      s("line", { x1: 0, y1: height, x2: width, y2: height, stroke: "var(--line)" }),
      s("text", { x: 0, y: height + 14, "font-size": 11, fill: "var(--muted)" }, `max ${Math.round(max)}/min`),
    ),
    h("figcaption", { class: "muted" }, `Now ${Math.round(last.callsPerMinute)} calls per minute (one bar per ${sampleSeconds} s).`),
  );
}
