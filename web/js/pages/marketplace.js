// marketplace.js: GET /api/models with category, sort, search and page
// kept in the URL query, so a filtered page can be shared and reloaded.
import { api } from '../api.js';
import { navigate } from '../nav.js';
import { html, useLoad, formatCount, Loading, Empty, ErrorBox, ModelGrid } from '../ui.js';

const SORTS = [
  ['', 'Best match / newest'], ['newest', 'Newest'], ['popular', 'Most popular'],
  ['price_low', 'Price: low to high'], ['price_high', 'Price: high to low'],
  ['downloads', 'Most downloaded'], ['rating', 'Top rated'],
];
const LIMIT = 24;

function withQuery(query, changes) {
  const q = new URLSearchParams(query);
  for (const [k, v] of Object.entries(changes)) {
    if (v === '' || v === null || v === undefined) q.delete(k);
    else q.set(k, String(v));
  }
  const s = q.toString();
  return s ? `/marketplace?${s}` : '/marketplace';
}

function Filters({ query, signal }) {
  const cats = useLoad((sig) => api('/api/categories', { query: { limit: 100 }, signal: sig }), signal);
  const categories = cats.data ? (Array.isArray(cats.data) ? cats.data : cats.data.items || []) : [];
  const onSubmit = (e) => {
    e.preventDefault();
    const f = new FormData(e.target);
    navigate(withQuery(query, {
      search: f.get('search').trim(), category: f.get('category'), sort: f.get('sort'), page: '',
    }));
  };
  // A select applies at once; the search text on submit.
  const onChange = (e) => {
    if (e.target.tagName === 'SELECT') e.target.form.requestSubmit();
  };
  return html`<form class="filters" role="search" onSubmit=${onSubmit} onChange=${onChange}>
    <div class="field grow">
      <label for="mk-search">Search</label>
      <input id="mk-search" name="search" type="search" maxlength="1024" value=${query.get('search') || ''} />
    </div>
    <div class="field">
      <label for="mk-category">Category</label>
      <select id="mk-category" name="category" value=${query.get('category') || ''}>
        <option value="">All categories</option>
        ${categories.map((c) => html`<option value=${c.slug || c.id} selected=${(c.slug || String(c.id)) === query.get('category')}>${c.name}</option>`)}
      </select>
      ${cats.error && html`<small class="hint">Categories could not be loaded.</small>`}
    </div>
    <div class="field">
      <label for="mk-sort">Sort by</label>
      <select id="mk-sort" name="sort">
        ${SORTS.map(([v, label]) => html`<option value=${v} selected=${v === (query.get('sort') || '')}>${label}</option>`)}
      </select>
    </div>
    <button type="submit">Apply</button>
  </form>`;
}

function Pager({ query, page, pages }) {
  if (pages <= 1) return null;
  return html`<nav class="pager" aria-label="Pages">
    ${page > 1 ? html`<a rel="prev" href=${withQuery(query, { page: page - 1 === 1 ? '' : page - 1 })}>← Previous</a>` : html`<span aria-hidden="true"></span>`}
    <span>Page ${page} of ${pages}</span>
    ${page < pages ? html`<a rel="next" href=${withQuery(query, { page: page + 1 })}>Next →</a>` : html`<span aria-hidden="true"></span>`}
  </nav>`;
}

export function MarketplacePage({ query, signal }) {
  const page = Math.max(1, parseInt(query.get('page') || '1', 10) || 1);
  const list = useLoad((sig) => api('/api/models', {
    query: { search: query.get('search'), category: query.get('category'), sort: query.get('sort'), page, limit: LIMIT },
    signal: sig,
  }), signal);
  let body;
  if (list.loading) body = html`<${Loading} label="Loading models…" />`;
  else if (list.error) body = html`<${ErrorBox} error=${list.error} onRetry=${list.reload} />`;
  else if (!list.data.items.length) body = html`<${Empty}>No models match. <a href="/marketplace">Clear the filters</a>.<//>`;
  else body = html`<p class="count">${formatCount(list.data.total)} models</p>
    <${ModelGrid} models=${list.data.items} />
    <${Pager} query=${query} page=${list.data.page} pages=${list.data.pages} />`;
  return html`<section class="page">
    <h1>Marketplace</h1>
    <${Filters} query=${query} signal=${signal} />
    ${body}
  </section>`;
}
