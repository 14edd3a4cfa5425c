// admin/ui.js: the pieces the admin pages share.
//
// - useAdminList(path, query, {filters, signal}): the page's list, with
//   page, limit, search and filters read from the URL's query.
// - ListControls: a search box and filter selects whose values live in the
//   URL (changing one navigates, so back and reload keep the view).
// - DataTable: a table of rows with a caption, headers and an empty state;
//   Pager under it (LinkPager over the list's {page, pages}).
// - useConfirm(): [confirm(options) -> Promise, dialog]: a modal asking
//   before a destructive action, optionally for a reason (reject, ban).
// - Dialog: a modal <dialog> for forms (Escape closes it).
// - StatusBadge: a status as a coloured pill with words, not colour only.
// - fieldError / FieldError: an ApiError's field errors under hand-written
//   inputs (forms built with pages/auth.js's Field show their own).
import { useEffect, useRef, useState } from 'preact/hooks';
import { api } from '../api.js';
import { navigate } from '../nav.js';
import { html, useLoad, withQuery, formatCount, LinkPager, Loading, Empty, ErrorBox } from '../ui.js';

export const PAGE_SIZE = 20;

// A date and time in the reader's locale; `missing` when there is none, the
// text itself when it is no date.
export function when(iso, missing = '') {
  if (!iso) return missing;
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}

export function day(iso) {
  if (!iso) return '';
  return new Date(iso).toLocaleDateString(undefined, { dateStyle: 'medium' });
}

// The positive integer ?page= (1 when missing or bad).
export function pageOf(query) {
  const n = Number(query.get('page'));
  return Number.isInteger(n) && n > 0 ? n : 1;
}

// Loads GET path with ?page, ?limit and the named URL parameters
// (`params`: names in the URL, or [urlName, apiName] pairs; `fixed`: values
// always sent).  {data, error, loading, reload}.
export function useAdminList(path, query, { params = [], fixed = {}, signal }) {
  const q = { page: pageOf(query), limit: PAGE_SIZE, ...fixed };
  for (const p of params) {
    const [from, to] = Array.isArray(p) ? p : [p, p];
    const v = query.get(from);
    if (v) q[to] = v;
  }
  return useLoad((s) => api(path, { query: q, signal: s }), signal);
}

// Navigates to the same page with changes to its query (back to page 1
// unless the page itself changes).
export function setQuery(query, changes) {
  navigate(withQuery(location.pathname, query, { page: '', ...changes }));
}

// filters: [{name, label, options: [[value, label], …]}]; search: the label
// of the search box (none when omitted).  Each filter's first option is the
// default, kept out of the URL.
export function ListControls({ query, search, filters = [], idPrefix = 'list' }) {
  const onSearch = (e) => {
    e.preventDefault();
    setQuery(query, { search: new FormData(e.target).get('search').trim() });
  };
  return html`<div class="admin-controls">
    ${search && html`<form class="search" role="search" onSubmit=${onSearch}>
      <label for=${`${idPrefix}-search`}>${search}</label>
      <input id=${`${idPrefix}-search`} name="search" type="search" defaultValue=${query.get('search') || ''} />
      <button type="submit">Search</button>
      ${query.get('search') && html`<button type="button" class="secondary" onClick=${() => setQuery(query, { search: '' })}>Clear</button>`}
    </form>`}
    ${filters.map((f) => html`<div class="field" key=${f.name}>
      <label for=${`${idPrefix}-${f.name}`}>${f.label}</label>
      <select id=${`${idPrefix}-${f.name}`} value=${query.get(f.name) || f.options[0][0]}
        onChange=${(e) => setQuery(query, { [f.name]: e.target.value === f.options[0][0] ? '' : e.target.value })}>
        ${f.options.map(([v, label]) => html`<option key=${v} value=${v}>${label}</option>`)}
      </select>
    </div>`)}
  </div>`;
}

// columns: [{label, cell(row), class?, rowHeader?}] (a rowHeader column's
// cells are the rows' <th scope="row">); rows: the items.  The wrapper is a
// labelled region keyboard users can scroll.
export function DataTable({ caption, columns, rows, empty = 'Nothing here.', rowKey = (r) => r.id }) {
  if (!rows.length) return html`<${Empty}>${empty}<//>`;
  const cell = (c, r) => (c.rowHeader
    ? html`<th scope="row" class=${c.class}>${c.cell(r)}</th>`
    : html`<td class=${c.class}>${c.cell(r)}</td>`);
  return html`<div class="table-wrap admin-table" role="region" aria-label=${caption} tabindex="0">
    <table>
      <caption class="sr-only">${caption}</caption>
      <thead><tr>${columns.map((c) => html`<th scope="col" class=${c.class}>${c.label}</th>`)}</tr></thead>
      <tbody>
        ${rows.map((r) => html`<tr key=${rowKey(r)}>${columns.map((c) => cell(c, r))}</tr>`)}
      </tbody>
    </table>
  </div>`;
}

export function Pager({ query, data }) {
  if (!data) return null;
  return html`<${LinkPager} page=${data.page} pages=${data.pages}
    href=${(n) => withQuery(location.pathname, query, { page: n === 1 ? '' : n })} />`;
}

// "1 category", "3 categories": nouns in the plural, made singular for 1.
export function countText(n, noun) {
  const one = noun.replace(/ies$/, 'y').replace(/s$/, '');
  return `${formatCount(n)} ${Number(n) === 1 ? one : noun}`;
}

// The list's states around the table: loading, error (with retry), then
// render(data) and the pager, with the total.
export function ListBody({ list, query, noun = 'items', children }) {
  if (list.loading) return html`<${Loading} label=${`Loading ${noun}…`} />`;
  if (list.error) return html`<${ErrorBox} error=${list.error} onRetry=${list.reload} />`;
  return html`<p class="count" role="status">${countText(list.data.total, noun)}</p>
    ${children(list.data)}
    <${Pager} query=${query} data=${list.data} />`;
}

// A modal <dialog>: Escape and "Cancel" close it; focus stays inside.
export function Dialog({ labelId, onClose, children, class: cls }) {
  const ref = useRef(null);
  useEffect(() => {
    const d = ref.current;
    if (d && !d.open) d.showModal();
    return () => { if (d && d.open) d.close(); };
  }, []);
  return html`<dialog ref=${ref} class=${`dialog${cls ? ` ${cls}` : ''}`} aria-labelledby=${labelId}
    onClose=${onClose}>${children}</dialog>`;
}

let confirmIds = 0;

function ConfirmBox({ ask, onDone }) {
  const [id] = useState(() => `confirm-${++confirmIds}`);
  const [error, setError] = useState('');
  const onSubmit = (e) => {
    e.preventDefault();
    if (!ask.reason) {
      onDone(true);
      return;
    }
    const text = new FormData(e.target).get('reason').trim();
    const min = ask.reason.min || 0;
    if (text.length < min) {
      setError(`Write at least ${min} characters.`);
      return;
    }
    onDone(text);
  };
  return html`<${Dialog} labelId=${`${id}-title`} onClose=${() => onDone(null)}>
    <form method="dialog" class="stack" onSubmit=${onSubmit}>
      <h2 id=${`${id}-title`}>${ask.title}</h2>
      ${ask.body && html`<p>${ask.body}</p>`}
      ${ask.reason && html`<div class="field">
        <label for=${`${id}-reason`}>${ask.reason.label}</label>
        <textarea id=${`${id}-reason`} name="reason" rows="3" maxlength=${ask.reason.max || 1000}
          aria-invalid=${error ? 'true' : undefined} aria-describedby=${error ? `${id}-error` : undefined}></textarea>
        ${error && html`<small class="field-error" id=${`${id}-error`}>${error}</small>`}
      </div>`}
      <div class="actions">
        <button type="submit" class=${ask.danger ? 'danger' : ''}>${ask.confirm || 'Confirm'}</button>
        <button type="button" class="secondary" onClick=${() => onDone(null)}>Cancel</button>
      </div>
    </form>
  <//>`;
}

// const [confirm, dialog] = useConfirm(); … if (await confirm({title, body,
// confirm: 'Delete', danger: true})) …; with reason: {label, min} the
// promise resolves to the text typed (null when cancelled).  Render
// `dialog` somewhere in the component.
export function useConfirm() {
  const [ask, setAsk] = useState(null);
  const confirm = (options) => new Promise((resolve) => setAsk({ ...options, resolve }));
  const onDone = (value) => {
    const a = ask;
    setAsk(null);
    if (a) a.resolve(value === true ? true : value || (a.reason ? null : false));
  };
  return [confirm, ask ? html`<${ConfirmBox} ask=${ask} onDone=${onDone} />` : null];
}

const STATUS_LABELS = {
  pending: 'Pending', approved: 'Approved', rejected: 'Rejected', active: 'Active', resolved: 'Resolved',
  open: 'Open', dismissed: 'Dismissed', requested: 'Requested', paid: 'Paid', completed: 'Completed',
  refunded: 'Refunded', failed: 'Failed', banned: 'Banned', draft: 'Draft', published: 'Published',
  featured: 'Featured', hidden: 'Hidden', inactive: 'Inactive',
};

// <${StatusBadge} status="pending" /> (label: to say it in other words).
export function StatusBadge({ status, label }) {
  const s = String(status || 'unknown');
  return html`<span class=${`status ${s.replace(/[^a-z_-]/gi, '')}`}>${label || STATUS_LABELS[s] || s}</span>`;
}

// An action's outcome under the page's title: {ok: 'text'} or {error}.
export function Outcome({ outcome }) {
  if (!outcome) return html`<p class="sr-only" role="status" aria-live="polite"></p>`;
  if (outcome.error) return html`<div class="state error" role="alert"><p>${outcome.error.message || 'That did not work.'}</p></div>`;
  return html`<p class="ok" role="status" aria-live="polite">${outcome.ok}</p>`;
}

// The field errors of an ApiError for one input: field_errors[name] as
// text, or ''.
export function fieldError(error, name) {
  const e = error && error.field_errors && error.field_errors[name];
  return e ? e.join(' ') : '';
}

export function FieldError({ id, text }) {
  return text ? html`<p class="field-error" id=${id}>${text}</p>` : null;
}

// [outcome, run(fn, okText)]: runs an action, keeps its outcome for Outcome.
export function useAction() {
  const [outcome, setOutcome] = useState(null);
  const [busy, setBusy] = useState(false);
  const run = async (fn, ok) => {
    setBusy(true);
    setOutcome(null);
    try {
      await fn();
      setOutcome({ ok });
      return true;
    } catch (error) {
      if (error && error.name === 'AbortError') return false;
      setOutcome({ error });
      return false;
    } finally {
      setBusy(false);
    }
  };
  return { outcome, busy, run, clear: () => setOutcome(null) };
}
