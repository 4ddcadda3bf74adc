// Add or edit a registry file: a YAML editor checked as you type by the daemon's own loader
// (errors at their line, with the hint), the privilege summary a reviewer reads, then write the
// file (a registry folder) or download it (for a pull request). The draft is kept in this tab's
// storage, so a failed save or an ended session loses nothing.
import { api } from "../api.js";
import { h, show, notice } from "../dom.js";

const TEMPLATE = `# yaml-language-server: $schema=../../schemas/server.schema.json

name: io.github.example/weather
description: Weather forecasts for a city
version: 1.0.0
packages:
  - registryType: npm
    identifier: "@example/weather-mcp"
    version: 1.0.0
    runtimeHint: npx
    transport:
      type: stdio
router:
  prefix: weather
`;

export async function editorPage(editing) {
  const key = `mcp-router-draft:${editing ?? "new"}`;
  let text = window.sessionStorage.getItem(key);
  if (text === null && editing) {
    try {
      text = (await api(`servers/${encodeURIComponent(editing)}`)).fileText ?? "";
    } catch (e) {
      if (e.status === 401) return;
      return show(h("h1", {}, `Edit ${editing}`), h("p", { class: "error", role: "alert" }, e.message));
    }
  }
  text ??= TEMPLATE;
  const area = h("textarea", { id: "draft", class: "editor", rows: 24, spellcheck: "false", "aria-describedby": "draft-state", autocapitalize: "off" }, text);
  const state = h("p", { id: "draft-state", "aria-live": "polite", class: "muted" }, "Checking…");
  const problems = h("ol", { id: "draft-problems", class: "problems" });
  const privileges = h("div", { id: "draft-privileges" });
  const saveError = h("p", { class: "error", role: "alert", id: "draft-save-error" });
  let last;

  const check = debounce(async () => {
    window.sessionStorage.setItem(key, area.value);
    try {
      last = await api("drafts/check", { method: "POST", body: { text: area.value, ...(editing ? { editing } : {}) } });
      render(last);
    } catch (e) {
      state.textContent = e.message;
    }
  }, 250);
  area.addEventListener("input", check);

  function render(result) {
    state.textContent = result.valid ? `Valid: ${result.file}` : `${result.diagnostics.length} problem${result.diagnostics.length === 1 ? "" : "s"} in ${result.file ?? "the draft"}`;
    state.className = result.valid ? "ok" : "error";
    problems.replaceChildren(
      ...result.diagnostics.map((d) =>
        h(
          "li",
          { dataset: { line: String(d.line), rule: d.rule } },
          h("button", { type: "button", class: "link", onclick: () => goToLine(area, d.line, d.column) }, `line ${d.line}:${d.column}`),
          " ",
          h("code", {}, d.rule),
          ` ${d.path ? `${d.path}: ` : ""}${d.message}`,
          d.hint ? h("p", { class: "help" }, d.hint) : null,
        ),
      ),
    );
    privileges.replaceChildren(result.privileges ? privilegeTable(result.privileges) : h("p", { class: "muted" }, "Shown once the draft is a registry file."));
  }

  async function write() {
    saveError.textContent = "";
    try {
      const result = await api("drafts/write", { method: "POST", body: { text: area.value, ...(editing ? { editing } : {}) } });
      window.sessionStorage.removeItem(key);
      notice(`${result.file} written: the daemon applies it now; watch it on the overview.`);
      location.hash = "#/";
    } catch (e) {
      // The draft stays in the editor (and in this tab's storage).
      saveError.textContent = e.hint ? `${e.message}. ${e.hint}` : e.message;
      if (e.status === 422) check();
    }
  }

  function download() {
    const name = last?.file?.split("/").pop() ?? "server.yaml";
    const link = h("a", { href: URL.createObjectURL(new Blob([area.value], { type: "application/yaml" })), download: name });
    document.body.append(link);
    link.click();
    link.remove();
  }

  // Propose from a repository URL: the daemon runs the proposer, the steps show as they happen,
  // and the proposed file lands in the editor below for review (never written by itself).
  const repoUrl = h("input", { id: "repo-url", type: "url", placeholder: "https://github.com/owner/repo", "aria-describedby": "proposal-error", spellcheck: "false" });
  const steps = h("ol", { id: "proposal-steps", class: "steps", "aria-live": "polite" });
  const proposalError = h("p", { class: "error", role: "alert", id: "proposal-error" });
  const dropped = h("div", { id: "proposal-dropped" });
  const proposeButton = h("button", { type: "submit" }, "Propose");
  async function proposeFrom(event) {
    event.preventDefault();
    proposalError.textContent = "";
    steps.replaceChildren();
    dropped.replaceChildren();
    proposeButton.disabled = true;
    try {
      let job = await api("proposals", { method: "POST", body: { url: repoUrl.value } });
      while (job.state === "running") {
        await new Promise((r) => setTimeout(r, 400));
        job = await api(`proposals/${encodeURIComponent(job.id)}`);
        steps.replaceChildren(...job.steps.map((x) => h("li", {}, x.message)));
      }
      if (job.state === "failed") {
        proposalError.textContent = job.error.hint ? `${job.error.message}. ${job.error.hint}` : job.error.message;
        return;
      }
      area.value = job.result.yaml;
      area.dispatchEvent(new Event("input"));
      if (job.result.dropped.length) {
        dropped.replaceChildren(h("p", {}, "Not proposed (a reviewer would have to grant these on purpose):"), h("ul", {}, job.result.dropped.map((d) => h("li", {}, h("code", {}, d.path), ` ${d.what}: ${d.why}${d.from ? ` (from ${d.from})` : ""}`))));
      }
      notice(job.result.valid ? "Proposed: review the file below, then write or download it." : "Proposed with problems left: fix them below.");
      area.focus();
    } catch (e) {
      proposalError.textContent = e.hint ? `${e.message}. ${e.hint}` : e.message;
      repoUrl.focus();
    } finally {
      proposeButton.disabled = false;
    }
  }

  show(
    h("h1", {}, editing ? `Edit ${editing}` : "Add a server"),
    editing
      ? null
      : h(
          "form",
          { class: "card", novalidate: true, onsubmit: proposeFrom, "aria-labelledby": "propose-title" },
          h("h2", { id: "propose-title" }, "Propose from a repository"),
          h("label", { for: "repo-url" }, "Repository URL"),
          h("div", { class: "inline" }, repoUrl, proposeButton),
          proposalError,
          steps,
          dropped,
        ),
    h("p", { class: "help" }, "Write the server's registry file: the MCP registry's server.json format as YAML, plus a router: block (docs/registry-format.md describes both). It is checked as you type by the daemon's own validator, against its operator policy and its secret store."),
    h("div", { class: "card" }, h("label", { for: "draft" }, "Registry file (YAML)"), area, state, problems),
    h("section", { class: "card", "aria-labelledby": "privileges-title" }, h("h2", { id: "privileges-title" }, "What this server may do"), privileges),
    h("div", { class: "actions" }, h("button", { type: "button", id: "draft-write", onclick: write }, "Write the file"), h("button", { type: "button", class: "quiet", id: "draft-download", onclick: download }, "Download"), saveError),
  );
  check();
}

function privilegeTable(summary) {
  if (summary.items.length === 0) return h("p", {}, "Nothing beyond running the server: no secrets, no network, no mounts.");
  return h(
    "table",
    { class: "privileges" },
    h("thead", {}, h("tr", {}, ["", "Setting", "Detail", "Why", "Where"].map((c) => h("th", { scope: "col" }, c)))),
    h(
      "tbody",
      {},
      summary.items.map((i) =>
        h(
          "tr",
          {},
          h("td", { "aria-label": i.refused ? "refused" : i.warn ? "worth a second look" : "" }, i.refused ? "⛔" : i.warn ? "⚠" : ""),
          h("td", {}, i.setting),
          h("td", {}, i.detail.replace(/`/g, "")),
          h("td", {}, [i.why, i.note ? `⚠ ${i.note}` : null, ...(i.refused ?? []).map((r) => `⛔ ${r}`)].filter(Boolean).join(" · ")),
          h("td", {}, h("code", {}, i.path)),
        ),
      ),
    ),
  );
}

function goToLine(area, line, column) {
  const lines = area.value.split("\n");
  let offset = 0;
  for (let i = 0; i < line - 1 && i < lines.length; i++) offset += lines[i].length + 1;
  offset += Math.max(0, column - 1);
  area.focus();
  area.setSelectionRange(offset, offset);
}

function debounce(fn, ms) {
  let timer;
  return () => {
    clearTimeout(timer);
    timer = setTimeout(fn, ms);
  };
}
