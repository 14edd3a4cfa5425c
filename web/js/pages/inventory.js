// inventory.js: the creator's models (/dashboard/inventory).
//
// GET /api/users/me/models, paged, with the status filter and the period of
// the per-model figures kept in the URL (?status=, ?range=, ?page=).  Each
// model shows its review status (with the reason of a rejection), whether it
// is published, and its views, likes, downloads, sales and revenue; it can be
// edited in a dialog (PUT /api/models/{id}), published or unpublished
// (POST /api/models/{id}/toggle-publish) and deleted after a confirmation
// (DELETE /api/models/{id}).
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, isAbort } from '../api.js';
import { navigate } from '../nav.js';
import { html, useLoad, formatCount, formatMoney, formatPrice, withQuery, LinkPager, Loading, Empty, ErrorBox } from '../ui.js';
import { DashboardNav } from './dashboard.js';
import { ModelFields, readModelForm, checkModel, useCategories, focusFirstError } from './upload.js';
import { ConversionNote } from '../specs.js';

const LIMIT = 20;
const STATUSES = [['', 'All statuses'], ['pending', 'Pending review'], ['approved', 'Approved'], ['rejected', 'Rejected']];
const FIGURE_RANGES = [['all', 'All time'], ['7d', 'Last 7 days'], ['30d', 'Last 30 days'], ['90d', 'Last 90 days'], ['1y', 'Last 12 months']];
const STATUS_TEXT = { pending: 'Pending review', approved: 'Approved', rejected: 'Rejected' };

function Filters({ query }) {
  const onChange = (e) => navigate(withQuery('/dashboard/inventory', query, { [e.target.name]: e.target.value === 'all' && e.target.name === 'range' ? '' : e.target.value, page: '' }));
  return html`<form class="filters" onSubmit=${(e) => e.preventDefault()}>
    <div class="field">
      <label for="inv-status">Status</label>
      <select id="inv-status" name="status" onChange=${onChange}>
        ${STATUSES.map(([v, label]) => html`<option key=${v} value=${v} selected=${v === (query.get('status') || '')}>${label}</option>`)}
      </select>
    </div>
    <div class="field">
      <label for="inv-range">Figures for</label>
      <select id="inv-range" name="range" onChange=${onChange}>
        ${FIGURE_RANGES.map(([v, label]) => html`<option key=${v} value=${v} selected=${v === (query.get('range') || 'all')}>${label}</option>`)}
      </select>
    </div>
  </form>`;
}

// A modal <dialog>: Escape and the close button close it; focus stays inside.
function Dialog({ labelId, onClose, children }) {
  const ref = useRef(null);
  useEffect(() => {
    const d = ref.current;
    if (d && !d.open) d.showModal();
    return () => { if (d && d.open) d.close(); };
  }, []);
  return html`<dialog ref=${ref} class="dialog" aria-labelledby=${labelId} onClose=${onClose}>${children}</dialog>`;
}

function EditDialog({ model, signal, onSaved, onClose }) {
  const categories = useCategories(signal);
  const [errors, setErrors] = useState({});
  const [failure, setFailure] = useState(null);
  const [busy, setBusy] = useState(false);
  const onSubmit = async (e) => {
    e.preventDefault();
    const form = e.target;
    const body = readModelForm(form);
    if (!body.category_id) delete body.category_id;
    const found = checkModel(body, { create: false });
    setFailure(null);
    if (Object.keys(found).length) {
      setErrors(found);
      focusFirstError(form);
      return;
    }
    setBusy(true);
    try {
      const saved = await api(`/api/models/${model.id}`, { method: 'PUT', body, signal });
      onSaved(saved);
    } catch (err) {
      if (isAbort(err)) return;
      setErrors(err.field_errors || {});
      setFailure(err);
      setBusy(false);
      focusFirstError(form);
    }
  };
  const clearError = (e) => {
    const name = e.target.name;
    if (name && errors[name]) setErrors(({ [name]: _, ...rest }) => rest);
  };
  return html`<${Dialog} labelId="edit-h" onClose=${onClose}>
    <form class="edit" noValidate onSubmit=${onSubmit} onInput=${clearError} onChange=${clearError}>
      <h2 id="edit-h">Edit <span class="name">${model.title}</span></h2>
      ${categories.loading ? html`<${Loading} label="Loading categories…" />`
        : html`<${ModelFields} prefix="ed" model=${model} errors=${errors} categories=${categories} requireCategory=${false} />`}
      ${failure && html`<div class="state error" role="alert"><p>${failure.message}</p></div>`}
      <p class="actions">
        <button type="submit" disabled=${busy}>${busy ? 'Saving…' : 'Save changes'}</button>
        <button type="button" class="secondary" onClick=${onClose}>Cancel</button>
      </p>
    </form>
  <//>`;
}

function DeleteDialog({ model, signal, onDeleted, onClose }) {
  const [failure, setFailure] = useState(null);
  const [busy, setBusy] = useState(false);
  const confirm = async () => {
    setBusy(true);
    setFailure(null);
    try {
      const r = await api(`/api/models/${model.id}`, { method: 'DELETE', signal });
      onDeleted(r.message || 'Model deleted');
    } catch (err) {
      if (isAbort(err)) return;
      setFailure(err);
      setBusy(false);
    }
  };
  return html`<${Dialog} labelId="del-h" onClose=${onClose}>
    <h2 id="del-h">Delete <span class="name">${model.title}</span>?</h2>
    <p>${model.sales_count > 0
      ? `It has ${formatCount(model.sales_count)} ${model.sales_count === 1 ? 'sale' : 'sales'}: it leaves the marketplace, and its buyers keep their downloads.`
      : 'The model and its file are removed for good.'}</p>
    ${failure && html`<div class="state error" role="alert"><p>${failure.message}</p></div>`}
    <p class="actions">
      <button type="button" class="danger" disabled=${busy} onClick=${confirm}>${busy ? 'Deleting…' : 'Delete model'}</button>
      <button type="button" class="secondary" onClick=${onClose}>Keep it</button>
    </p>
  <//>`;
}

// All time: the model's own counters; a period: the daily figures summed.
function Figures({ model }) {
  const s = model.stats || {};
  const pick = (k) => formatCount(s.range && s.range !== 'all' ? s[k] : model[`${k}_count`]);
  const items = [['Views', pick('views')], ['Likes', pick('likes')], ['Downloads', pick('downloads')], ['Sales', pick('sales')]];
  if (s.revenue !== undefined) items.push(['Revenue', formatMoney(s.revenue, model.currency)]);
  return html`<dl class="mini-stats">${items.map(([k, v]) => html`<div key=${k}><dt>${k}</dt><dd>${v}</dd></div>`)}</dl>`;
}

function Item({ model, busy, onEdit, onToggle, onDelete }) {
  return html`<li class="inv-item">
    ${model.thumbnail_url
      ? html`<img src=${model.thumbnail_url} alt="" width="120" height="90" loading="lazy" decoding="async" />`
      : html`<div class="thumb-missing" aria-hidden="true">3D</div>`}
    <div class="inv-main">
      <h2 class="inv-title"><a href=${`/model/${model.id}`}>${model.title}</a></h2>
      <p class="badges">
        <span class=${`status ${model.status}`}>${STATUS_TEXT[model.status] || model.status}</span>
        <span class=${`status ${model.is_published ? 'published' : 'draft'}`}>${model.is_published ? 'Published' : 'Unpublished'}</span>
        <span class="price">${formatPrice(model.price, model.currency, model.is_free)}</span>
      </p>
      ${model.status === 'rejected' && html`<p class="reason">Rejected${model.rejection_reason ? html`: <span class="name">${model.rejection_reason}</span>` : ''}</p>`}
      ${model.status === 'pending' && html`<p class="help">Waiting for an admin's review; it is not in the marketplace yet.</p>`}
      <${ConversionNote} model=${model} />
      <${Figures} model=${model} />
    </div>
    <div class="inv-actions">
      <button type="button" class="secondary" aria-label=${`Edit ${model.title}`} onClick=${() => onEdit(model)}>Edit</button>
      <button type="button" class="secondary" disabled=${busy} aria-label=${`${model.is_published ? 'Unpublish' : 'Publish'} ${model.title}`}
        onClick=${() => onToggle(model)}>${model.is_published ? 'Unpublish' : 'Publish'}</button>
      <button type="button" class="danger" aria-label=${`Delete ${model.title}`} onClick=${() => onDelete(model)}>Delete</button>
    </div>
  </li>`;
}

export function InventoryPage({ query, signal }) {
  const page = Math.max(1, parseInt(query.get('page') || '1', 10) || 1);
  const status = query.get('status') || '';
  const range = query.get('range') || 'all';
  const list = useLoad((sig) => api('/api/users/me/models', {
    query: { page, limit: LIMIT, status, range }, signal: sig,
  }), signal);
  const [patched, setPatched] = useState({});
  const [busyId, setBusyId] = useState(null);
  const [editing, setEditing] = useState(null);
  const [deleting, setDeleting] = useState(null);
  const [notice, setNotice] = useState(null);

  const merge = (old, fresh) => ({ ...old, ...fresh, stats: old.stats });
  const current = (m) => patched[m.id] || m;
  const onToggle = async (m) => {
    setBusyId(m.id);
    setNotice(null);
    try {
      const fresh = await api(`/api/models/${m.id}/toggle-publish`, { method: 'POST', signal });
      setPatched({ ...patched, [m.id]: merge(m, fresh) });
      setNotice({ text: fresh.is_published
        ? `“${fresh.title}” is published${fresh.status === 'approved' ? ' and in the marketplace' : ': it will be in the marketplace once approved'}.`
        : `“${fresh.title}” is unpublished: it is hidden from the marketplace.` });
    } catch (err) {
      if (!isAbort(err)) setNotice({ error: err });
    } finally {
      if (!signal.aborted) setBusyId(null);
    }
  };
  const onSaved = (fresh) => {
    setPatched({ ...patched, [fresh.id]: merge(current(editing), fresh) });
    setEditing(null);
    setNotice({ text: `Saved “${fresh.title}”.` });
  };
  const onDeleted = (message) => {
    const title = deleting.title;
    setDeleting(null);
    setNotice({ text: `${message}: “${title}”.` });
    list.reload();
  };

  let body;
  if (list.loading) body = html`<${Loading} label="Loading your models…" />`;
  else if (list.error) body = html`<${ErrorBox} error=${list.error} onRetry=${list.reload} />`;
  else if (!list.data.items.length) {
    body = status || page > 1
      ? html`<${Empty}>No models here. <a href="/dashboard/inventory">Show all your models</a>.<//>`
      : html`<${Empty}>You have not uploaded any models yet. <a href="/upload">Upload your first model</a>.<//>`;
  } else {
    body = html`<p class="count">${formatCount(list.data.total)} ${list.data.total === 1 ? 'model' : 'models'}</p>
      <ul class="inventory">${list.data.items.map((m) => html`<${Item} key=${m.id} model=${current(m)} busy=${busyId === m.id}
        onEdit=${setEditing} onToggle=${onToggle} onDelete=${setDeleting} />`)}</ul>
      <${LinkPager} page=${list.data.page} pages=${list.data.pages}
        href=${(n) => withQuery('/dashboard/inventory', query, { page: n === 1 ? '' : n })} />`;
  }
  return html`<section class="page creator">
    <div class="page-head">
      <h1>Inventory</h1>
      <a class="button" href="/upload">Upload a model</a>
    </div>
    <${DashboardNav} current="/dashboard/inventory" />
    <${Filters} query=${query} />
    <div aria-live="polite">
      ${notice && notice.text && html`<p class="notice" role="status">${notice.text}</p>`}
      ${notice && notice.error && html`<div class="state error" role="alert"><p>${notice.error.message}</p></div>`}
    </div>
    ${body}
    ${editing && html`<${EditDialog} model=${current(editing)} signal=${signal} onSaved=${onSaved} onClose=${() => setEditing(null)} />`}
    ${deleting && html`<${DeleteDialog} model=${deleting} signal=${signal} onDeleted=${onDeleted} onClose=${() => setDeleting(null)} />`}
  </section>`;
}
