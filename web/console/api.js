// The console API: JSON in and out, the session's CSRF token on every change. A 401 sends the user
// to the sign-in page (what they were doing stays in its page until they come back).
const state = { session: undefined };

export class ApiError extends Error {
  constructor(status, body) {
    super(body?.error?.message ?? `HTTP ${status}`);
    this.status = status;
    this.code = body?.error?.code;
    this.hint = body?.error?.hint;
  }
}

export function session() {
  return state.session;
}

export function setSession(value) {
  state.session = value;
  document.dispatchEvent(new CustomEvent("session", { detail: value }));
}

export async function api(path, { method = "GET", body } = {}) {
  const headers = { accept: "application/json" };
  if (method !== "GET") {
    headers["content-type"] = "application/json";
    if (state.session?.csrfToken) headers["x-csrf-token"] = state.session.csrfToken;
  }
  const res = await fetch(`/api/console/${path}`, { method, headers, credentials: "same-origin", ...(body !== undefined ? { body: JSON.stringify(body) } : method !== "GET" ? { body: "{}" } : {}) });
  const text = await res.text();
  const json = text ? JSON.parse(text) : undefined;
  if (!res.ok) {
    const error = new ApiError(res.status, json);
    if (res.status === 401 && path !== "session") {
      setSession(undefined);
      document.dispatchEvent(new CustomEvent("signed-out", { detail: error }));
    }
    throw error;
  }
  return json;
}
