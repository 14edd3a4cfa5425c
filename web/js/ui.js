// ui.js: htm bound to Preact, and the small pieces every page shares.
import { h } from 'preact';
import htm from 'htm';
import { useEffect, useState } from 'preact/hooks';
import { isAbort } from './api.js';
import { LikeButton, CartButton } from './cards.js';

export const html = htm.bind(h);

// Loads fn(signal) on mount (the page's signal: leaving aborts it); {data, error, loading, reload}.
export function useLoad(fn, signal) {
  const [state, setState] = useState({ loading: true, data: null, error: null });
  const [tick, setTick] = useState(0);
  useEffect(() => {
    setState({ loading: true, data: null, error: null });
    fn(signal).then(
      (data) => { if (!signal.aborted) setState({ loading: false, data, error: null }); },
      (error) => { if (!isAbort(error) && !signal.aborted) setState({ loading: false, data: null, error }); });
  }, [tick]);
  return { ...state, reload: () => setTick(tick + 1) };
}

export function formatPrice(price, currency = 'USD', isFree = false) {
  if (isFree || Number(price) === 0) return 'Free';
  try {
    return new Intl.NumberFormat(undefined, { style: 'currency', currency }).format(Number(price));
  } catch {
    return `${Number(price).toFixed(2)} ${currency}`;
  }
}

export function formatCount(n) {
  return new Intl.NumberFormat(undefined).format(Number(n) || 0);
}

export function Loading({ label = 'Loading…' }) {
  return html`<p class="state loading" role="status" aria-live="polite">${label}</p>`;
}

export function Empty({ children }) {
  return html`<p class="state empty" role="status">${children}</p>`;
}

export function ErrorBox({ error, onRetry }) {
  return html`<div class="state error" role="alert">
    <p>${error.message || 'Something went wrong.'}</p>
    ${onRetry && html`<button type="button" onClick=${onRetry}>Try again</button>`}
  </div>`;
}

// One model in a grid: thumbnail and title (a link to its page), creator,
// polygon count and flags, the price with its currency, and the like and
// add-to-cart buttons (cards.js).  A short message from those buttons (a
// 409 "already owned", a 422 "your own model") shows under them.
export function ModelCard({ model, actions = true }) {
  const [note, setNote] = useState('');
  const thumb = model.thumbnail_url;
  const c = model.creator;
  const flags = [
    model.poly_count != null && `${formatCount(model.poly_count)} polys`,
    model.has_animations && 'Animated',
    model.has_rigging && 'Rigged',
  ].filter(Boolean);
  return html`<li class="card">
    <a class="card-link" href=${`/model/${model.id}`}>
      ${thumb
        ? html`<img src=${thumb} alt="" width="320" height="240" loading="lazy" decoding="async" />`
        : html`<div class="thumb-missing" aria-hidden="true">3D</div>`}
      <span class="card-title">${model.title}</span>
    </a>
    <span class="card-info">
      ${c && html`<span class="by">by <a href=${`/u/${encodeURIComponent(c.username)}`}>${c.full_name || c.username}</a></span>`}
      ${flags.length > 0 && html`<span class="card-flags">${flags.join(' · ')}</span>`}
    </span>
    <span class="card-meta">
      <span class="price">${formatPrice(model.price, model.currency, model.is_free)}</span>
      ${actions && html`<span class="card-actions">
        <${LikeButton} model=${model} onNote=${setNote} />
        <${CartButton} model=${model} onNote=${setNote} />
      </span>`}
    </span>
    ${actions && html`<p class="card-note" aria-live="polite">${note}</p>`}
  </li>`;
}

export function ModelGrid({ models, actions = true }) {
  return html`<ul class="grid">${models.map((m) => html`<${ModelCard} key=${m.id} model=${m} actions=${actions} />`)}</ul>`;
}

// base?query with changes applied: '', null, undefined and false remove a key.
export function withQuery(base, query, changes) {
  const q = new URLSearchParams(query);
  for (const [k, v] of Object.entries(changes)) {
    if (v === '' || v === null || v === undefined || v === false) q.delete(k);
    else q.set(k, String(v));
  }
  const s = q.toString();
  return s ? `${base}?${s}` : base;
}

// Previous / "Page n of m" / Next as links; href(n) is page n's address.
export function LinkPager({ page, pages, href, label = 'Pages' }) {
  if (pages <= 1) return null;
  return html`<nav class="pager" aria-label=${label}>
    ${page > 1 ? html`<a rel="prev" href=${href(page - 1)}>← Previous</a>` : html`<span aria-hidden="true"></span>`}
    <span>Page ${page} of ${pages}</span>
    ${page < pages ? html`<a rel="next" href=${href(page + 1)}>Next →</a>` : html`<span aria-hidden="true"></span>`}
  </nav>`;
}

// An amount of money with its currency, 0 included (formatPrice says "Free").
export function formatMoney(amount, currency = 'USD') {
  if (Number(amount) !== 0) return formatPrice(amount, currency);
  try {
    return new Intl.NumberFormat(undefined, { style: 'currency', currency }).format(0);
  } catch {
    return `0.00 ${currency}`;
  }
}
