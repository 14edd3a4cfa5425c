// api.js: the one API client of the web client.
//
// - The access token lives in memory only (never localStorage); the refresh
//   token is the server's httpOnly cookie.
// - A 401 (outside /api/auth/) triggers one POST /api/auth/refresh, shared
//   by concurrent callers, and one retry: after a reload the token is gone
//   but the cookie may still be good.
// - A non-2xx answer becomes an ApiError carrying the server's body
//   {detail, error_code, field_errors}.
// - Every call takes the page's AbortSignal, so leaving a page aborts its
//   requests (the router owns one AbortController per page).

let accessToken = null;
let refreshing = null;

export function setAccessToken(token) {
  accessToken = token || null;
}

export function hasAccessToken() {
  return accessToken !== null;
}

export class ApiError extends Error {
  constructor(status, body) {
    super((body && body.detail) || `Request failed (HTTP ${status})`);
    this.name = 'ApiError';
    this.status = status;
    this.error_code = (body && body.error_code) || (status >= 500 ? 'INTERNAL_ERROR' : 'ERROR');
    this.field_errors = (body && body.field_errors) || {};
  }
}

export function isAbort(err) {
  return err && err.name === 'AbortError';
}

function buildUrl(path, query) {
  const url = new URL(path, location.origin);
  for (const [k, v] of Object.entries(query || {}))
    if (v !== undefined && v !== null && v !== '') url.searchParams.set(k, String(v));
  return url.pathname + url.search;
}

// One refresh at a time; true when a new access token was obtained.
function refresh() {
  if (!refreshing) {
    refreshing = fetch('/api/auth/refresh', { method: 'POST', credentials: 'same-origin' })
      .then(async (r) => {
        if (!r.ok) {
          accessToken = null;
          return false;
        }
        const body = await r.json();
        accessToken = body.access_token || null;
        return accessToken !== null;
      })
      .catch(() => false)
      .finally(() => { refreshing = null; });
  }
  return refreshing;
}

async function send(method, url, body, signal, extra) {
  const headers = { ...extra, Accept: 'application/json' };
  if (accessToken) headers.Authorization = `Bearer ${accessToken}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  return fetch(url, {
    method, headers, signal, credentials: 'same-origin',
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

// api('/api/models', {query: {page: 2}, signal}) -> parsed JSON body.
// `headers` adds request headers (e.g. Idempotency-Key); the client's own
// (Accept, Authorization, Content-Type) always win.
export async function api(path, { method = 'GET', query, body, signal, headers } = {}) {
  const url = buildUrl(path, query);
  let r = await send(method, url, body, signal, headers);
  if (r.status === 401 && !path.startsWith('/api/auth/') && await refresh())
    r = await send(method, url, body, signal, headers);
  const text = await r.text();
  let data = null;
  if (text) {
    try { data = JSON.parse(text); } catch { data = null; }
  }
  if (!r.ok) throw new ApiError(r.status, data);
  return data;
}
