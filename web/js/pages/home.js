// home.js: featured models, platform figures and a search box that leads
// to the marketplace.
import { api } from '../api.js';
import { navigate } from '../nav.js';
import { html, formatCount, useLoad, Loading, Empty, ErrorBox, ModelGrid } from '../ui.js';

function Stats({ signal }) {
  const s = useLoad((sig) => api('/api/stats/platform', { signal: sig }), signal);
  if (s.loading) return html`<${Loading} label="Loading figures…" />`;
  if (s.error) return html`<${ErrorBox} error=${s.error} onRetry=${s.reload} />`;
  const items = [
    ['Models', s.data.total_models], ['Creators', s.data.total_creators],
    ['Downloads', s.data.total_downloads], ['Categories', s.data.total_categories],
  ];
  return html`<dl class="stats">${items.map(([k, v]) => html`<div><dt>${k}</dt><dd>${formatCount(v)}</dd></div>`)}</dl>`;
}

function Featured({ signal }) {
  const f = useLoad((sig) => api('/api/models/featured', { query: { limit: 8 }, signal: sig }), signal);
  if (f.loading) return html`<${Loading} label="Loading featured models…" />`;
  if (f.error) return html`<${ErrorBox} error=${f.error} onRetry=${f.reload} />`;
  if (!f.data.items.length) return html`<${Empty}>No featured models yet. <a href="/marketplace">Browse all models</a>.<//>`;
  return html`<${ModelGrid} models=${f.data.items} />`;
}

export function SearchBox({ initial = '' }) {
  const onSubmit = (e) => {
    e.preventDefault();
    const q = new FormData(e.target).get('search').trim();
    navigate(q ? `/marketplace?search=${encodeURIComponent(q)}` : '/marketplace');
  };
  return html`<form class="search" role="search" onSubmit=${onSubmit}>
    <label for="home-search">Search models</label>
    <input id="home-search" name="search" type="search" maxlength="1024" value=${initial} placeholder="e.g. robot, castle, car" />
    <button type="submit">Search</button>
  </form>`;
}

export function HomePage({ signal }) {
  return html`<section class="page">
    <div class="hero">
      <h1>3D models, ready to use</h1>
      <p>Browse, view and buy 3D models from independent creators.</p>
      <${SearchBox} />
    </div>
    <h2>Platform</h2>
    <${Stats} signal=${signal} />
    <h2>Featured models</h2>
    <${Featured} signal=${signal} />
  </section>`;
}
