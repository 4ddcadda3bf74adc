// Secrets: every name a registry file reads from the secret store, set or missing, and where a
// value comes from. Values are write-only: typed once, sent, never shown again.
import { api } from "../api.js";
import { h, show, notice } from "../dom.js";

export async function secretsPage() {
  show(h("h1", {}, "Secrets"), h("p", { class: "loading" }, "Loading…"));
  let data;
  try {
    data = await api("secrets");
  } catch (e) {
    if (e.status === 401) return;
    return show(h("h1", {}, "Secrets"), h("p", { class: "error", role: "alert" }, e.message));
  }
  show(
    h("h1", {}, "Secrets"),
    h(
      "p",
      { class: "help" },
      "The names registry files read from the daemon's secret store. A value set here is stored by the daemon (its data dir, readable only by it), never shown again, never logged and never written to git; a server waiting for it is checked again at once. Values the operator granted otherwise (--secrets-file, --secrets-dir, MCP_ROUTER_SECRET_*) are changed where they were granted.",
    ),
    data.secrets.length === 0
      ? h("p", { class: "card" }, "No registry file reads anything from the secret store.")
      : h("div", {}, data.secrets.map((s) => secretCard(s, data.writable))),
  );
}

function secretCard(s, writable) {
  const id = `secret-${s.name.replace(/[^A-Za-z0-9_-]/g, "_")}`;
  const error = h("p", { class: "error", role: "alert", id: `${id}-error` });
  const input = h("input", { id: `${id}-value`, type: "password", autocomplete: "off", spellcheck: "false", "aria-describedby": `${id}-error` });
  const status = s.set
    ? h("span", { class: "badge badge-live" }, s.source === "console" ? "set here" : "set by the operator")
    : h("span", { class: s.required ? "badge badge-failed" : "badge" }, "missing");
  const form = h(
    "form",
    {
      class: "secret-form",
      novalidate: true,
      onsubmit: async (event) => {
        event.preventDefault();
        error.textContent = "";
        if (input.value === "") {
          error.textContent = "Type or paste the value first.";
          input.focus();
          return;
        }
        try {
          await api(`secrets/${encodeURIComponent(s.name)}`, { method: "PUT", body: { value: input.value } });
          input.value = "";
          notice(`${s.name} saved. Servers that read it are checked again now.`);
          await secretsPage();
          document.getElementById(`${id}-value`)?.focus();
        } catch (e) {
          // What was typed stays in the field: a failed save loses nothing.
          error.textContent = e.hint ? `${e.message}. ${e.hint}` : e.message;
          input.focus();
        }
      },
    },
    h("label", { for: `${id}-value` }, s.set ? `Replace the value of ${s.name}` : `Value of ${s.name}`),
    h("div", { class: "inline" }, input, h("button", { type: "submit" }, s.set && s.source === "console" ? "Replace" : "Save")),
    error,
  );
  const remove =
    s.source === "console"
      ? h(
          "button",
          {
            type: "button",
            class: "quiet",
            onclick: async () => {
              if (!window.confirm(`Remove the value of ${s.name}? Servers that need it stop applying until it is set again.`)) return;
              try {
                await api(`secrets/${encodeURIComponent(s.name)}`, { method: "DELETE" });
                notice(`${s.name} removed.`);
                await secretsPage();
              } catch (e) {
                error.textContent = e.message;
              }
            },
          },
          `Remove ${s.name}`,
        )
      : null;
  return h(
    "section",
    { class: "card", id, "aria-labelledby": `${id}-title`, dataset: { secret: s.name, set: String(s.set) } },
    h("h2", { id: `${id}-title` }, h("code", {}, s.name), " ", status),
    h("p", {}, s.description ?? "", s.description ? " " : "", h("span", { class: "muted" }, `${s.secret ? "Secret" : "Setting"}${s.required ? ", required" : ""}; read by `), s.servers.map((p, i) => [i ? ", " : "", h("a", { href: `#/servers/${encodeURIComponent(p)}` }, p)])),
    writable ? form : h("p", { class: "muted" }, "This daemon has no console secret store."),
    remove,
  );
}
