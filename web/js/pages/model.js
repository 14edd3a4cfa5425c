// model.js: a model's details (the 3D viewer, comments and buying come in
// later slices).
import { api } from '../api.js';
import { html, useLoad, formatPrice, formatCount, Loading, ErrorBox } from '../ui.js';

function yesNo(v) {
  return v ? 'Yes' : 'No';
}

export function ModelPage({ params, signal }) {
  const m = useLoad((sig) => api(`/api/models/${encodeURIComponent(params.id)}`, { signal: sig }), signal);
  if (m.loading) return html`<section class="page"><${Loading} label="Loading model…" /></section>`;
  if (m.error) {
    return html`<section class="page narrow">
      <h1>${m.error.status === 404 || m.error.status === 422 ? 'Model not found' : 'Could not load this model'}</h1>
      <${ErrorBox} error=${m.error} onRetry=${m.error.status >= 500 ? m.reload : null} />
      <p><a href="/marketplace">Back to the marketplace</a></p>
    </section>`;
  }
  const d = m.data;
  document.title = `${d.title} · HWC3D`;
  const specs = [
    ['Polygons', formatCount(d.poly_count)], ['Vertices', formatCount(d.vertex_count)],
    ['Format', d.file_format || '—'], ['Animated', yesNo(d.has_animations)],
    ['Rigged', yesNo(d.has_rigging)], ['Textures', yesNo(d.has_textures)],
    ['Category', d.category ? d.category.name : '—'], ['Licence', d.license || '—'],
  ];
  return html`<article class="page model">
    <div class="model-media">
      ${d.thumbnail_url
        ? html`<img src=${d.thumbnail_url} alt=${`Preview of ${d.title}`} width="640" height="480" />`
        : html`<div class="thumb-missing big" aria-hidden="true">3D</div>`}
    </div>
    <div class="model-info">
      <h1>${d.title}</h1>
      <p class="price big">${formatPrice(d.price, d.currency, d.is_free)}</p>
      ${d.creator && html`<p class="by">by <strong>${d.creator.full_name || d.creator.username}</strong> (@${d.creator.username})</p>`}
      <p class="figures">${formatCount(d.views_count)} views · ${formatCount(d.likes_count)} likes · ${formatCount(d.downloads_count)} downloads</p>
      ${d.description && html`<p class="description">${d.description}</p>`}
      <h2>Specifications</h2>
      <dl class="specs">${specs.map(([k, v]) => html`<div><dt>${k}</dt><dd>${v}</dd></div>`)}</dl>
    </div>
  </article>`;
}
