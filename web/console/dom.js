// A tiny element builder: text always goes in as text (never parsed as HTML), so nothing a server
// or a registry file says can become markup or script.
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on") && typeof value === "function") el.addEventListener(name.slice(2), value);
    else if (name === "dataset") Object.assign(el.dataset, value);
    else el.setAttribute(name, value === true ? "" : String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
}

/** Replaces the main region's content and moves focus to its heading, for keyboard and screen-reader users. */
export function show(...children) {
  const main = document.getElementById("main");
  main.replaceChildren();
  append(main, children);
  const heading = main.querySelector("h1");
  if (heading) {
    heading.setAttribute("tabindex", "-1");
    heading.focus({ preventScroll: false });
    document.title = `${heading.textContent} · mcp-router`;
  }
}

export function notice(text) {
  const el = document.getElementById("notice");
  el.textContent = text;
  clearTimeout(notice.timer);
  notice.timer = setTimeout(() => (el.textContent = ""), 6000);
}

export function time(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  return h("time", { datetime: iso, title: d.toLocaleString() }, d.toLocaleTimeString());
}

export function shortRevision(revision) {
  if (!revision) return "none";
  return /^[0-9a-f]{40}$/.test(revision) ? revision.slice(0, 10) : revision;
}

export function badge(condition) {
  const labels = { live: "live", preparing: "preparing", failed: "failed", stale: "stale but serving", disabled: "disabled" };
  return h("span", { class: `badge badge-${condition}` }, labels[condition] ?? condition);
}
