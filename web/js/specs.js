// specs.js: the quality report, badge and spec sheet of issue 13
// (docs/quality.md), shared by the model page, the upload page and the
// inventory.
//
// - QualityBadge: gold / silver / bronze, with the rules as its title.
// - QualityReport: the report as a table (upload page: from
//   POST /api/models/analyze before submitting; model page: the model's).
// - SpecSheet: the model page's panel, the report as a table or as the
//   JSON of POST /api/models/{id}/download-specs, and "Download PDF"
//   (the same route with format=pdf).
// - ConversionNote: for the owner, the state of the GLB conversion the
//   3D viewer needs, with the reason when it failed.
import { useState } from 'preact/hooks';
import { api, apiBlob } from './api.js';
import { html, formatCount } from './ui.js';

const BADGE_RULES = {
  gold: 'Gold: clean topology (no non-manifold edges, degenerate or duplicate faces), UVs on every mesh, textured, sensible size',
  silver: 'Silver: defects on at most 1% of the triangles, UVs on at least one mesh, sensible size',
  bronze: 'Bronze: viewable in 3D',
};

export function QualityBadge({ badge }) {
  if (!badge || !BADGE_RULES[badge]) return null;
  return html`<span class=${`quality-badge ${badge}`} title=${BADGE_RULES[badge]}>
    ${badge[0].toUpperCase() + badge.slice(1)} quality
  </span>`;
}

function count(v) {
  if (v === null) return 'Not checked';
  if (v === undefined) return '—';
  return formatCount(v);
}

function metres(v) {
  const n = Number(v);
  if (n >= 1 || n === 0) return `${n.toLocaleString(undefined, { maximumFractionDigits: 3 })} m`;
  return `${(n * 100).toLocaleString(undefined, { maximumFractionDigits: 2 })} cm`;
}

function textureText(t) {
  const size = t.width && t.height ? `${t.width} × ${t.height}` : 'resolution unknown';
  return `${t.name} (${t.source === 'embedded' ? 'embedded' : 'external file'}, ${size})`;
}

export function qualityRows(q) {
  const d = q.dimensions || {};
  return [
    ['Triangles', count(q.triangles)], ['Vertices', count(q.vertices)], ['Meshes', count(q.meshes)],
    ['Materials', count(q.materials)], ['Textures', count(q.texture_count)],
    ['UV coverage', q.uv_coverage === undefined ? '—'
      : `${Math.round(q.uv_coverage * 100)}% of meshes (${q.meshes_with_uvs} of ${q.meshes_with_faces})`],
    ['Non-manifold edges', count(q.non_manifold_edges)], ['Open boundary edges', count(q.boundary_edges)],
    ['Degenerate faces', count(q.degenerate_faces)], ['Duplicate faces', count(q.duplicate_faces)],
    ['Dimensions', d.x === undefined ? '—' : `${metres(d.x)} × ${metres(d.y)} × ${metres(d.z)}`],
    ['Units', q.unit_note || '—'], ['Animations', count(q.animations)], ['Bones', count(q.bones)],
  ];
}

export function QualityReport({ quality: q, heading = 'Quality report', id = 'quality-h' }) {
  if (!q) return null;
  const textures = q.textures || [];
  const reasons = q.badge_reasons || [];
  return html`<section class="quality-report" aria-labelledby=${id}>
    <h3 id=${id}>${heading} <${QualityBadge} badge=${q.badge} /></h3>
    <dl class="specs">${qualityRows(q).map(([k, v]) => html`<div key=${k}><dt>${k}</dt><dd>${v}</dd></div>`)}</dl>
    ${textures.length > 0 && html`<div class="texture-list"><h4>Texture resolutions</h4>
      <ul>${textures.map((t, i) => html`<li key=${i} class="name">${textureText(t)}</li>`)}</ul></div>`}
    ${reasons.length > 0 && html`<div class="warnings"><h4>${q.badge === 'gold' ? 'Notes' : 'What would raise the badge'}</h4>
      <ul>${reasons.map((r, i) => html`<li key=${i}>${r}</li>`)}</ul></div>`}
  </section>`;
}

function saveBlob(blob, name) {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

export function SpecSheet({ model }) {
  const [view, setView] = useState('table');
  const [json, setJson] = useState(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const path = `/api/models/${encodeURIComponent(model.id)}/download-specs`;
  const showJson = async () => {
    setView('json');
    if (json) return;
    try {
      setJson(await api(path, { method: 'POST', body: { format: 'json' } }));
    } catch (err) {
      setError(err.message);
    }
  };
  const pdf = async () => {
    setBusy(true);
    setError(null);
    try {
      saveBlob(await apiBlob(path, { method: 'POST', query: { format: 'pdf' } }), `model-${model.id}-specs.pdf`);
    } catch (err) {
      setError(err.message);
    } finally {
      setBusy(false);
    }
  };
  return html`<section class="spec-sheet" aria-labelledby="spec-sheet-h">
    <h2 id="spec-sheet-h">Spec sheet</h2>
    <div class="spec-tabs" role="group" aria-label="Spec sheet view">
      <button type="button" class=${view === 'table' ? '' : 'secondary'} aria-pressed=${view === 'table'} onClick=${() => setView('table')}>Table</button>
      <button type="button" class=${view === 'json' ? '' : 'secondary'} aria-pressed=${view === 'json'} onClick=${showJson}>JSON</button>
      <button type="button" class="secondary" disabled=${busy} onClick=${pdf}>${busy ? 'Preparing PDF…' : 'Download PDF'}</button>
    </div>
    ${error && html`<p class="inline-error" role="alert">${error}</p>`}
    ${view === 'table' && (model.quality
      ? html`<${QualityReport} quality=${model.quality} heading="Measured by HWC3D" id="spec-quality-h" />`
      : html`<p class="help">This model was stored before the platform measured quality.</p>`)}
    ${view === 'json' && html`<pre class="spec-json">${json ? JSON.stringify(json, null, 2) : 'Loading…'}</pre>`}
  </section>`;
}

// The owner's view of the conversion (conversion_error is theirs only).
export function ConversionNote({ model }) {
  if (model.conversion_status === 'failed') {
    return html`<p class="reason" role="status">3D preview: the conversion to GLB failed${model.conversion_error
      ? html`: <span class="name">${model.conversion_error}</span>` : ''}.</p>`;
  }
  if (model.conversion_status === 'pending') {
    return html`<p class="help">3D preview: being converted to GLB for the viewer.</p>`;
  }
  return null;
}
