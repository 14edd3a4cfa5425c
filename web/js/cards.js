// cards.js: the like and add-to-cart buttons of a model card (ui.js
// ModelCard).  A signed-out visitor is sent to /auth?next=<this page>.
// Each button is named after its model ("Like <title>", "Add to cart:
// <title>"), so a grid of cards stays understandable to a screen reader.
import { h } from 'preact';
import htm from 'htm';
import { useEffect, useRef, useState } from 'preact/hooks';
import { api } from './api.js';
import { getSession, useSession, setCartCount } from './session.js';
import { navigate, here } from './nav.js';

const html = htm.bind(h);

function toSignIn() {
  navigate(`/auth?next=${encodeURIComponent(here())}`);
}

// True when the error means "sign in first" (it was sent to /auth).
function signInFirst(err) {
  if (err && err.status === 401) {
    toSignIn();
    return true;
  }
  return false;
}

// ♥ with the likes count; POST or DELETE /api/models/{id}/like.
export function LikeButton({ model, onNote }) {
  const [liked, setLiked] = useState(Boolean(model.is_liked));
  const [count, setCount] = useState(Number(model.likes_count) || 0);
  const [busy, setBusy] = useState(false);
  const onClick = async () => {
    if (busy) return;
    if (!getSession().user) return toSignIn();
    setBusy(true);
    onNote('');
    try {
      const r = await api(`/api/models/${model.id}/like`, { method: liked ? 'DELETE' : 'POST' });
      setLiked(Boolean(r && r.is_liked !== undefined ? r.is_liked : !liked));
      if (r && r.likes_count !== undefined) setCount(Number(r.likes_count) || 0);
    } catch (err) {
      if (!signInFirst(err)) onNote(err.message);
    } finally {
      setBusy(false);
    }
  };
  return html`<span class="like">
    <button type="button" class=${`icon-button${liked ? ' on' : ''}`} aria-pressed=${liked ? 'true' : 'false'}
      aria-label=${`Like ${model.title}`} aria-disabled=${busy ? 'true' : undefined} onClick=${onClick}>
      <span aria-hidden="true">${liked ? '♥' : '♡'}</span>
    </button>
    <span class="likes-count">${new Intl.NumberFormat().format(count)}<span class="sr-only"> likes</span></span>
  </span>`;
}

// Why a model cannot go into the caller's cart, or '' when it can.
function cartBlock(model, user) {
  if (model.is_free || Number(model.price) === 0) return 'free';
  if (model.is_purchased) return 'owned';
  if (user && model.creator && model.creator.id === user.id) return 'own';
  return '';
}

// "Add to cart": POST /api/cart {model_id}; the header's count follows.
export function CartButton({ model, onNote }) {
  const { user } = useSession();
  const [state, setState] = useState('idle'); // idle | busy | added
  const link = useRef(null);
  // The button becomes an "In cart" link: keyboard focus moves onto it.
  useEffect(() => {
    if (state === 'added' && link.current && (!document.activeElement || document.activeElement === document.body))
      link.current.focus();
  }, [state]);
  const block = cartBlock(model, user);
  if (block === 'free') return null;
  // Named "<visible words>: <title>", the visible words first (WCAG 2.5.3).
  const name = (text) => `${text}: ${model.title}`;
  if (block === 'owned') return html`<a class="card-action" href=${`/model/${model.id}`} aria-label=${name('Owned')}>Owned</a>`;
  if (block === 'own') return html`<span class="card-action muted">Your model</span>`;
  if (state === 'added') return html`<a class="card-action" href="/cart" ref=${link} aria-label=${name('In cart')}>In cart</a>`;
  const onClick = async () => {
    if (state === 'busy') return;
    if (!getSession().user) return toSignIn();
    setState('busy');
    onNote('');
    try {
      const cart = await api('/api/cart', { method: 'POST', body: { model_id: model.id } });
      setCartCount(cart && cart.count !== undefined ? cart.count : ((cart && cart.items) || []).length);
      setState('added');
    } catch (err) {
      setState('idle');
      if (signInFirst(err)) return;
      if (err.status === 409) onNote('You already own this model.');
      else onNote(err.message);
    }
  };
  return html`<button type="button" class="card-action" aria-label=${name('Add to cart')}
    aria-disabled=${state === 'busy' ? 'true' : undefined} onClick=${onClick}>${state === 'busy' ? 'Adding…' : 'Add to cart'}</button>`;
}

// The key of whoever is looking: null until the session is known, then the
// user's id or 'anon'.  A list rendered under this key is fetched with the
// caller's token (so is_liked and is_purchased are theirs) and again after
// signing in or out.
export function useViewerKey() {
  const { user, ready } = useSession();
  if (!ready) return null;
  return user ? `u${user.id}` : 'anon';
}
