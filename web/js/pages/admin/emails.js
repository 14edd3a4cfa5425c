// admin/emails.js: /admin/emails, the mail the platform sends.
//   ?tab=templates (default): every template; editing one shows a live
//     preview rendered by the server (POST /api/admin/emails/templates/preview,
//     the code the real mails go through), and unknown {{variables}} are
//     refused on save;
//   ?tab=send: a mailing to a user, yourself (a test), everyone, creators,
//     buyers or newsletter subscribers, from a template or written here;
//   ?tab=history&status=&page=: the outbox with each mail's delivery state.
import { useEffect, useState } from 'preact/hooks';
import { api, isAbort } from '../../api.js';
import { AdminLayout } from '../../admin/shell.js';
import { html, useLoad, formatCount, Loading, Empty, ErrorBox, LinkPager, withQuery } from '../../ui.js';
import { DataTable, FieldError, fieldError, when, setQuery } from '../../admin/ui.js';

const TABS = [['templates', 'Templates'], ['send', 'Send'], ['history', 'History']];

function Preview({ subject, body, tkey }) {
  const [out, setOut] = useState(null);
  const [error, setError] = useState(null);
  useEffect(() => {
    const ctl = new AbortController();
    const t = setTimeout(() => {
      api('/api/admin/emails/templates/preview', { method: 'POST', body: { key: tkey || undefined, subject, body }, signal: ctl.signal })
        .then((r) => { setOut(r); setError(null); }, (e) => { if (!isAbort(e)) setError(e); });
    }, 300);
    return () => { clearTimeout(t); ctl.abort(); };
  }, [subject, body, tkey]);
  if (error) return html`<p class="field-error" role="status">${error.message}</p>`;
  if (!out) return html`<${Loading} label="Rendering…" />`;
  return html`<div class="preview" aria-live="polite">
    <p><strong>Subject:</strong> ${out.subject}</p>
    <iframe title="HTML preview" sandbox="" srcdoc=${out.html} style="width:100%;min-height:16rem;border:1px solid var(--line, #ccc)"></iframe>
  </div>`;
}

function Editor({ tpl, onSaved, onCancel }) {
  const creating = !tpl.id;
  const [form, setForm] = useState({ key: tpl.key || '', name: tpl.name || '', subject: tpl.subject || '', body: tpl.body || '' });
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const set = (k) => (e) => setForm({ ...form, [k]: e.target.value });
  const save = async (e) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const body = creating ? form : { name: form.name, subject: form.subject, body: form.body };
      await api(creating ? '/api/admin/emails/templates' : `/api/admin/emails/templates/${tpl.id}`,
        { method: creating ? 'POST' : 'PUT', body });
      onSaved();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  const err = (k) => fieldError(error, k);
  return html`<div class="two">
    <form class="stack" onSubmit=${save}>
      <h3>${creating ? 'New template' : `Edit “${tpl.name}”`}</h3>
      ${creating && html`<div class="field"><label for="t-key">Key</label>
        <input id="t-key" value=${form.key} required pattern="[a-z0-9_]{2,50}" onInput=${set('key')} aria-invalid=${!!err('key')} />
        <${FieldError} text=${err('key')} /></div>`}
      <div class="field"><label for="t-name">Name</label><input id="t-name" value=${form.name} required maxlength="100" onInput=${set('name')} /></div>
      <div class="field"><label for="t-subject">Subject</label>
        <input id="t-subject" value=${form.subject} required maxlength="200" onInput=${set('subject')} aria-invalid=${!!err('subject')} />
        <${FieldError} text=${err('subject')} /></div>
      <div class="field"><label for="t-body">Body</label>
        <textarea id="t-body" rows="12" required maxlength="20000" onInput=${set('body')} aria-invalid=${!!err('body')}>${form.body}</textarea>
        <${FieldError} text=${err('body')} />
        <p class="field-hint">Variables: ${(tpl.variables || ['name', 'username', 'email', 'site_name', 'site_url']).map((v) => `{{${v}}}`).join(', ')}</p></div>
      ${error && !Object.keys(error.field_errors).length && html`<p class="field-error" role="alert">${error.message}</p>`}
      <div class="actions">
        <button type="button" class="secondary" onClick=${onCancel}>Cancel</button>
        <button type="submit" disabled=${busy}>${busy ? 'Saving…' : 'Save'}</button>
      </div>
    </form>
    <section aria-label="Preview"><h3>Preview</h3><${Preview} subject=${form.subject} body=${form.body} tkey=${tpl.key || form.key} /></section>
  </div>`;
}

function Templates({ signal }) {
  const list = useLoad((sig) => api('/api/admin/emails/templates', { query: { limit: 100 }, signal: sig }), signal);
  const [editing, setEditing] = useState(null);
  const [error, setError] = useState(null);
  if (editing) return html`<${Editor} tpl=${editing} onCancel=${() => setEditing(null)} onSaved=${() => { setEditing(null); list.reload(); }} />`;
  if (list.loading) return html`<${Loading} />`;
  if (list.error) return html`<${ErrorBox} error=${list.error} onRetry=${list.reload} />`;
  const remove = async (t) => {
    if (!window.confirm(`Delete the template “${t.name}”?`)) return;
    try { await api(`/api/admin/emails/templates/${t.id}`, { method: 'DELETE' }); list.reload(); } catch (e) { setError(e); }
  };
  const columns = [
    { label: 'Name', rowHeader: true, class: 'name',
      cell: (t) => html`${t.name}${t.is_system && html` <span class="badge">system</span>`}` },
    { label: 'Key', cell: (t) => html`<code>${t.key}</code>` },
    { label: 'Subject', cell: (t) => t.subject },
    { label: 'Updated', cell: (t) => when(t.updated_at, '—') },
    { label: '', cell: (t) => html`<button type="button" class="secondary" onClick=${() => setEditing(t)}>Edit</button>
      ${!t.is_system && html` <button type="button" class="danger" onClick=${() => remove(t)}>Delete</button>`}` },
  ];
  return html`<div class="actions"><button type="button" onClick=${() => setEditing({})}>New template</button></div>
    ${error && html`<p class="field-error" role="alert">${error.message}</p>`}
    <${DataTable} caption="Mail templates" columns=${columns} rows=${list.data.items}
      empty="No templates yet." />`;
}

function Send({ signal }) {
  const tpls = useLoad((sig) => api('/api/admin/emails/templates', { query: { limit: 100 }, signal: sig }), signal);
  const [form, setForm] = useState({ segment: 'me', user_id: '', template_id: '', subject: '', body: '' });
  const [error, setError] = useState(null);
  const [done, setDone] = useState(null);
  const [busy, setBusy] = useState(false);
  const set = (k) => (e) => setForm({ ...form, [k]: e.target.value });
  const send = async (e) => {
    e.preventDefault();
    if (['all', 'creators', 'buyers', 'newsletter'].includes(form.segment)
        && !window.confirm(`Send this mail to every recipient of “${form.segment}”?`)) return;
    setBusy(true);
    setError(null);
    setDone(null);
    const body = { segment: form.segment };
    if (form.segment === 'user') body.user_id = Number(form.user_id);
    if (form.template_id) body.template_id = Number(form.template_id);
    if (form.subject) body.subject = form.subject;
    if (form.body) body.body = form.body;
    try { setDone(await api('/api/admin/emails/send', { method: 'POST', body })); } catch (err) { setError(err); } finally { setBusy(false); }
  };
  const custom = tpls.data ? tpls.data.items.filter((t) => !t.is_system) : [];
  const err = (k) => fieldError(error, k);
  return html`<div class="two"><form class="stack" onSubmit=${send}>
    <div class="field"><label for="s-seg">To</label>
      <select id="s-seg" value=${form.segment} onChange=${set('segment')}>
        <option value="me">Me (a test)</option><option value="user">One user</option><option value="all">All users</option>
        <option value="creators">All creators</option><option value="buyers">All buyers</option><option value="newsletter">Newsletter subscribers</option>
      </select></div>
    ${form.segment === 'user' && html`<div class="field"><label for="s-user">User id</label>
      <input id="s-user" type="number" min="1" value=${form.user_id} onInput=${set('user_id')} aria-invalid=${!!err('user_id')} />
      <${FieldError} text=${err('user_id')} /></div>`}
    <div class="field"><label for="s-tpl">Template</label>
      <select id="s-tpl" value=${form.template_id} onChange=${set('template_id')}>
        <option value="">None: write it here</option>
        ${custom.map((t) => html`<option value=${t.id} key=${t.id}>${t.name}</option>`)}
      </select></div>
    <div class="field"><label for="s-subject">Subject${form.template_id ? ' (optional: overrides the template)' : ''}</label>
      <input id="s-subject" value=${form.subject} maxlength="200" onInput=${set('subject')} aria-invalid=${!!err('subject')} />
      <${FieldError} text=${err('subject')} /></div>
    <div class="field"><label for="s-body">Body</label>
      <textarea id="s-body" rows="10" maxlength="20000" onInput=${set('body')} aria-invalid=${!!err('body')}>${form.body}</textarea>
      <${FieldError} text=${err('body')} />
      <p class="field-hint">Variables: {{name}}, {{username}}, {{email}}, {{site_name}}, {{site_url}}</p></div>
    ${error && !Object.keys(error.field_errors).length && html`<p class="field-error" role="alert">${error.message}</p>`}
    ${done && html`<p class="ok" role="status">Queued as mailing #${done.campaign_id}: see the history.</p>`}
    <div class="actions"><button type="submit" disabled=${busy}>${busy ? 'Sending…' : 'Send'}</button></div>
  </form>
  ${(form.subject || form.body) && html`<section aria-label="Preview"><h3>Preview</h3><${Preview} subject=${form.subject} body=${form.body} /></section>`}
  </div>`;
}

const HISTORY_COLUMNS = [
  { label: 'Queued', cell: (m) => when(m.created_at, '—') },
  { label: 'To', cell: (m) => m.to },
  { label: 'Subject', cell: (m) => m.subject },
  { label: 'Kind', cell: (m) => html`<code>${m.kind}</code>` },
  { label: 'Status', cell: (m) => html`<span class=${`status ${m.status}`} title=${m.last_error || ''}>${m.status}</span>${m.last_error && html`<br /><small class="muted">${m.last_error}</small>`}` },
  { label: 'Tries', cell: (m) => m.attempts },
  { label: 'Sent', cell: (m) => when(m.sent_at, '—') },
];

function History({ query, signal }) {
  const page = Number(query.get('page')) || 1;
  const status = query.get('status') || '';
  const h = useLoad((sig) => api('/api/admin/emails/history', { query: { page, limit: 25, status }, signal: sig }), signal);
  return html`<div class="filters"><div class="field"><label for="h-status">Status</label>
      <select id="h-status" value=${status} onChange=${(e) => setQuery(query, { status: e.target.value })}>
        <option value="">All</option><option value="queued">Queued</option><option value="sending">Sending</option>
        <option value="sent">Sent</option><option value="failed">Failed</option>
      </select></div></div>
    ${h.loading ? html`<${Loading} />` : h.error ? html`<${ErrorBox} error=${h.error} onRetry=${h.reload} />`
      : !h.data.items.length ? html`<${Empty}>No mail.</${Empty}>`
      : html`<p class="count">${formatCount(h.data.total)} mails</p>
        <${DataTable} caption="Mail history" columns=${HISTORY_COLUMNS} rows=${h.data.items} />
        <${LinkPager} page=${h.data.page} pages=${h.data.pages} label="History pages"
          href=${(n) => withQuery(location.pathname, query, { page: n })} />`}`;
}

export function AdminEmailsPage({ query, signal }) {
  const tab = TABS.some(([t]) => t === query.get('tab')) ? query.get('tab') : 'templates';
  return html`<${AdminLayout} title="Emails">
    <nav class="tabs" aria-label="Emails">${TABS.map(([t, label]) => html`<a key=${t}
      href=${t === 'templates' ? location.pathname : `${location.pathname}?tab=${t}`} aria-current=${t === tab ? 'page' : undefined}>${label}</a>`)}</nav>
    ${tab === 'templates' ? html`<${Templates} signal=${signal} />`
      : tab === 'send' ? html`<${Send} signal=${signal} />` : html`<${History} query=${query} signal=${signal} />`}
  </${AdminLayout}>`;
}
