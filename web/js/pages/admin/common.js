// admin/common.js: pieces the admin console's pages share: dates, a data
// table, a modal dialog, a confirmation, and the "set a query parameter"
// navigation that keeps filters and paging in the URL.
import { useEffect, useRef } from 'preact/hooks';
import { html, withQuery } from '../../ui.js';
import { navigate } from '../../nav.js';

export function formatWhen(iso) {
  if (!iso) return '—';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}

// Replaces the page's query with changes (page back to 1 unless given).
export function setQuery(query, changes) {
  const next = 'page' in changes ? changes : { ...changes, page: '' };
  navigate(withQuery(location.pathname, query, next));
}

export function DataTable({ caption, head, children }) {
  return html`<div class="table-wrap" role="region" aria-label=${caption} tabindex="0">
    <table class="data">
      <caption class="sr-only">${caption}</caption>
      <thead><tr>${head.map((h) => html`<th scope="col" key=${h}>${h}</th>`)}</tr></thead>
      <tbody>${children}</tbody>
    </table>
  </div>`;
}

// A modal <dialog>: Escape and the close button close it.
export function Dialog({ labelId, onClose, children }) {
  const ref = useRef(null);
  useEffect(() => {
    const d = ref.current;
    if (d && !d.open) d.showModal();
    return () => { if (d && d.open) d.close(); };
  }, []);
  return html`<dialog ref=${ref} class="dialog" aria-labelledby=${labelId} onClose=${onClose}>${children}</dialog>`;
}

// The field errors of an ApiError under each input: errors[name] or ''.
export function fieldError(error, name) {
  const e = error && error.field_errors && error.field_errors[name];
  return e ? e.join(' ') : '';
}

export function FieldError({ id, text }) {
  return text ? html`<p class="field-error" id=${id}>${text}</p>` : null;
}
