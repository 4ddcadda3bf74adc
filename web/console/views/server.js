// One server: its condition, its tools (each with a form to try it), the secrets it reads, its
// recent calls, and its file as the registry holds it.
import { api, ApiError } from "../api.js";
import { h, show, time, shortRevision, badge } from "../dom.js";
import { resultView } from "../result-view.js";
import { schemaForm } from "../schema-form.js";

export async function serverPage(prefix) {
  show(h("h1", {}, prefix), h("p", { class: "loading" }, "Loading…"));
  let s;
  try {
    s = await api(`servers/${encodeURIComponent(prefix)}`);
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) return;
    return show(h("h1", {}, prefix), h("p", { class: "error", role: "alert" }, e.message), h("p", {}, h("a", { href: "#/" }, "Back to the overview")));
  }
  show(
    h("p", { class: "crumbs" }, h("a", { href: "#/" }, "Overview"), " / ", s.prefix),
    h("h1", {}, s.title ?? s.prefix, " ", badge(s.condition)),
    h(
      "dl",
      { class: "facts card" },
      h("dt", {}, "Name"),
      h("dd", {}, s.name ?? "(unknown)"),
      s.description ? [h("dt", {}, "Description"), h("dd", {}, s.description)] : null,
      h("dt", {}, "Version"),
      h("dd", {}, s.version ?? ""),
      h("dt", {}, "Condition"),
      h("dd", {}, `${s.reason}`, s.message ? h("p", { class: "message" }, s.message) : null),
      h("dt", {}, "Applied from"),
      h("dd", {}, h("code", {}, shortRevision(s.appliedRevision)), " ", time(s.since)),
      h("dt", {}, "Lifecycle"),
      h("dd", {}, s.lifecycle),
    ),
    toolsSection(s),
    secretsSection(s),
    callsSection(s),
    h("section", { class: "card", "aria-labelledby": "file-title" }, h("h2", { id: "file-title" }, "File ", h("code", {}, s.file)), h("p", {}, h("a", { href: `#/edit/${encodeURIComponent(s.prefix)}`, id: "edit-file" }, "Edit this file")), s.fileText !== undefined ? h("pre", { class: "file", tabindex: "0", "aria-label": `contents of ${s.file}` }, h("code", {}, s.fileText)) : h("p", { class: "muted" }, "The file could not be read.")),
  );
}

function toolsSection(s) {
  return h(
    "section",
    { class: "card", "aria-labelledby": "tools-title" },
    h("h2", { id: "tools-title" }, `Tools (${s.tools.length})`),
    s.tools.length === 0 ? h("p", { class: "muted" }, s.condition === "live" || s.condition === "stale" ? "This server lists no tools." : "Tools are listed once the server is live.") : s.tools.map((t) => tool(s.prefix, t)),
  );
}

function tool(prefix, t) {
  const id = `tool-${t.name.replace(/[^A-Za-z0-9_-]/g, "_")}`;
  const form = schemaForm(t.inputSchema, id);
  const output = h("div", { class: "output", "aria-live": "polite", id: `${id}-result` });
  const button = h("button", { type: "submit" }, "Call ", t.name);
  return h(
    "details",
    { class: "tool", id },
    h("summary", {}, h("code", {}, t.name), t.description ? h("span", { class: "muted" }, ` ${firstLine(t.description)}`) : null),
    t.description ? h("p", { class: "description" }, t.description) : null,
    h(
      "form",
      {
        // The form's own messages (at the field, in words) rather than the browser's bubbles.
        novalidate: true,
        onsubmit: async (event) => {
          event.preventDefault();
          let args;
          try {
            args = form.read();
          } catch (e) {
            output.replaceChildren(h("p", { class: "error", role: "alert" }, e.message));
            return;
          }
          button.disabled = true;
          output.replaceChildren(h("p", { class: "loading" }, "Calling…"));
          try {
            const outcome = await api(`servers/${encodeURIComponent(prefix)}/tools/${encodeURIComponent(t.name)}/call`, { method: "POST", body: { arguments: args } });
            output.replaceChildren(resultView(outcome));
            refreshCalls(prefix);
          } catch (e) {
            // The form keeps what was typed: a failed call (or a session that ended) loses nothing.
            output.replaceChildren(h("p", { class: "error", role: "alert" }, e.hint ? `${e.message}. ${e.hint}` : e.message));
          } finally {
            button.disabled = false;
          }
        },
      },
      form.element,
      button,
    ),
    output,
  );
}

function secretsSection(s) {
  return h(
    "section",
    { class: "card", "aria-labelledby": "secrets-title" },
    h("h2", { id: "secrets-title" }, "Secrets and settings it reads"),
    s.secrets.some((x) => !x.set) ? h("p", {}, "Missing values can be set on the ", h("a", { href: "#/secrets" }, "Secrets page"), ".") : null,
    s.secrets.length === 0
      ? h("p", { class: "muted" }, "This server reads nothing from the secret store.")
      : h(
          "table",
          {},
          h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Name"), h("th", { scope: "col" }, "Status"), h("th", { scope: "col" }, "Kind"), h("th", { scope: "col" }, "What for"))),
          h(
            "tbody",
            {},
            s.secrets.map((x) =>
              h(
                "tr",
                { dataset: { secret: x.name } },
                h("th", { scope: "row" }, h("code", {}, x.name)),
                h("td", {}, x.set ? h("span", { class: "badge badge-live" }, "set") : h("span", { class: x.required ? "badge badge-failed" : "badge" }, "missing")),
                h("td", {}, `${x.secret ? "secret" : "setting"}${x.required ? ", required" : ""}`),
                h("td", {}, x.description ?? ""),
              ),
            ),
          ),
        ),
  );
}

/** The recent calls again (after a call made from this page), in place. */
async function refreshCalls(prefix) {
  try {
    const s = await api(`servers/${encodeURIComponent(prefix)}`);
    document.getElementById("calls")?.replaceWith(callsSection(s));
  } catch {
    // The list stays as it was; the next visit shows it.
  }
}

function callsSection(s) {
  return h(
    "section",
    { class: "card", id: "calls", "aria-labelledby": "calls-title" },
    h("h2", { id: "calls-title" }, "Recent calls"),
    s.recentCalls.length === 0
      ? h("p", { class: "muted" }, "No calls since the daemon started.")
      : h(
          "table",
          { class: "calls" },
          h("thead", {}, h("tr", {}, ["When", "Tool", "Outcome", "Duration", "Key", "Revision"].map((c) => h("th", { scope: "col" }, c)))),
          h(
            "tbody",
            {},
            s.recentCalls.map((c) =>
              h(
                "tr",
                {},
                h("td", {}, time(c.time)),
                h("td", {}, h("code", {}, c.tool ?? c.method)),
                h("td", {}, h("span", { class: `badge ${c.outcome === "ok" ? "badge-live" : "badge-failed"}` }, c.outcome), c.error ? h("span", { class: "muted" }, ` ${c.error.code}`) : null),
                h("td", {}, `${Math.round(c.durationMs)} ms`),
                h("td", {}, h("code", {}, c.key)),
                h("td", {}, h("code", {}, shortRevision(c.revision))),
              ),
            ),
          ),
        ),
  );
}

function firstLine(text) {
  const line = text.split("\n")[0];
  return line.length > 90 ? `${line.slice(0, 90)}…` : line;
}
