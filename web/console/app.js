// The console's shell: who is signed in, and which page the address (#/...) names.
import { api, session, setSession } from "./api.js";
import { notice } from "./dom.js";
import { connectPage } from "./views/connect.js";
import { editorPage } from "./views/editor.js";
import { metricsPage } from "./views/metrics.js";
import { overviewPage } from "./views/overview.js";
import { secretsPage } from "./views/secrets.js";
import { serverPage } from "./views/server.js";
import { signInPage } from "./views/sign-in.js";

let leave = () => {};

async function render() {
  leave();
  leave = () => {};
  const hash = location.hash || "#/";
  if (!session()) return void (leave = signInPage({ onSignedIn: render }) ?? (() => {}));
  const server = /^#\/servers\/([^/]+)$/.exec(hash);
  if (server) leave = (await serverPage(decodeURIComponent(server[1]))) ?? (() => {});
  else if (hash === "#/secrets") leave = (await secretsPage()) ?? (() => {});
  else if (hash === "#/connect") leave = (await connectPage()) ?? (() => {});
  else if (hash === "#/metrics") leave = (await metricsPage()) ?? (() => {});
  else if (hash === "#/add") leave = (await editorPage()) ?? (() => {});
  else if (/^#\/edit\/[^/]+$/.test(hash)) leave = (await editorPage(decodeURIComponent(hash.slice("#/edit/".length)))) ?? (() => {});
  else leave = overviewPage() ?? (() => {});
}

function showWho(current) {
  const who = document.getElementById("who");
  document.getElementById("sign-out").hidden = !current;
  document.getElementById("nav-links").hidden = !current;
  who.textContent = current ? (current.authRequired ? `signed in as ${current.principal}` : "auth is off (loopback)") : "";
}

document.addEventListener("session", (event) => showWho(event.detail));
document.addEventListener("signed-out", (event) => {
  notice(event.detail?.message ?? "Signed out.");
  render();
});

document.getElementById("sign-out").addEventListener("click", async () => {
  try {
    await api("session", { method: "DELETE" });
  } catch {
    // Already ended on the daemon's side: signed out either way.
  }
  setSession(undefined);
  notice("Signed out.");
  location.hash = "#/";
  render();
});

window.addEventListener("hashchange", render);

const current = await api("session");
setSession(current.signedIn ? current : undefined);
if (current.expired) notice("Your session has ended; sign in again.");
render();
