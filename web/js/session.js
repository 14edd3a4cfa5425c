// session.js: who is signed in, shared by the header and every page.
//
// The access token stays in api.js's memory.  After a reload it is gone; the
// refresh cookie (httpOnly) may still be good, so when this browser signed in
// before (a flag in localStorage, holding no secret) loadSession() asks for a
// new token once.  Anonymous visitors send no request that must fail.
import { useEffect, useState } from 'preact/hooks';
import { api, hasAccessToken, refresh, setAccessToken } from './api.js';

const FLAG = 'hwc3d.session';
let state = { user: null, ready: false, cartCount: 0 };
const listeners = new Set();

function update(changes) {
  state = { ...state, ...changes };
  for (const fn of listeners) fn(state);
}

export function getSession() {
  return state;
}

// {user, ready, cartCount}; re-renders the caller when it changes.
export function useSession() {
  const [s, setS] = useState(state);
  useEffect(() => {
    listeners.add(setS);
    setS(state);
    return () => listeners.delete(setS);
  }, []);
  return s;
}

async function loadCartCount() {
  try {
    const cart = await api('/api/cart');
    update({ cartCount: (cart.items || []).length });
  } catch {
    update({ cartCount: 0 });
  }
}

// Called at start-up, and after anything that changes the user; callers
// at the same time share one round trip.  Without an access token (after a
// reload) it first trades the refresh cookie for one, so no request is sent
// that must fail.
let loading = null;

export function loadSession() {
  if (!loading) loading = load().finally(() => { loading = null; });
  return loading;
}

async function load() {
  let hinted = false;
  try { hinted = localStorage.getItem(FLAG) === '1'; } catch { hinted = false; }
  if (!hinted && !hasAccessToken()) {
    update({ user: null, ready: true });
    return;
  }
  try {
    if (!hasAccessToken() && !(await refresh())) throw new Error('signed out');
    const me = await api('/api/users/me');
    update({ user: me.user || me, ready: true });
    loadCartCount();
  } catch {
    try { localStorage.removeItem(FLAG); } catch { /* private mode */ }
    setAccessToken(null);
    update({ user: null, ready: true, cartCount: 0 });
  }
}

// After login, OTP verification or OAuth: the body of a session answer.
export function signedIn(body) {
  setAccessToken(body.access_token);
  try { localStorage.setItem(FLAG, '1'); } catch { /* private mode */ }
  update({ user: body.user || state.user, ready: true });
  return loadSession();
}

export async function signOut() {
  try { await api('/api/auth/logout', { method: 'POST' }); } catch { /* signed out anyway */ }
  setAccessToken(null);
  try { localStorage.removeItem(FLAG); } catch { /* private mode */ }
  update({ user: null, cartCount: 0 });
}

export function setCartCount(n) {
  update({ cartCount: n });
}

export function refreshCartCount() {
  return state.user ? loadCartCount() : Promise.resolve();
}
