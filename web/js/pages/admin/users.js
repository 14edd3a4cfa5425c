// admin/users.js: /admin/users, user management.  The table's search,
// filters, sort and page live in the URL (?search=&user_type=&status=
// &sort=&page=), and so does the user shown in the detail dialog
// (?view=ID).  Edit (PUT /api/admin/users/{id}), ban with a reason, unban,
// verify a creator and delete (after a confirmation) each answer with the
// user's new state; the table reloads.
import { useState } from 'preact/hooks';
import { api } from '../../api.js';
import { AdminLayout } from '../../admin/shell.js';
import { html, useLoad, formatCount, formatMoney, Loading, Empty, ErrorBox, LinkPager, withQuery } from '../../ui.js';
import { DataTable, Dialog, FieldError, fieldError, when, setQuery } from '../../admin/ui.js';

const TYPES = [['', 'All types'], ['buyer', 'Buyers'], ['creator', 'Creators']];
const STATUSES = [['', 'Any status'], ['active', 'Active'], ['banned', 'Banned'], ['unverified', 'Unverified']];
const SORTS = [['newest', 'Newest'], ['oldest', 'Oldest'], ['username', 'Username'], ['last_login', 'Last sign-in'], ['models', 'Most models']];

function Filters({ query }) {
  const [search, setSearch] = useState(query.get('search') || '');
  const select = (id, label, name, options, def = '') => html`<div class="field">
    <label for=${id}>${label}</label>
    <select id=${id} value=${query.get(name) || def} onChange=${(e) => setQuery(query, { [name]: e.target.value })}>
      ${options.map(([v, l]) => html`<option value=${v} key=${v}>${l}</option>`)}
    </select></div>`;
  return html`<form class="filters" role="search" onSubmit=${(e) => { e.preventDefault(); setQuery(query, { search }); }}>
    <div class="field grow"><label for="u-search">Search</label>
      <input id="u-search" type="search" value=${search} placeholder="Username, email or name" maxlength="100"
        onInput=${(e) => setSearch(e.target.value)} /></div>
    ${select('u-type', 'Type', 'user_type', TYPES)}
    ${select('u-status', 'Status', 'status', STATUSES)}
    ${select('u-sort', 'Sort', 'sort', SORTS, 'newest')}
    <button type="submit">Search</button>
  </form>`;
}

function EditForm({ user, onDone }) {
  const [form, setForm] = useState({ full_name: user.full_name || '', user_type: user.user_type, role: user.role,
    is_verified: user.is_verified, is_email_verified: user.is_email_verified, bio: user.bio || '', country: user.country || '' });
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const set = (k) => (e) => setForm({ ...form, [k]: e.target.type === 'checkbox' ? e.target.checked : e.target.value });
  const save = async (e) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      onDone(await api(`/api/admin/users/${user.id}`, { method: 'PUT', body: form }));
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  const err = (k) => fieldError(error, k);
  return html`<form class="stack" onSubmit=${save}>
    <div class="field"><label for="e-name">Full name</label>
      <input id="e-name" value=${form.full_name} maxlength="100" onInput=${set('full_name')} aria-invalid=${!!err('full_name')} />
      <${FieldError} text=${err('full_name')} /></div>
    <div class="field"><label for="e-type">Account type</label>
      <select id="e-type" value=${form.user_type} onChange=${set('user_type')}><option value="buyer">Buyer</option><option value="creator">Creator</option></select></div>
    <div class="field"><label for="e-role">Role</label>
      <select id="e-role" value=${form.role} onChange=${set('role')}><option value="user">User</option><option value="admin">Administrator</option></select></div>
    <div class="field check"><label><input type="checkbox" checked=${form.is_verified} onChange=${set('is_verified')} /> Verified creator</label></div>
    <div class="field check"><label><input type="checkbox" checked=${form.is_email_verified} onChange=${set('is_email_verified')} /> Email verified</label></div>
    <div class="field"><label for="e-country">Country</label><input id="e-country" value=${form.country} maxlength="100" onInput=${set('country')} /></div>
    <div class="field"><label for="e-bio">Bio</label><textarea id="e-bio" rows="3" maxlength="1000" onInput=${set('bio')}>${form.bio}</textarea></div>
    ${error && !Object.keys(error.field_errors).length && html`<p class="field-error" role="alert">${error.message}</p>`}
    <div class="actions"><button type="submit" disabled=${busy}>${busy ? 'Saving…' : 'Save'}</button></div>
  </form>`;
}

// One action that needs words or a confirmation: ban (a reason) or delete.
function Confirm({ user, kind, onDone, onCancel }) {
  const [reason, setReason] = useState('');
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const go = async (e) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      if (kind === 'ban') onDone(await api(`/api/admin/users/${user.id}/ban`, { method: 'POST', body: { reason } }));
      else { await api(`/api/admin/users/${user.id}`, { method: 'DELETE' }); onDone(null); }
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return html`<form class="stack" onSubmit=${go}>
    ${kind === 'ban'
      ? html`<p>Banning <strong>${user.username}</strong> signs them out everywhere at once and hides their models, comments, posts and profile until they are unbanned.</p>
        <div class="field"><label for="ban-reason">Reason (kept in the audit log)</label>
          <textarea id="ban-reason" rows="3" required minlength="3" maxlength="1000" onInput=${(e) => setReason(e.target.value)}>${reason}</textarea>
          <${FieldError} text=${fieldError(error, 'reason')} /></div>`
      : html`<p>Delete <strong>${user.username}</strong>? Their personal data is removed and they are signed out; their models leave the marketplace but stay with their buyers. This cannot be undone.</p>`}
    ${error && !fieldError(error, 'reason') && html`<p class="field-error" role="alert">${error.message}</p>`}
    <div class="actions">
      <button type="button" class="secondary" onClick=${onCancel}>Cancel</button>
      <button type="submit" class="danger" disabled=${busy}>${kind === 'ban' ? 'Ban' : 'Delete for good'}</button>
    </div>
  </form>`;
}

function Detail({ id, signal, onChanged, onClose }) {
  const d = useLoad((sig) => api(`/api/admin/users/${id}`, { signal: sig }), signal);
  const [mode, setMode] = useState('view');
  const [error, setError] = useState(null);
  const done = () => { setMode('view'); d.reload(); onChanged(); };
  const act = async (path) => {
    setError(null);
    try { await api(`/api/admin/users/${id}/${path}`, { method: 'POST' }); done(); } catch (err) { setError(err); }
  };
  let body;
  if (d.loading) body = html`<${Loading} />`;
  else if (d.error) body = html`<${ErrorBox} error=${d.error} onRetry=${d.reload} />`;
  else {
    const u = d.data;
    const c = u.counts;
    if (mode === 'edit') body = html`<${EditForm} user=${u} onDone=${done} />`;
    else if (mode === 'ban' || mode === 'delete')
      body = html`<${Confirm} user=${u} kind=${mode} onCancel=${() => setMode('view')}
        onDone=${(x) => { if (x === null) { onChanged(); onClose(); } else done(); }} />`;
    else body = html`
      <p>${u.email} · ${u.user_type}${u.role === 'admin' ? ' · administrator' : ''} · <strong>${u.status}</strong>
        ${u.is_verified ? ' · verified creator' : ''}</p>
      ${u.is_banned && html`<p class="notice">Banned ${when(u.banned_at, '—')}: ${u.ban_reason}</p>`}
      <dl class="mini-stats">
        <div><dt>Models</dt><dd>${formatCount(c.models)}</dd></div><div><dt>Sales</dt><dd>${formatCount(c.sales)}</dd></div>
        <div><dt>Earned</dt><dd>${formatMoney(c.total_earned)}</dd></div><div><dt>Purchases</dt><dd>${formatCount(c.purchases)}</dd></div>
        <div><dt>Spent</dt><dd>${formatMoney(c.total_spent)}</dd></div><div><dt>Tickets</dt><dd>${formatCount(c.tickets)}</dd></div>
      </dl>
      <h3>Models</h3>
      ${u.models.length ? html`<ul>${u.models.map((m) => html`<li key=${m.id}><a href=${`/model/${m.id}`}>${m.title}</a> · ${m.status}${m.is_published ? '' : ' (unpublished)'}</li>`)}</ul>` : html`<p class="muted">None.</p>`}
      <h3>Purchases</h3>
      ${u.purchases.length ? html`<ul>${u.purchases.map((p) => html`<li key=${p.id}>${p.model_title || `#${p.model_id}`} · ${formatMoney(p.price)}${p.is_refunded ? ' (refunded)' : ''}</li>`)}</ul>` : html`<p class="muted">None.</p>`}
      <h3>Tickets</h3>
      ${u.tickets.length ? html`<ul>${u.tickets.map((t) => html`<li key=${t.id}><a href=${`/admin/support?ticket=${t.id}`}>${t.subject}</a> · ${t.status}</li>`)}</ul>` : html`<p class="muted">None.</p>`}
      ${error && html`<p class="field-error" role="alert">${error.message}</p>`}
      <div class="actions">
        <button type="button" onClick=${() => setMode('edit')}>Edit</button>
        ${u.user_type === 'creator' && !u.is_verified && html`<button type="button" class="secondary" onClick=${() => act('verify')}>Verify creator</button>`}
        ${u.is_banned ? html`<button type="button" class="secondary" onClick=${() => act('unban')}>Unban</button>`
          : html`<button type="button" class="danger" onClick=${() => setMode('ban')}>Ban…</button>`}
        <button type="button" class="danger" onClick=${() => setMode('delete')}>Delete…</button>
      </div>`;
  }
  return html`<${Dialog} labelId="user-dlg" onClose=${onClose}>
    <h2 id="user-dlg">${d.data ? d.data.username : 'User'}</h2>
    ${body}
    <div class="actions"><button type="button" class="secondary" onClick=${onClose}>Close</button></div>
  </${Dialog}>`;
}

function userColumns(query) {
  return [
    { label: 'User', rowHeader: true, class: 'name', cell: (u) => html`<a href=${withQuery(location.pathname, query, { view: u.id })}>${u.username}</a>
      ${u.role === 'admin' && html` <span class="badge">admin</span>`}${u.is_verified && html` <span class="verified" title="Verified creator">✓</span>`}` },
    { label: 'Email', cell: (u) => u.email },
    { label: 'Type', cell: (u) => u.user_type },
    { label: 'Status', cell: (u) => html`<span class=${`status ${u.status}`}>${u.status}</span>` },
    { label: 'Models', cell: (u) => formatCount(u.models_count) },
    { label: 'Joined', cell: (u) => when(u.created_at, '—') },
    { label: 'Last sign-in', cell: (u) => when(u.last_login_at, '—') },
  ];
}

export function AdminUsersPage({ query, signal }) {
  const page = Number(query.get('page')) || 1;
  const params = { page, limit: 20 };
  for (const k of ['search', 'user_type', 'status', 'sort']) if (query.get(k)) params[k] = query.get(k);
  const list = useLoad((sig) => api('/api/admin/users', { query: params, signal: sig }), signal);
  const view = Number(query.get('view')) || 0;
  return html`<${AdminLayout} title="Users">
    <${Filters} query=${query} />
    ${list.loading ? html`<${Loading} />` : list.error ? html`<${ErrorBox} error=${list.error} onRetry=${list.reload} />`
      : !list.data.items.length ? html`<${Empty}>No user matches.</${Empty}>`
      : html`<p class="count">${formatCount(list.data.total)} users</p>
        <${DataTable} caption="Users" columns=${userColumns(query)} rows=${list.data.items} />
        <${LinkPager} page=${list.data.page} pages=${list.data.pages} label="User pages"
          href=${(n) => withQuery(location.pathname, query, { page: n })} />`}
    ${view > 0 && html`<${Detail} key=${view} id=${view} signal=${signal} onChanged=${list.reload}
      onClose=${() => setQuery(query, { view: '', page: query.get('page') || '' })} />`}
  </${AdminLayout}>`;
}
