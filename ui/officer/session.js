// The officer console's session: the access token lives in memory only (never in storage);
// the refresh token is an HttpOnly, Secure, SameSite=Strict cookie that only /auth/* sees.
// Every console page imports this module: `requireSignIn()` on load, then `api()` for calls.

let accessToken = null;
let refreshing = null;

/** A new access token from the refresh cookie (one request at a time); null when signed out. */
export async function refresh() {
  if (!refreshing) {
    refreshing = fetch('/auth/refresh', { method: 'POST', credentials: 'same-origin' })
      .then(async (r) => {
        accessToken = r.ok ? (await r.json()).access_token : null;
        return accessToken;
      })
      .catch(() => null)
      .finally(() => { refreshing = null; });
  }
  return refreshing;
}

/** Keeps the token of a fresh sign-in (the sign-in page calls it). */
export function keep(token) {
  accessToken = token;
}

/** The current access token, refreshed if there is none. */
export async function token() {
  return accessToken || refresh();
}

/**
 * `fetch` for the officer API: adds `Authorization: Bearer`, refreshes once on 401 and retries;
 * sends the user to the sign-in page when the session is over.
 */
export async function api(path, options = {}) {
  const send = (t) => fetch(path, {
    ...options,
    credentials: 'same-origin',
    headers: { ...(options.headers || {}), Authorization: `Bearer ${t}` },
  });
  let t = await token();
  if (!t) return toSignIn();
  let r = await send(t);
  if (r.status === 401) {
    t = await refresh();
    if (!t) return toSignIn();
    r = await send(t);
  }
  return r;
}

/** JSON of an officer API call, or an Error carrying the API's `{error:{code,message}}`. */
export async function apiJson(path, options = {}) {
  const r = await api(path, options);
  const body = await r.json().catch(() => ({}));
  if (!r.ok) {
    const e = new Error((body.error && body.error.message) || `请求失败（${r.status}）`);
    e.code = body.error && body.error.code;
    e.status = r.status;
    throw e;
  }
  return body;
}

/** On a console page: a token, or off to the sign-in page (returning here afterwards). */
export async function requireSignIn() {
  const t = await token();
  if (!t) return toSignIn();
  return t;
}

/** Signs out: the refresh token is revoked, the cookie cleared, the token forgotten. */
export async function signOut() {
  accessToken = null;
  await fetch('/auth/sign-out', { method: 'POST', credentials: 'same-origin' }).catch(() => {});
  window.location.assign('login.html');
}

function toSignIn() {
  const back = window.location.pathname + window.location.hash;
  window.location.assign(`login.html?next=${encodeURIComponent(back)}`);
  return new Promise(() => {}); // the page is leaving
}
