// Connect: ready-to-paste configuration for MCP clients, with this gateway's URL. The key is never
// shown here (the console does not keep it): each snippet has a placeholder for it.
import { api } from "../api.js";
import { h, show, notice } from "../dom.js";

const KEY = "<your API key>";

export async function connectPage() {
  let info;
  try {
    info = await api("connect");
  } catch (e) {
    if (e.status === 401) return;
    return show(h("h1", {}, "Connect"), h("p", { class: "error", role: "alert" }, e.message));
  }
  const url = `${location.origin}/mcp`;
  const auth = info.authRequired;
  const header = auth ? { Authorization: `Bearer ${KEY}` } : undefined;
  show(
    h("h1", {}, "Connect a client"),
    h(
      "section",
      { class: "card" },
      h("h2", {}, "The endpoint"),
      h("p", {}, "Every server in the registry, as one MCP server (Streamable HTTP): ", h("code", {}, url), ". One server under its own tool names: ", h("code", {}, `${location.origin}/servers/<prefix>/mcp`), "."),
      auth
        ? h("p", {}, "Clients send one of the daemon's API keys as ", h("code", {}, "Authorization: Bearer <key>"), ": the keys in MCP_ROUTER_API_KEYS or --api-keys-file, or the key `serve` generated into ", h("code", {}, "<data dir>/api-key"), " (printed once at its first start). Replace ", h("code", {}, KEY), " below with it.")
        : h("p", {}, "Auth is off on this daemon (--no-auth, loopback only): no key is needed."),
    ),
    snippet("claude-code", "Claude Code", "Run in a terminal:", `claude mcp add --transport http mcp-router ${url}${auth ? ` --header "Authorization: Bearer ${KEY}"` : ""}`),
    snippet("vscode", "VS Code", h("span", {}, "Add to ", h("code", {}, ".vscode/mcp.json"), " (VS Code asks for the key once and keeps it in its secret storage):"), json({ servers: { "mcp-router": { type: "http", url, ...(auth ? { headers: { Authorization: "Bearer ${input:mcp-router-key}" } } : {}) } }, ...(auth ? { inputs: [{ type: "promptString", id: "mcp-router-key", description: "mcp-router API key", password: true }] } : {}) })),
    snippet("cursor", "Cursor", h("span", {}, "Add to ", h("code", {}, "~/.cursor/mcp.json"), " (or ", h("code", {}, ".cursor/mcp.json"), " in a project):"), json({ mcpServers: { "mcp-router": { url, ...(header ? { headers: header } : {}) } } })),
    info.desktop
      ? snippet("claude-desktop", "Claude Desktop", h("span", {}, "Claude Desktop starts ", h("code", {}, "mcp-router stdio"), " on this registry folder itself (no key needed: it runs on your machine). Install it in one step with the command, then restart Claude Desktop:"), info.desktop.install, info.desktop.config, "or paste this under mcpServers in claude_desktop_config.json:")
      : h("section", { class: "card" }, h("h2", {}, "Claude Desktop"), h("p", {}, "This daemon follows a git registry: run ", h("code", {}, "mcp-router desktop-config --install --registry <a checkout of it>"), " on the machine where Claude Desktop runs.")),
  );
}

function json(value) {
  return JSON.stringify(value, null, 2);
}

function snippet(id, title, intro, text, second, secondIntro) {
  return h(
    "section",
    { class: "card", "aria-labelledby": `${id}-title` },
    h("h2", { id: `${id}-title` }, title),
    h("p", {}, intro),
    block(`${id}-snippet`, text),
    second ? [h("p", {}, secondIntro), block(`${id}-config`, second)] : null,
  );
}

function block(id, text) {
  const pre = h("pre", { id, tabindex: "0" }, h("code", {}, text));
  return h(
    "div",
    { class: "snippet" },
    pre,
    h(
      "button",
      {
        type: "button",
        class: "quiet",
        "aria-controls": id,
        onclick: async () => {
          try {
            await navigator.clipboard.writeText(text);
            notice("Copied.");
          } catch {
            notice("Copying is not allowed here: select the text and copy it.");
          }
        },
      },
      "Copy",
    ),
  );
}
