// marketplace.js: GET /api/models with every filter the API offers
// (search, category, price and polygon ranges, animated, rigged and free
// only, sort) and the page, all kept in the URL query so that a filtered
// page can be shared and reloaded.  Changing a filter goes back to page 1.
// The API pages by number (page, limit): there is no cursor to follow.
import { useEffect, useState } from 'preact/hooks';
import { api } from '../api.js';
import { navigate } from '../nav.js';
import { useViewerKey } from '../cards.js';
import { html, useLoad, formatCount, formatPrice, withQuery, Loading, Empty, ErrorBox, ModelGrid } from '../ui.js';

const SORTS = [
  ['newest', 'Newest'], ['popular', 'Most popular'], ['price_low', 'Price: low to high'],
  ['price_high', 'Price: high to low'], ['downloads', 'Most downloaded'], ['rating', 'Top rated'],
  ['oldest', 'Oldest'],
];
const TOGGLES = [
  ['has_animations', 'Animated only'], ['has_rigging', 'Rigged only'], ['is_free', 'Free only'],
];
const RANGES = ['min_price', 'max_price', 'min_poly_count', 'max_poly_count'];
// Every query parameter that is a filter (the page is not).
const FILTERS = ['search', 'category', 'sort', ...RANGES, ...TOGGLES.map(([k]) => k)];
const LIMIT = 24;
const PRICE = /^[0-9]+(\.[0-9]{1,2})?$/;
const WHOLE = /^[0-9]+$/;

// The page re-mounts on every URL change: the control that had focus gets
// it back, and the categories are fetched once per visit of the app.
let refocus = null;
let categoriesCache = null;

// Navigates to url; the control `from` (or the focused one) gets focus back.
function go(url, from) {
  const el = from || document.activeElement;
  refocus = el && el.id ? el.id : null;
  navigate(url);
}

function hasFilters(query) {
  return FILTERS.some((k) => query.get(k));
}

// The messages of field_errors[name] (an array or a string), or ''.
function fieldError(errors, name) {
  const e = errors && errors[name];
  if (!e) return '';
  return Array.isArray(e) ? e.join(' ') : String(e);
}

function loadCategories(signal) {
  if (categoriesCache) return Promise.resolve(categoriesCache);
  return api('/api/categories', { query: { limit: 100 }, signal }).then((d) => {
    categoriesCache = Array.isArray(d) ? d : d.items || [];
    return categoriesCache;
  });
}

// Checks the ranges before they reach the URL; {field: message}.
function checkRanges(values) {
  const errors = {};
  for (const k of ['min_price', 'max_price'])
    if (values[k] && !PRICE.test(values[k])) errors[k] = 'Enter an amount such as 10 or 9.99.';
  for (const k of ['min_poly_count', 'max_poly_count'])
    if (values[k] && !WHOLE.test(values[k])) errors[k] = 'Enter a whole number.';
  const pair = (lo, hi) => {
    if (!errors[lo] && !errors[hi] && values[lo] && values[hi] && Number(values[lo]) > Number(values[hi]))
      errors[hi] = 'Must not be below the minimum.';
  };
  pair('min_price', 'max_price');
  pair('min_poly_count', 'max_poly_count');
  return errors;
}

function NumberField({ name, label, value, error, step, placeholder }) {
  const id = `mk-${name}`;
  return html`<div class="field small">
    <label for=${id}>${label}</label>
    <input id=${id} name=${name} type="text" inputmode=${step === 1 ? 'numeric' : 'decimal'} defaultValue=${value || ''}
      placeholder=${placeholder} autocomplete="off" maxlength="16"
      aria-invalid=${error ? 'true' : undefined} aria-describedby=${error ? `${id}-error` : undefined} />
    ${error && html`<small class="field-error" id=${`${id}-error`}>${error}</small>`}
  </div>`;
}

function Filters({ query, signal, errors, setErrors }) {
  const cats = useLoad(loadCategories, signal);
  const categories = cats.data || [];
  const searching = Boolean(query.get('search'));
  useEffect(() => {
    if (!refocus) return;
    const el = document.getElementById(refocus);
    refocus = null;
    if (el) el.focus();
  }, []);
  const apply = (form, from) => {
    const f = new FormData(form);
    const values = { page: '' };
    for (const k of ['search', ...RANGES]) values[k] = String(f.get(k) || '').trim();
    values.category = f.get('category') || '';
    values.sort = f.get('sort') || '';
    for (const [k] of TOGGLES) values[k] = f.get(k) ? 'true' : '';
    const bad = checkRanges(values);
    if (Object.keys(bad).length) {
      setErrors(bad);
      const first = document.getElementById(`mk-${Object.keys(bad)[0]}`);
      if (first) first.focus();
      return;
    }
    go(withQuery('/marketplace', query, values), from);
  };
  const onSubmit = (e) => {
    e.preventDefault();
    apply(e.target);
  };
  // Selects and checkboxes apply at once; typed values on "Apply filters".
  const onChange = (e) => {
    if (e.target.tagName === 'SELECT' || e.target.type === 'checkbox') apply(e.target.form, e.target);
  };
  const wide = typeof matchMedia === 'function' && matchMedia('(min-width: 760px)').matches;
  const err = (k) => fieldError(errors, k);
  return html`<form class="mk-filters" role="search" aria-label="Filter models" onSubmit=${onSubmit} onChange=${onChange} novalidate>
    <div class="mk-top">
      <div class="field grow">
        <label for="mk-search">Search</label>
        <input id="mk-search" name="search" type="search" maxlength="1024" defaultValue=${query.get('search') || ''}
          placeholder="Title, tag or description"
          aria-invalid=${err('search') ? 'true' : undefined} aria-describedby=${err('search') ? 'mk-search-error' : undefined} />
        ${err('search') && html`<small class="field-error" id="mk-search-error">${err('search')}</small>`}
      </div>
      <div class="field">
        <label for="mk-sort">Sort by</label>
        <select id="mk-sort" name="sort">
          <option value="" selected=${!query.get('sort')}>${searching ? 'Best match' : 'Newest'} (default)</option>
          ${SORTS.map(([v, label]) => html`<option value=${v} selected=${v === query.get('sort')}>${label}</option>`)}
        </select>
      </div>
      <button type="submit">Apply filters</button>
    </div>
    <details class="mk-more" open=${wide || FILTERS.some((k) => k !== 'search' && k !== 'sort' && query.get(k)) || Object.keys(errors || {}).length > 0}>
      <summary>More filters</summary>
      <div class="mk-grid">
        <div class="field">
          <label for="mk-category">Category</label>
          <select id="mk-category" name="category">
            <option value="">All categories</option>
            ${categories.map((c) => html`<option value=${c.slug || c.id} selected=${(c.slug || String(c.id)) === query.get('category')}>${c.name}${c.models_count != null ? ` (${formatCount(c.models_count)})` : ''}</option>`)}
          </select>
          ${cats.loading && html`<small class="hint-muted">Loading categories…</small>`}
          ${cats.error && html`<small class="field-error">Categories could not be loaded: ${cats.error.message}</small>`}
        </div>
        <fieldset class="range">
          <legend>Price (USD)</legend>
          <${NumberField} name="min_price" label="Min price" value=${query.get('min_price')} error=${err('min_price') || err('price_range')} placeholder="0" />
          <${NumberField} name="max_price" label="Max price" value=${query.get('max_price')} error=${err('max_price')} placeholder="Any" />
        </fieldset>
        <fieldset class="range">
          <legend>Polygons</legend>
          <${NumberField} name="min_poly_count" label="Min polygons" value=${query.get('min_poly_count')} error=${err('min_poly_count') || err('poly_count_range')} step=${1} placeholder="0" />
          <${NumberField} name="max_poly_count" label="Max polygons" value=${query.get('max_poly_count')} error=${err('max_poly_count')} step=${1} placeholder="Any" />
        </fieldset>
        <fieldset class="toggles">
          <legend>Only show</legend>
          ${TOGGLES.map(([k, label]) => html`<label class="check" for=${`mk-${k}`}>
            <input type="checkbox" id=${`mk-${k}`} name=${k} value="true" defaultChecked=${query.get(k) === 'true'} />
            ${label}
          </label>`)}
        </fieldset>
      </div>
    </details>
  </form>`;
}

// The active filters as removable chips, and "Clear all filters".
function ActiveFilters({ query, categories }) {
  const chips = [];
  const cat = query.get('category');
  if (query.get('search')) chips.push(['search', `“${query.get('search')}”`]);
  if (cat) {
    const c = (categories || []).find((x) => (x.slug || String(x.id)) === cat);
    chips.push(['category', c ? c.name : cat]);
  }
  if (query.get('min_price')) chips.push(['min_price', `From ${formatPrice(query.get('min_price'), 'USD')}`]);
  if (query.get('max_price')) chips.push(['max_price', `Up to ${formatPrice(query.get('max_price'), 'USD')}`]);
  if (query.get('min_poly_count')) chips.push(['min_poly_count', `≥ ${formatCount(query.get('min_poly_count'))} polys`]);
  if (query.get('max_poly_count')) chips.push(['max_poly_count', `≤ ${formatCount(query.get('max_poly_count'))} polys`]);
  for (const [k, label] of TOGGLES) if (query.get(k)) chips.push([k, label]);
  if (!chips.length) return null;
  return html`<ul class="chips" aria-label="Active filters">
    ${chips.map(([k, label]) => html`<li>
      <a class="chip" href=${withQuery('/marketplace', query, { [k]: '', page: '' })}>
        <span class="sr-only">Remove filter: </span><span class="chip-text">${label}</span><span class="chip-x" aria-hidden="true">×</span>
      </a>
    </li>`)}
    <li><a class="clear" href="/marketplace${query.get('sort') ? `?sort=${encodeURIComponent(query.get('sort'))}` : ''}">Clear all filters</a></li>
  </ul>`;
}

// The page numbers to offer around the current one (0 is a gap).
function pageList(page, pages) {
  const want = new Set([1, pages, page - 1, page, page + 1]);
  const list = [...want].filter((n) => n >= 1 && n <= pages).sort((a, b) => a - b);
  const out = [];
  list.forEach((n, i) => {
    if (i && n - list[i - 1] > 1) out.push(0);
    out.push(n);
  });
  return out;
}

function Pager({ query, page, pages }) {
  if (pages <= 1) return null;
  const href = (n) => withQuery('/marketplace', query, { page: n === 1 ? '' : n });
  return html`<nav class="pager" aria-label="Pages">
    ${page > 1 ? html`<a rel="prev" href=${href(page - 1)}>← Previous</a>` : html`<span aria-hidden="true"></span>`}
    <ol class="pages">
      ${pageList(page, pages).map((n, i) => n === 0
        ? html`<li key=${`gap${i}`} aria-hidden="true">…</li>`
        : html`<li key=${n}>${n === page
          ? html`<a aria-current="page" href=${href(n)} aria-label=${`Page ${n}, current`}>${n}</a>`
          : html`<a href=${href(n)} aria-label=${`Page ${n}`}>${n}</a>`}</li>`)}
    </ol>
    ${page < pages ? html`<a rel="next" href=${href(page + 1)}>Next →</a>` : html`<span aria-hidden="true"></span>`}
  </nav>`;
}

// "120 models found · showing 25–48", or '' while loading.
function countText(d, filtered) {
  if (!d) return '';
  const total = Number(d.total) || 0;
  let text = `${formatCount(total)} ${total === 1 ? 'model' : 'models'}${filtered ? ' found' : ''}`;
  if (d.items.length && d.pages > 1) {
    const first = (d.page - 1) * d.limit + 1;
    text += ` · showing ${formatCount(first)}–${formatCount(first + d.items.length - 1)}`;
  }
  return text;
}

function listQuery(query, page) {
  const q = { page, limit: LIMIT };
  for (const k of FILTERS) q[k] = query.get(k) || undefined;
  return q;
}

// The list, its count and pager; mounted once the session is known (its key).
function Results({ query, signal }) {
  const page = Math.max(1, parseInt(query.get('page') || '1', 10) || 1);
  // A shared or hand-edited URL with a bad range is not sent: its fields say why.
  const urlErrors = checkRanges(Object.fromEntries(RANGES.map((k) => [k, query.get(k) || ''])));
  const badUrl = Object.keys(urlErrors).length > 0;
  const list = useLoad((sig) => (badUrl ? Promise.resolve(null)
    : api('/api/models', { query: listQuery(query, page), signal: sig })), signal);
  const [localErrors, setLocalErrors] = useState({});
  const serverErrors = list.error && list.error.status === 422 ? list.error.field_errors : null;
  const errors = { ...urlErrors, ...(serverErrors || {}), ...localErrors };
  const filtered = hasFilters(query);
  let body;
  if (list.loading) body = html`<${Loading} label="Loading models…" />`;
  else if (badUrl) {
    body = html`<div class="state error" role="alert">
      <p>Some filters are not valid: correct them above, or <a href="/marketplace">clear filters</a>.</p>
    </div>`;
  }
  else if (list.error) {
    body = html`<${ErrorBox} error=${list.error} onRetry=${list.error.status === 422 ? null : list.reload} />
      ${filtered && html`<p><a href="/marketplace">Clear filters</a></p>`}`;
  } else if (!list.data.items.length) {
    body = list.data.total > 0 && page > 1
      ? html`<${Empty}>There is no page ${page}. <a href=${withQuery('/marketplace', query, { page: '' })}>Back to the first page</a>.<//>`
      : html`<div class="state empty" role="status">
          <p>${filtered ? 'No models match these filters.' : 'No models have been published yet.'}</p>
          ${filtered && html`<p><a class="button" href="/marketplace">Clear filters</a></p>`}
        </div>`;
  } else {
    const d = list.data;
    body = html`<${ModelGrid} models=${d.items} />
      <${Pager} query=${query} page=${d.page} pages=${d.pages} />`;
  }
  return html`<${Filters} query=${query} signal=${signal} errors=${errors} setErrors=${setLocalErrors} />
    <div class="mk-status">
      <p class="count" role="status" aria-live="polite">${countText(list.data, filtered)}</p>
      <${ActiveFilters} query=${query} categories=${categoriesCache} />
    </div>
    ${body}`;
}

export function MarketplacePage({ query, signal }) {
  const viewer = useViewerKey();
  return html`<section class="page marketplace">
    <h1>Marketplace</h1>
    ${viewer ? html`<${Results} key=${viewer} query=${query} signal=${signal} />` : html`<${Loading} label="Loading models…" />`}
  </section>`;
}
