// admin/models.js: model moderation (guide 13, /admin/models).
//
// /admin/models: the queue (GET /api/admin/models?status=&search=&page=),
// pending first by default.  /admin/models/:id: one model (GET
// /api/admin/models/{id}) in the 3D viewer, with approve (PUT …/approve),
// reject with a reason (PUT …/reject), feature (PUT …/feature) and delete
// (DELETE, after a confirmation).  A pending model is not public, so its
// file is fetched with the admin's token and shown from a blob: URL.
//
// The 3D pipeline adds `safety_scan` (its SafetyScan: verdict, findings,
// duplicate_of) and later a quality report (`quality_report` or `quality`)
// to the model document; the queue shows the verdict and the review page's
// "Automated checks" section shows both when present, and says so when not.
import { useEffect, useState } from 'preact/hooks';
import { api, apiBlob, isAbort } from '../../api.js';
import { navigate } from '../../nav.js';
import { html, useLoad, formatPrice, formatCount, Loading, ErrorBox } from '../../ui.js';
import { Viewer, canView, viewerUrl } from '../../viewer.js';
import { AdminLayout } from '../../admin/shell.js';
import {
  useAdminList, ListControls, DataTable, ListBody, StatusBadge, useConfirm, useAction, Outcome, when,
} from '../../admin/ui.js';

// a safety verdict: [badge look, words]
const VERDICTS = {
  safe: ['approved', 'Safe'], warning: ['pending', 'Warning'], unsafe: ['rejected', 'Unsafe'],
};
const STATUSES = [['pending', 'Pending review'], ['approved', 'Approved'], ['rejected', 'Rejected'], ['all', 'All']];

function Queue({ query, signal }) {
  const list = useAdminList('/api/admin/models', query, {
    params: ['search'], fixed: { status: query.get('status') || 'pending' }, signal,
  });
  const columns = [
    { label: 'Model', class: 'wrap', cell: (m) => html`<a href=${`/admin/models/${m.id}`}>${m.title}</a>` },
    { label: 'Creator', cell: (m) => (m.creator ? `@${m.creator.username}` : '') },
    { label: 'Status', cell: (m) => html`<${StatusBadge} status=${m.status} />${m.is_featured ? html` <${StatusBadge} status="featured" />` : ''}` },
    { label: 'Safety', cell: (m) => {
      const scan = m.safety_scan || m.safety;
      if (!scan) return html`<span class="hint-muted">—</span>`;
      const [look, label] = VERDICTS[scan.verdict] || [scan.verdict, scan.verdict];
      return html`<${StatusBadge} status=${look} label=${label} />`;
    } },
    { label: 'Format', cell: (m) => m.file_format || '' },
    { label: 'Polygons', class: 'num', cell: (m) => (m.poly_count != null ? formatCount(m.poly_count) : '') },
    { label: 'Price', class: 'num', cell: (m) => formatPrice(m.price, m.currency, m.is_free) },
    { label: 'Uploaded', cell: (m) => when(m.created_at) },
    { label: 'Review', cell: (m) => html`<a href=${`/admin/models/${m.id}`} aria-label=${`Review ${m.title}`}>Review</a>` },
  ];
  return html`<${ListControls} query=${query} idPrefix="models" search="Search titles"
      filters=${[{ name: 'status', label: 'Status', options: STATUSES }]} />
    <${ListBody} list=${list} query=${query} noun="models">
      ${(d) => html`<${DataTable} caption="Models" columns=${columns} rows=${d.items}
        empty="No models here: the queue is clear." />`}
    <//>`;
}

export function AdminModelsPage({ query, signal }) {
  return html`<${AdminLayout} title="Models">
    <${Queue} query=${query} signal=${signal} />
  <//>`;
}

// ---------------------------------------------------------------- one model

// The viewer on the file fetched with the admin's token (blob: URL).
function AdminViewer({ model, signal }) {
  const [src, setSrc] = useState(null);
  const [error, setError] = useState(null);
  useEffect(() => {
    if (!canView(model)) return undefined;
    let url = null;
    apiBlob(viewerUrl(model), { signal }).then((blob) => {
      url = URL.createObjectURL(blob);
      setSrc(url);
    }, (e) => { if (!isAbort(e)) setError(e); });
    return () => { if (url) URL.revokeObjectURL(url); };
  }, [model.id]);
  if (!canView(model)) return html`<${Viewer} model=${model} />`;
  if (error) return html`<${ErrorBox} error=${error} />`;
  if (!src) return html`<${Loading} label="Loading the model file…" />`;
  return html`<${Viewer} model=${model} src=${src} />`;
}

// The safety scan (the 3D pipeline's SafetyScan: verdict, findings
// {check, severity, message}, duplicate_of, scanned_at).
function SafetyScan({ scan }) {
  const [look, label] = VERDICTS[scan.verdict] || [scan.verdict, scan.verdict];
  const dup = scan.duplicate_of;
  const findings = scan.findings || [];
  return html`<div class="admin-check">
    <h3>Safety scan <${StatusBadge} status=${look} label=${label} /></h3>
    ${scan.scanned_at && html`<p class="hint-muted">Scanned ${when(scan.scanned_at)}</p>`}
    ${dup && html`<p class="reason">Looks like a copy of <a href=${`/admin/models/${dup.model_id}`}>${dup.title || `model #${dup.model_id}`}</a>
      ${dup.creator ? ` by @${dup.creator.username}` : ''}${dup.similarity != null ? ` (similarity ${Math.round(dup.similarity * 100)}%)` : ''}.</p>`}
    ${findings.length === 0 ? html`<p>No findings.</p>` : html`<ul class="admin-findings">
      ${findings.map((f, i) => html`<li key=${i}><strong>${f.severity}</strong> · ${f.check}: ${f.message}</li>`)}
    </ul>`}
  </div>`;
}

// Any other report ({status|verdict, score?, findings|issues…}), shown
// generically until the pipeline fixes its shape.
function Report({ title, report }) {
  const status = report.status || report.verdict || report.grade;
  const items = report.findings || report.issues || report.warnings || [];
  const skip = new Set(['status', 'verdict', 'grade', 'findings', 'issues', 'warnings']);
  const facts = Object.entries(report).filter(([k, v]) => !skip.has(k) && (v === null || typeof v !== 'object'));
  return html`<div class="admin-check">
    <h3>${title} ${status && html`<${StatusBadge} status=${status} />`}</h3>
    ${facts.length > 0 && html`<dl class="mini-stats">
      ${facts.map(([k, v]) => html`<div key=${k}><dt>${k.replace(/_/g, ' ')}</dt><dd>${String(v)}</dd></div>`)}
    </dl>`}
    ${items.length > 0 && html`<ul class="admin-findings">
      ${items.map((it, i) => html`<li key=${i}>${typeof it === 'string' ? it
        : `${it.severity ? `${it.severity}: ` : ''}${it.message || it.text || it.code || JSON.stringify(it)}`}</li>`)}
    </ul>`}
  </div>`;
}

// The slot for the 3D pipeline's safety scan and quality report.
function Checks({ model }) {
  const scan = model.safety_scan || model.safety;
  const quality = model.quality_report || model.quality;
  return html`<section class="admin-checks" aria-labelledby="checks-title">
    <h2 id="checks-title">Automated checks</h2>
    ${scan ? html`<${SafetyScan} scan=${scan} />`
      : html`<p class="hint-muted">Safety scan: not available for this model yet.</p>`}
    ${quality ? html`<${Report} title="Quality report" report=${quality} />`
      : html`<p class="hint-muted">Quality report: not available for this model yet.</p>`}
  </section>`;
}

function Detail({ id, signal }) {
  const load = useLoad((s) => api(`/api/admin/models/${encodeURIComponent(id)}`, { signal: s }), signal);
  const [model, setModel] = useState(null);
  const [confirm, dialog] = useConfirm();
  const act = useAction();
  useEffect(() => { if (load.data) setModel(load.data); }, [load.data]);
  if (load.loading) return html`<${Loading} label="Loading the model…" />`;
  if (load.error) return html`<${ErrorBox} error=${load.error} onRetry=${load.reload} />`;
  if (!model) return null;
  const put = (what, body) => api(`/api/admin/models/${model.id}/${what}`, { method: 'PUT', body, signal });
  const approve = () => act.run(async () => setModel(await put('approve')), `“${model.title}” is approved.`);
  const reject = async () => {
    const reason = await confirm({
      title: `Reject “${model.title}”?`, body: 'The creator sees the reason and can fix the model.',
      reason: { label: 'Reason for the creator', min: 3 }, confirm: 'Reject', danger: true,
    });
    if (reason) act.run(async () => setModel(await put('reject', { reason })), `“${model.title}” is rejected.`);
  };
  const feature = () => act.run(async () => setModel(await put('feature', { is_featured: !model.is_featured })),
    model.is_featured ? 'No longer featured.' : 'Featured on the homepage.');
  const remove = async () => {
    const ok = await confirm({
      title: `Delete “${model.title}”?`, body: 'The model leaves the marketplace for good. Buyers keep their downloads.',
      confirm: 'Delete model', danger: true,
    });
    if (ok && await act.run(() => api(`/api/admin/models/${model.id}`, { method: 'DELETE', signal }), 'Deleted.'))
      navigate('/admin/models', { replace: true });
  };
  const c = model.creator;
  return html`<div class="admin-model">
    <p><a href="/admin/models">← Back to the queue</a></p>
    <h2 class="admin-model-title">${model.title} <${StatusBadge} status=${model.status} />
      ${model.is_featured && html`<${StatusBadge} status="featured" />`}</h2>
    <div class="admin-toolbar" role="group" aria-label="Moderation">
      ${model.status !== 'approved' && html`<button type="button" disabled=${act.busy} onClick=${approve}>Approve</button>`}
      ${model.status !== 'rejected' && html`<button type="button" class="secondary" disabled=${act.busy} onClick=${reject}>Reject…</button>`}
      ${model.status === 'approved' && html`<button type="button" class="secondary" disabled=${act.busy} onClick=${feature}>
        ${model.is_featured ? 'Unfeature' : 'Feature'}</button>`}
      <button type="button" class="danger" disabled=${act.busy} onClick=${remove}>Delete…</button>
    </div>
    <${Outcome} outcome=${act.outcome} />
    ${model.rejection_reason && html`<p class="reason">Rejected: ${model.rejection_reason}</p>`}
    <div class="admin-model-grid">
      <div class="admin-model-view"><${AdminViewer} model=${model} signal=${signal} /></div>
      <div>
        <dl class="specs">
          <div><dt>Creator</dt><dd>${c ? html`<a href=${`/u/${encodeURIComponent(c.username)}`}>@${c.username}</a>` : '—'}</dd></div>
          <div><dt>Price</dt><dd>${formatPrice(model.price, model.currency, model.is_free)}</dd></div>
          <div><dt>Category</dt><dd>${model.category ? model.category.name : '—'}</dd></div>
          <div><dt>License</dt><dd>${model.license}</dd></div>
          <div><dt>Format</dt><dd>${model.file_format || '—'}</dd></div>
          <div><dt>File size</dt><dd>${model.file_size ? `${formatCount(Math.ceil(model.file_size / 1024))} KB` : '—'}</dd></div>
          <div><dt>Polygons</dt><dd>${model.poly_count != null ? formatCount(model.poly_count) : '—'}</dd></div>
          <div><dt>Vertices</dt><dd>${model.vertex_count != null ? formatCount(model.vertex_count) : '—'}</dd></div>
          <div><dt>Animated / rigged</dt><dd>${model.has_animations ? 'yes' : 'no'} / ${model.has_rigging ? 'yes' : 'no'}</dd></div>
          <div><dt>Uploaded</dt><dd>${when(model.created_at)}</dd></div>
        </dl>
        ${model.tags && model.tags.length > 0 && html`<p class="hint-muted">Tags: ${model.tags.join(', ')}</p>`}
        <h3>Description</h3>
        <p class="description">${model.description || '(none)'}</p>
      </div>
    </div>
    <${Checks} model=${model} />
    ${dialog}
  </div>`;
}

export function AdminModelPage({ params, signal }) {
  return html`<${AdminLayout} title="Review a model">
    <${Detail} id=${params.id} signal=${signal} />
  <//>`;
}
