// admin/testimonials.js: what users say on the homepage (guide 13,
// /admin/testimonials): GET /api/admin/testimonials?is_approved=, create
// (POST), edit (PUT …/{id}), approve or withdraw (PUT …/{id}/approve
// {is_approved}) and delete (DELETE, after a confirmation).
import { useState } from 'preact/hooks';
import { api } from '../../api.js';
import { html } from '../../ui.js';
import { AdminLayout } from '../../admin/shell.js';
import {
  useAdminList, ListControls, DataTable, ListBody, StatusBadge, useConfirm, useAction, Outcome, Dialog, when,
} from '../../admin/ui.js';
import { Field, FormError, useSubmit } from '../auth.js';

const SHOWN = [['all', 'All'], ['false', 'Waiting for approval'], ['true', 'Approved']];

function TestimonialForm({ item, signal, onSaved, onClose }) {
  const creating = !item;
  const t = item || { author_name: '', author_title: '', avatar_url: '', content: '', rating: 5, sort_order: 0, is_approved: true };
  const f = useSubmit(async (data) => {
    const body = {
      author_name: data.get('author_name').trim(), author_title: data.get('author_title').trim() || null,
      avatar_url: data.get('avatar_url').trim() || null, content: data.get('content').trim(),
      rating: Number(data.get('rating')), is_approved: data.get('is_approved') === 'on',
    };
    const order = data.get('sort_order').trim();
    if (order) body.sort_order = Number(order);
    const saved = await api(creating ? '/api/admin/testimonials' : `/api/admin/testimonials/${t.id}`,
      { method: creating ? 'POST' : 'PUT', body, signal });
    onSaved(saved, creating);
  });
  return html`<${Dialog} labelId="testimonial-form-title" onClose=${onClose}>
    <form class="stack" onSubmit=${f.onSubmit} novalidate>
      <h2 id="testimonial-form-title">${creating ? 'New testimonial' : `Edit ${t.author_name}'s testimonial`}</h2>
      <${FormError} error=${f.error} wait=${f.wait}
        shown=${['author_name', 'author_title', 'avatar_url', 'content', 'rating', 'sort_order', 'is_approved']} />
      <div class="form-grid">
        <${Field} id="t-name" label="Author" name="author_name" required maxlength="100" defaultValue=${t.author_name} errors=${f.fields.author_name} />
        <${Field} id="t-title" label="Author's title (optional)" name="author_title" maxlength="100" defaultValue=${t.author_title || ''} errors=${f.fields.author_title} />
        <${Field} id="t-avatar" class="wide" label="Avatar URL (optional)" name="avatar_url" type="url" defaultValue=${t.avatar_url || ''} errors=${f.fields.avatar_url} />
        <${Field} id="t-content" class="wide" as="textarea" label="Testimonial" name="content" rows="4" required minlength="10"
          maxlength="2000" hint="10 to 2,000 characters" defaultValue=${t.content} errors=${f.fields.content} />
        <${Field} id="t-rating" as="select" label="Rating" name="rating" errors=${f.fields.rating}>
          ${[5, 4, 3, 2, 1].map((n) => html`<option value=${n} selected=${n === t.rating}>${n} of 5</option>`)}
        <//>
        <${Field} id="t-order" label="Sort order" name="sort_order" type="number" min="-100000" max="100000"
          defaultValue=${String(t.sort_order)} errors=${f.fields.sort_order} />
        <div class="field check">
          <input id="t-approved" type="checkbox" name="is_approved" defaultChecked=${t.is_approved} />
          <label for="t-approved">Approved: shown on the homepage</label>
        </div>
      </div>
      <div class="actions">
        <button type="submit" disabled=${f.busy}>${f.busy ? 'Saving…' : creating ? 'Create testimonial' : 'Save'}</button>
        <button type="button" class="secondary" onClick=${onClose}>Cancel</button>
      </div>
    </form>
  <//>`;
}

function Testimonials({ query, signal }) {
  const list = useAdminList('/api/admin/testimonials', query, { params: ['is_approved'], signal });
  const [editing, setEditing] = useState(null);
  const [confirm, dialog] = useConfirm();
  const act = useAction();
  const approve = (t, yes) => act.run(async () => {
    await api(`/api/admin/testimonials/${t.id}/approve`, { method: 'PUT', body: { is_approved: yes }, signal });
    list.reload();
  }, yes ? `${t.author_name}'s testimonial is approved.` : `${t.author_name}'s testimonial is withdrawn.`);
  const remove = async (t) => {
    if (!(await confirm({ title: `Delete ${t.author_name}'s testimonial?`, body: 'This cannot be undone.', confirm: 'Delete', danger: true }))) return;
    act.run(async () => {
      await api(`/api/admin/testimonials/${t.id}`, { method: 'DELETE', signal });
      list.reload();
    }, 'Deleted.');
  };
  const columns = [
    { label: 'Author', class: 'wrap', cell: (t) => html`<strong>${t.author_name}</strong>${t.author_title && html`<br /><small class="hint-muted">${t.author_title}</small>`}` },
    { label: 'Testimonial', class: 'wrap', cell: (t) => t.content },
    { label: 'Rating', class: 'num', cell: (t) => `${t.rating}/5` },
    { label: 'Status', cell: (t) => html`<${StatusBadge} status=${t.is_approved ? 'approved' : 'pending'} />` },
    { label: 'Added', cell: (t) => when(t.created_at) },
    { label: 'Actions', cell: (t) => html`<div class="row-actions">
      ${t.is_approved
        ? html`<button type="button" class="secondary" disabled=${act.busy} onClick=${() => approve(t, false)} aria-label=${`Withdraw ${t.author_name}'s testimonial`}>Withdraw</button>`
        : html`<button type="button" disabled=${act.busy} onClick=${() => approve(t, true)} aria-label=${`Approve ${t.author_name}'s testimonial`}>Approve</button>`}
      <button type="button" class="secondary" onClick=${() => setEditing(t)} aria-label=${`Edit ${t.author_name}'s testimonial`}>Edit</button>
      <button type="button" class="danger" disabled=${act.busy} onClick=${() => remove(t)} aria-label=${`Delete ${t.author_name}'s testimonial`}>Delete</button>
    </div>` },
  ];
  return html`<div class="admin-bar">
      <${ListControls} query=${query} idPrefix="testimonials" filters=${[{ name: 'is_approved', label: 'Show', options: SHOWN }]} />
      <button type="button" onClick=${() => setEditing('new')}>New testimonial</button>
    </div>
    <${Outcome} outcome=${act.outcome} />
    <${ListBody} list=${list} query=${query} noun="testimonials">
      ${(d) => html`<${DataTable} caption="Testimonials" columns=${columns} rows=${d.items} empty="No testimonials here." />`}
    <//>
    ${editing && html`<${TestimonialForm} item=${editing === 'new' ? null : editing} signal=${signal}
      onClose=${() => setEditing(null)}
      onSaved=${(t, created) => { setEditing(null); act.run(async () => list.reload(), created ? 'Testimonial created.' : 'Saved.'); }} />`}
    ${dialog}`;
}

export function AdminTestimonialsPage({ query, signal }) {
  return html`<${AdminLayout} title="Testimonials">
    <${Testimonials} query=${query} signal=${signal} />
  <//>`;
}
