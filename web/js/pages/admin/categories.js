// admin/categories.js: the marketplace's categories (guide 13,
// /admin/categories): GET /api/admin/categories?search=&page=, create
// (POST), edit (PUT …/{id}: name, slug, description, icon, sort order,
// active) and delete (DELETE, after a confirmation; the server refuses a
// category that still holds models, and the page says why).
import { useState } from 'preact/hooks';
import { api } from '../../api.js';
import { html, formatCount } from '../../ui.js';
import { AdminLayout } from '../../admin/shell.js';
import {
  useAdminList, ListControls, DataTable, ListBody, StatusBadge, useConfirm, useAction, Outcome, Dialog,
} from '../../admin/ui.js';
import { Field, FormError, useSubmit } from '../auth.js';

function CategoryForm({ category, signal, onSaved, onClose }) {
  const creating = !category;
  const c = category || { name: '', slug: '', description: '', icon: '', sort_order: 0, is_active: true };
  const f = useSubmit(async (data) => {
    const body = {
      name: data.get('name').trim(), description: data.get('description'),
      icon: data.get('icon').trim() || null, is_active: data.get('is_active') === 'on',
    };
    const slug = data.get('slug').trim();
    if (slug) body.slug = slug;
    const order = data.get('sort_order').trim();
    if (order) body.sort_order = Number(order);
    const saved = await api(creating ? '/api/admin/categories' : `/api/admin/categories/${c.id}`,
      { method: creating ? 'POST' : 'PUT', body, signal });
    onSaved(saved, creating);
  });
  return html`<${Dialog} labelId="category-form-title" onClose=${onClose}>
    <form class="stack" onSubmit=${f.onSubmit} novalidate>
      <h2 id="category-form-title">${creating ? 'New category' : `Edit “${c.name}”`}</h2>
      <${FormError} error=${f.error} wait=${f.wait} shown=${['name', 'slug', 'description', 'icon', 'sort_order', 'is_active']} />
      <div class="form-grid">
        <${Field} id="category-name" label="Name" name="name" required maxlength="50" defaultValue=${c.name} errors=${f.fields.name} />
        <${Field} id="category-slug" label="Slug" name="slug" maxlength="60" pattern="[a-z0-9]+(-[a-z0-9]+)*"
          defaultValue=${c.slug} hint=${creating ? 'Made from the name when empty' : 'Lowercase letters, digits and -'} errors=${f.fields.slug} />
        <${Field} id="category-icon" label="Icon name" name="icon" maxlength="100" defaultValue=${c.icon || ''} errors=${f.fields.icon} />
        <${Field} id="category-order" label="Sort order" name="sort_order" type="number" min="-100000" max="100000"
          defaultValue=${String(c.sort_order)} errors=${f.fields.sort_order} />
        <${Field} id="category-description" class="wide" as="textarea" label="Description" name="description" rows="3"
          maxlength="500" defaultValue=${c.description || ''} errors=${f.fields.description} />
        <div class="field check">
          <input id="category-active" type="checkbox" name="is_active" defaultChecked=${c.is_active} />
          <label for="category-active">Shown in the marketplace</label>
        </div>
      </div>
      <div class="actions">
        <button type="submit" disabled=${f.busy}>${f.busy ? 'Saving…' : creating ? 'Create category' : 'Save'}</button>
        <button type="button" class="secondary" onClick=${onClose}>Cancel</button>
      </div>
    </form>
  <//>`;
}

function Categories({ query, signal }) {
  const list = useAdminList('/api/admin/categories', query, { params: ['search'], signal });
  const [editing, setEditing] = useState(null);
  const [confirm, dialog] = useConfirm();
  const act = useAction();
  const remove = async (c) => {
    if (!(await confirm({
      title: `Delete “${c.name}”?`,
      body: c.models_count ? `${formatCount(c.models_count)} models are in it: move them first, or hide the category instead.`
        : 'It holds no models.',
      confirm: 'Delete category', danger: true,
    }))) return;
    act.run(async () => {
      await api(`/api/admin/categories/${c.id}`, { method: 'DELETE', signal });
      list.reload();
    }, `“${c.name}” is deleted.`);
  };
  const columns = [
    { label: 'Name', class: 'wrap', cell: (c) => html`<strong>${c.name}</strong><br /><small class="hint-muted">${c.slug}</small>` },
    { label: 'Description', class: 'wrap', cell: (c) => c.description || '' },
    { label: 'Models', class: 'num', cell: (c) => formatCount(c.models_count) },
    { label: 'Order', class: 'num', cell: (c) => String(c.sort_order) },
    { label: 'Shown', cell: (c) => html`<${StatusBadge} status=${c.is_active ? 'active' : 'inactive'} label=${c.is_active ? 'Shown' : 'Hidden'} />` },
    { label: 'Actions', cell: (c) => html`<div class="row-actions">
      <button type="button" class="secondary" onClick=${() => setEditing(c)} aria-label=${`Edit ${c.name}`}>Edit</button>
      <button type="button" class="danger" disabled=${act.busy} onClick=${() => remove(c)} aria-label=${`Delete ${c.name}`}>Delete</button>
    </div>` },
  ];
  return html`<div class="admin-bar">
      <${ListControls} query=${query} idPrefix="categories" search="Search categories" />
      <button type="button" onClick=${() => setEditing('new')}>New category</button>
    </div>
    <${Outcome} outcome=${act.outcome} />
    <${ListBody} list=${list} query=${query} noun="categories">
      ${(d) => html`<${DataTable} caption="Categories" columns=${columns} rows=${d.items} empty="No categories yet." />`}
    <//>
    ${editing && html`<${CategoryForm} category=${editing === 'new' ? null : editing} signal=${signal}
      onClose=${() => setEditing(null)}
      onSaved=${(c, created) => { setEditing(null); act.run(async () => list.reload(), created ? `“${c.name}” is created.` : `“${c.name}” is saved.`); }} />`}
    ${dialog}`;
}

export function AdminCategoriesPage({ query, signal }) {
  return html`<${AdminLayout} title="Categories">
    <${Categories} query=${query} signal=${signal} />
  <//>`;
}
