// Revisions, every server's condition, the last reloads: kept current by the daemon's event stream.
import { h, show, time, shortRevision, badge } from "../dom.js";

/** A reload that changed many servers (the first one adds them all) lists the first few. */
const SHOWN_CHANGES = 10;

export function overviewPage() {
  const live = h("div", { "aria-live": "polite", id: "overview" }, h("p", { class: "loading" }, "Loading…"));
  show(h("h1", {}, "Overview"), live);
  const events = new EventSource("/api/console/events");
  events.addEventListener("overview", (event) => render(live, JSON.parse(event.data)));
  events.addEventListener("signed-out", () => {
    events.close();
    document.dispatchEvent(new CustomEvent("signed-out", { detail: new Error("Your session has ended; sign in again.") }));
  });
  events.onerror = () => {
    // A stream refused (401: the session ended while away) stays closed; a dropped one reconnects by itself.
    if (events.readyState === EventSource.CLOSED) document.dispatchEvent(new CustomEvent("signed-out", { detail: new Error("Your session has ended; sign in again.") }));
  };
  return () => events.close();
}

function render(root, o) {
  const focused = document.activeElement?.id;
  const applied = o.lastAppliedRevision;
  const attempted = o.lastAttemptedRevision;
  root.replaceChildren(
    h(
      "section",
      { class: "card", "aria-labelledby": "revisions-title" },
      h("h2", { id: "revisions-title" }, "Registry"),
      h(
        "dl",
        { class: "facts" },
        h("dt", {}, "Source"),
        h("dd", {}, o.source),
        h("dt", {}, "Applied revision"),
        h("dd", { id: "applied-revision" }, h("code", {}, shortRevision(applied)), " ", time(o.lastAppliedAt)),
        h("dt", {}, "Attempted revision"),
        h("dd", { id: "attempted-revision" }, h("code", {}, shortRevision(attempted)), " ", time(o.lastAttemptAt), attempted && attempted !== applied ? h("span", { class: "badge badge-failed" }, "not applied") : null),
      ),
      o.lastError ? h("p", { class: "error" }, `${o.lastError.reason}: ${o.lastError.message}`) : null,
    ),
    h(
      "section",
      { class: "card", "aria-labelledby": "servers-title" },
      h("h2", { id: "servers-title" }, `Servers (${o.servers.length})`),
      o.servers.length === 0
        ? h("p", {}, "No server files in the registry yet.")
        : h(
            "table",
            { class: "servers" },
            h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Server"), h("th", { scope: "col" }, "Condition"), h("th", { scope: "col" }, "Tools"), h("th", { scope: "col" }, "Reason"), h("th", { scope: "col" }, "Since"))),
            h(
              "tbody",
              {},
              o.servers.map((s) =>
                h(
                  "tr",
                  { dataset: { prefix: s.prefix, condition: s.condition } },
                  h("th", { scope: "row" }, h("a", { href: `#/servers/${encodeURIComponent(s.prefix)}`, id: `server-link-${s.prefix}` }, s.prefix), s.title ? h("span", { class: "muted" }, ` ${s.title}`) : null),
                  h("td", {}, badge(s.condition)),
                  h("td", {}, String(s.tools)),
                  h("td", {}, h("span", {}, s.reason), s.message && s.reason !== "Applied" ? h("p", { class: "message" }, s.message) : null),
                  h("td", {}, time(s.since)),
                ),
              ),
            ),
          ),
    ),
    h(
      "section",
      { class: "card", "aria-labelledby": "reloads-title" },
      h("h2", { id: "reloads-title" }, "Recent reloads"),
      o.reloads.length === 0
        ? h("p", {}, "None since the daemon started.")
        : h(
            "ol",
            { class: "reloads" },
            o.reloads.map((r) =>
              h(
                "li",
                {},
                time(r.at),
                " ",
                h("code", {}, shortRevision(r.revision)),
                " ",
                r.ok ? h("span", { class: "badge badge-live" }, "applied") : h("span", { class: "badge badge-failed" }, "problems"),
                r.error ? h("p", { class: "error" }, r.error) : null,
                r.changes.length ? h("ul", {}, r.changes.slice(0, SHOWN_CHANGES).map((c) => h("li", {}, h("code", {}, c.prefix), ` ${c.change}`, c.from ? ` (${c.from} → ${c.to})` : c.to ? ` (${c.to})` : "")), r.changes.length > SHOWN_CHANGES ? h("li", { class: "muted" }, `and ${r.changes.length - SHOWN_CHANGES} more`) : null) : null,
              ),
            ),
          ),
    ),
  );
  // A live update must not steal the keyboard user's place.
  if (focused) document.getElementById(focused)?.focus();
}
