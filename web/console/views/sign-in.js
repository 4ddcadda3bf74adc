import { api, setSession } from "../api.js";
import { h, show } from "../dom.js";

export function signInPage({ onSignedIn }) {
  const error = h("p", { class: "error", id: "sign-in-error", role: "alert" });
  const key = h("input", { id: "api-key", name: "key", type: "password", autocomplete: "current-password", required: true, "aria-describedby": "api-key-help sign-in-error", spellcheck: "false" });
  const form = h(
    "form",
    { class: "card narrow", onsubmit: submit },
    h("label", { for: "api-key" }, "API key"),
    key,
    h("p", { class: "help", id: "api-key-help" }, "One of the keys the gateway accepts as a bearer token (MCP_ROUTER_API_KEYS, --api-keys-file, or the key ", h("code", {}, "serve"), " generated into ", h("code", {}, "<data dir>/api-key"), "). It opens a session in this browser; the key itself is not stored here."),
    error,
    h("button", { type: "submit" }, "Sign in"),
  );
  show(h("h1", {}, "Sign in"), form);

  // With auth off (a loopback bind with --no-auth), there is no key to give.
  api("session").then((s) => {
    if (!s.authRequired) {
      key.required = false;
      key.closest("form").querySelector(".help").textContent = "Auth is off on this daemon (--no-auth on a loopback address): no key is needed.";
    }
  });

  async function submit(event) {
    event.preventDefault();
    error.textContent = "";
    try {
      const s = await api("session", { method: "POST", body: { key: key.value } });
      key.value = "";
      setSession(s);
      onSignedIn();
    } catch (e) {
      error.textContent = e.hint ? `${e.message}. ${e.hint}` : e.message;
      key.focus();
    }
  }
}
