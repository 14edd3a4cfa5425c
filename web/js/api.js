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

// The role claim of the access token held ("user", "admin"), or null.  Read
// only to choose what to show: the server checks the signature and the role.
export function tokenRole() {
  if (!accessToken) return null;
  try {
    const part = accessToken.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
    return JSON.parse(atob(part)).role || null;
  } catch {
    return null;
  }
}

export class ApiError extends Error {
  constructor(status, body) {
    super((body && body.detail) || `Request failed (HTTP ${status})`);
    this.name = 'ApiError';
    this.status = status;
    this.error_code = (body && body.error_code) || (status >= 500 ? 'INTERNAL_ERROR' : 'ERROR');
    this.field_errors = (body && body.field_errors) || {};
    this.retry_after = (body && body.retry_after) || null;
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
export function refresh() {
  if (!refreshing) {
    refreshing = fetch('/api/auth/refresh', { method: 'POST', credentials: 'same-origin' })
      .then(async (r) => {
        if (!r.ok) {
          await r.text().catch(() => ''); // read to the end: no request left open
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
// (Accept, Authorization, Content-Type) always win.  A body that is not
// JSON (an image, a PDF): apiBlob below.
export async function api(path, { method = 'GET', query, body, signal, headers } = {}) {
  const url = buildUrl(path, query);
  let r = await send(method, url, body, signal, headers);
  if (r.status === 401 && !path.startsWith('/api/auth/')) {
    const stale = r;
    if (await refresh()) {
      await stale.text().catch(() => ''); // the refused answer, read to its end
      r = await send(method, url, body, signal, headers);
    }
  }
  const text = await r.text();
  let data = null;
  if (text) {
    try { data = JSON.parse(text); } catch { data = null; }
  }
  if (!r.ok) throw new ApiError(r.status, data);
  return data;
}

// apiBlob(path, {method, query, body, signal}) -> the answer as a Blob (a
// PDF, a file), with the token and one refresh as api(); an ApiError for a
// non-2xx answer.
export async function apiBlob(path, { method = 'GET', query, body, signal } = {}) {
  const url = buildUrl(path, query);
  let r = await send(method, url, body, signal);
  if (r.status === 401 && await refresh()) {
    await r.blob().catch(() => null);
    r = await send(method, url, body, signal);
  }
  if (!r.ok) {
    let data = null;
    try { data = JSON.parse(await r.text()); } catch { data = null; }
    throw new ApiError(r.status, data);
  }
  return r.blob();
}

// upload('/api/upload/model', formData, {onProgress, signal}) -> parsed JSON
// body.  XMLHttpRequest, for its upload progress events (fetch has none);
// otherwise as api(): the bearer token, one refresh and retry on a 401, an
// ApiError for a non-2xx answer, an AbortError when signal aborts.
// onProgress(loaded, total) gets bytes sent (total 0 when unknown).
export async function upload(path, formData, { onProgress, signal } = {}) {
  const once = () => new Promise((resolve, reject) => {
    if (signal && signal.aborted) {
      reject(new DOMException('The upload was cancelled.', 'AbortError'));
      return;
    }
    const xhr = new XMLHttpRequest();
    const onAbort = () => xhr.abort();
    const done = () => { if (signal) signal.removeEventListener('abort', onAbort); };
    xhr.open('POST', path);
    xhr.setRequestHeader('Accept', 'application/json');
    if (accessToken) xhr.setRequestHeader('Authorization', `Bearer ${accessToken}`);
    if (onProgress) xhr.upload.onprogress = (e) => onProgress(e.loaded, e.lengthComputable ? e.total : 0);
    xhr.onload = () => {
      done();
      let data = null;
      if (xhr.responseText) {
        try { data = JSON.parse(xhr.responseText); } catch { data = null; }
      }
      resolve({ status: xhr.status, data });
    };
    xhr.onerror = () => { done(); reject(new TypeError('The upload failed: network error.')); };
    xhr.onabort = () => { done(); reject(new DOMException('The upload was cancelled.', 'AbortError')); };
    if (signal) signal.addEventListener('abort', onAbort, { once: true });
    xhr.send(formData);
  });
  let r = await once();
  if (r.status === 401 && await refresh()) {
    if (onProgress) onProgress(0, 0);
    r = await once();
  }
  if (r.status < 200 || r.status >= 300) throw new ApiError(r.status, r.data);
  return r.data;
}
