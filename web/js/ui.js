// ui.js: htm bound to Preact, and the small pieces every page shares.
import { h } from 'preact';
import htm from 'htm';
import { useEffect, useState } from 'preact/hooks';
import { isAbort } from './api.js';

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

export function ModelCard({ model }) {
  const thumb = model.thumbnail_url;
  return html`<li class="card">
    <a href=${`/model/${model.id}`}>
      ${thumb
        ? html`<img src=${thumb} alt="" width="320" height="240" loading="lazy" decoding="async" />`
        : html`<div class="thumb-missing" aria-hidden="true">3D</div>`}
      <span class="card-title">${model.title}</span>
    </a>
    <span class="card-meta">
      <span class="price">${formatPrice(model.price, model.currency, model.is_free)}</span>
      ${model.creator && html`<span class="by">by ${model.creator.username}</span>`}
    </span>
  </li>`;
}

export function ModelGrid({ models }) {
  return html`<ul class="grid">${models.map((m) => html`<${ModelCard} key=${m.id} model=${m} />`)}</ul>`;
}
