// admin/communities.js: communities and reported posts (guide 13,
// /admin/communities).
//
// ?tab=communities (default): GET /api/admin/communities?status=&search=,
// approve (PUT …/approve), edit (PUT …/{id}: name, category, rules, status),
// create (POST), delete (DELETE, after a confirmation).
// ?tab=reports: GET /api/admin/reports?status=open|resolved|all, resolved
// with PUT /api/admin/reports/{id}/resolve {action: dismiss|remove|ban, note}.
import { useState } from 'preact/hooks';
import { api } from '../../api.js';
import { html, formatCount } from '../../ui.js';
import { AdminLayout } from '../../admin/shell.js';
import {
  useAdminList, ListControls, DataTable, ListBody, StatusBadge, useConfirm, useAction, Outcome, Dialog,
  when,
} from '../../admin/ui.js';
import { Field, FormError, useSubmit } from '../auth.js';

const CATEGORIES = ['general', 'modeling', 'sculpting', 'texturing', 'animation', 'rigging', 'game-assets',
  'architecture', 'characters', 'vehicles', '3d-printing', 'showcase', 'help'];
const STATUSES = [['all', 'All'], ['pending', 'Pending'], ['active', 'Active'], ['rejected', 'Rejected']];
const REPORT_STATUSES = [['open', 'Open'], ['resolved', 'Resolved'], ['all', 'All']];
const ACTIONS = [
  ['dismiss', 'Dismiss: the post stays'],
  ['remove', 'Remove the post'],
  ['ban', 'Remove the post and ban its author'],
];

function Tabs({ tab }) {
  const link = (t, label) => html`<li><a href=${t === 'communities' ? '/admin/communities' : `/admin/communities?tab=${t}`}
    aria-current=${tab === t ? 'page' : undefined}>${label}</a></li>`;
  return html`<nav class="subnav" aria-label="Communities and reports"><ul>
    ${link('communities', 'Communities')}${link('reports', 'Reports')}
  </ul></nav>`;
}

// ------------------------------------------------------------ communities

function CommunityForm({ community, signal, onSaved, onClose }) {
  const creating = !community;
  const f = useSubmit(async (data) => {
    const body = {
      name: data.get('name').trim(), category: data.get('category'), rules: data.get('rules'),
      status: data.get('status'),
    };
    if (creating) body.description = data.get('description');
    const saved = await api(creating ? '/api/admin/communities' : `/api/admin/communities/${community.id}`,
      { method: creating ? 'POST' : 'PUT', body, signal });
    onSaved(saved, creating);
  });
  const c = community || { name: '', category: 'general', rules: '', status: 'active' };
  return html`<${Dialog} labelId="community-form-title" onClose=${onClose}>
    <form class="stack" onSubmit=${f.onSubmit} novalidate>
      <h2 id="community-form-title">${creating ? 'New community' : `Edit “${c.name}”`}</h2>
      <${FormError} error=${f.error} wait=${f.wait} shown=${['name', 'category', 'rules', 'status', 'description']} />
      <${Field} id="community-name" label="Name" name="name" required minlength="3" maxlength="60"
        defaultValue=${c.name} errors=${f.fields.name} />
      ${creating && html`<${Field} id="community-description" as="textarea" label="Description" name="description"
        rows="2" maxlength="500" errors=${f.fields.description} />`}
      <div class="form-grid">
        <${Field} id="community-category" as="select" label="Category" name="category" errors=${f.fields.category}>
          ${CATEGORIES.map((v) => html`<option value=${v} selected=${v === c.category}>${v}</option>`)}
        <//>
        <${Field} id="community-status" as="select" label="Status" name="status" errors=${f.fields.status}>
          ${STATUSES.slice(1).map(([v, t]) => html`<option value=${v} selected=${v === c.status}>${t}</option>`)}
        <//>
      </div>
      <${Field} id="community-rules" as="textarea" label="Rules" name="rules" rows="4" maxlength="2000"
        defaultValue=${c.rules || ''} errors=${f.fields.rules} />
      <div class="actions">
        <button type="submit" disabled=${f.busy}>${f.busy ? 'Saving…' : creating ? 'Create community' : 'Save'}</button>
        <button type="button" class="secondary" onClick=${onClose}>Cancel</button>
      </div>
    </form>
  <//>`;
}

function Communities({ query, signal }) {
  const list = useAdminList('/api/admin/communities', query, { params: ['status', 'search'], signal });
  const [editing, setEditing] = useState(null);
  const [confirm, dialog] = useConfirm();
  const act = useAction();
  const approve = (c) => act.run(async () => {
    await api(`/api/admin/communities/${c.id}/approve`, { method: 'PUT', signal });
    list.reload();
  }, `“${c.name}” is approved.`);
  const remove = async (c) => {
    if (!(await confirm({
      title: `Delete “${c.name}”?`, body: `Its ${formatCount(c.posts_count)} posts and its chat go with it. This cannot be undone.`,
      confirm: 'Delete community', danger: true,
    }))) return;
    act.run(async () => {
      await api(`/api/admin/communities/${c.id}`, { method: 'DELETE', signal });
      list.reload();
    }, `“${c.name}” is deleted.`);
  };
  const columns = [
    { label: 'Community', class: 'wrap', cell: (c) => html`<a href=${`/community/${c.id}`}>${c.name}</a>
      ${c.description && html`<br /><small class="hint-muted">${c.description}</small>`}` },
    { label: 'Owner', cell: (c) => (c.owner ? `@${c.owner.username}` : '') },
    { label: 'Category', cell: (c) => c.category },
    { label: 'Status', cell: (c) => html`<${StatusBadge} status=${c.status} />` },
    { label: 'Members', class: 'num', cell: (c) => formatCount(c.members_count) },
    { label: 'Created', cell: (c) => when(c.created_at) },
    { label: 'Actions', cell: (c) => html`<div class="row-actions">
      ${c.status !== 'active' && html`<button type="button" disabled=${act.busy} onClick=${() => approve(c)}
        aria-label=${`Approve ${c.name}`}>Approve</button>`}
      <button type="button" class="secondary" onClick=${() => setEditing(c)} aria-label=${`Edit ${c.name}`}>Edit</button>
      <button type="button" class="danger" disabled=${act.busy} onClick=${() => remove(c)}
        aria-label=${`Delete ${c.name}`}>Delete</button>
    </div>` },
  ];
  return html`<div class="admin-bar">
      <${ListControls} query=${query} idPrefix="communities" search="Search communities"
        filters=${[{ name: 'status', label: 'Status', options: STATUSES }]} />
      <button type="button" onClick=${() => setEditing('new')}>New community</button>
    </div>
    <${Outcome} outcome=${act.outcome} />
    <${ListBody} list=${list} query=${query} noun="communities">
      ${(d) => html`<${DataTable} caption="Communities" columns=${columns} rows=${d.items} empty="No communities here." />`}
    <//>
    ${editing && html`<${CommunityForm} community=${editing === 'new' ? null : editing} signal=${signal}
      onClose=${() => setEditing(null)}
      onSaved=${(c, created) => { setEditing(null); act.run(async () => list.reload(), created ? `“${c.name}” is created.` : 'Saved.'); }} />`}
    ${dialog}`;
}

// ---------------------------------------------------------------- reports

function ResolveForm({ report, signal, onDone, onClose }) {
  const f = useSubmit(async (data) => {
    const body = { action: data.get('action') };
    const note = data.get('note').trim();
    if (note) body.note = note;
    await api(`/api/admin/reports/${report.id}/resolve`, { method: 'PUT', body, signal });
    onDone(body.action);
  });
  return html`<${Dialog} labelId="resolve-title" onClose=${onClose}>
    <form class="stack" onSubmit=${f.onSubmit} novalidate>
      <h2 id="resolve-title">Resolve report #${report.id}</h2>
      <blockquote class="admin-quote">${report.post ? report.post.content : '(the post is gone)'}</blockquote>
      <p class="hint-muted">Reported by @${report.reporter ? report.reporter.username : '?'} for ${report.reason}
        ${report.details ? `: ${report.details}` : ''}</p>
      <${FormError} error=${f.error} wait=${f.wait} shown=${['action', 'note']} />
      <fieldset>
        <legend>Decision</legend>
        ${ACTIONS.map(([v, label], i) => html`<label class="check-line" key=${v}>
          <input type="radio" name="action" value=${v} checked=${i === 0} /> ${label}
        </label>`)}
      </fieldset>
      <${Field} id="resolve-note" as="textarea" label="Note (optional, kept with the report)" name="note" rows="2"
        maxlength="1000" errors=${f.fields.note} />
      <div class="actions">
        <button type="submit" disabled=${f.busy}>${f.busy ? 'Resolving…' : 'Resolve report'}</button>
        <button type="button" class="secondary" onClick=${onClose}>Cancel</button>
      </div>
    </form>
  <//>`;
}

function Reports({ query, signal }) {
  const list = useAdminList('/api/admin/reports', query, { fixed: { status: query.get('status') || 'open' }, signal });
  const [resolving, setResolving] = useState(null);
  const act = useAction();
  const columns = [
    { label: 'Post', class: 'wrap', cell: (r) => html`${r.post ? r.post.content : '(gone)'}
      ${r.post && r.post.is_removed && html` <${StatusBadge} status="hidden" label="Removed" />`}` },
    { label: 'Author', cell: (r) => (r.post && r.post.author ? html`@${r.post.author.username}
      ${r.post.author.is_banned && html` <${StatusBadge} status="banned" />`}` : '') },
    { label: 'Community', cell: (r) => (r.community ? html`<a href=${`/community/${r.community.id}`}>${r.community.name}</a>` : '') },
    { label: 'Reason', class: 'wrap', cell: (r) => `${r.reason}${r.details ? `: ${r.details}` : ''}` },
    { label: 'Reporter', cell: (r) => (r.reporter ? `@${r.reporter.username}` : '') },
    { label: 'Reported', cell: (r) => when(r.created_at) },
    { label: 'Status', cell: (r) => html`<${StatusBadge} status=${r.status} />${r.action ? ` (${r.action})` : ''}` },
    { label: 'Actions', cell: (r) => (r.status === 'open'
      ? html`<button type="button" onClick=${() => setResolving(r)} aria-label=${`Resolve report ${r.id}`}>Resolve…</button>`
      : html`<small class="hint-muted">${when(r.resolved_at)}</small>`) },
  ];
  return html`<${ListControls} query=${query} idPrefix="reports"
      filters=${[{ name: 'status', label: 'Status', options: REPORT_STATUSES }]} />
    <${Outcome} outcome=${act.outcome} />
    <${ListBody} list=${list} query=${query} noun="reports">
      ${(d) => html`<${DataTable} caption="Reported posts" columns=${columns} rows=${d.items} empty="No reports here." />`}
    <//>
    ${resolving && html`<${ResolveForm} report=${resolving} signal=${signal} onClose=${() => setResolving(null)}
      onDone=${(action) => { setResolving(null); act.run(async () => list.reload(), `Report #${resolving.id} resolved (${action}).`); }} />`}`;
}

export function AdminCommunitiesPage({ query, signal }) {
  const tab = query.get('tab') === 'reports' ? 'reports' : 'communities';
  return html`<${AdminLayout} title=${tab === 'reports' ? 'Reported posts' : 'Communities'}>
    <${Tabs} tab=${tab} />
    ${tab === 'reports' ? html`<${Reports} query=${query} signal=${signal} />` : html`<${Communities} query=${query} signal=${signal} />`}
  <//>`;
}

