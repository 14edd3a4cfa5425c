// financials.js: /dashboard/financials, the money page.
//
// For creators: the revenue summary (GET /api/users/me/revenue), a payout
// request with its minimum (POST /api/users/me/payout-request), payout
// methods (GET and POST /api/users/me/payout-methods; posting one of a
// type replaces the existing one of that type), the ledger of
// transactions and the sales, each paged.  For everyone: the purchases,
// with download links and licence certificates.  A buyer without sales
// sees only the purchases.
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, isAbort } from '../api.js';
import { useSession } from '../session.js';
import { html, useLoad, formatCount, formatMoney, formatPrice, Loading, Empty, ErrorBox } from '../ui.js';
import { PurchaseItem } from './cart.js';

const LIMIT = 10;

function formatDay(iso) {
  if (!iso) return '—';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleDateString(undefined, { dateStyle: 'medium' });
}

function isCreator(user) {
  return user && (user.user_type === 'creator' || user.user_type === 'both' || user.role === 'admin');
}

// A paged list that keeps its page in local state (the other sections stay).
function usePaged(path, signal, extra = {}) {
  const [page, setPage] = useState(1);
  const list = useLoad((sig) => api(path, { query: { page, limit: LIMIT, ...extra }, signal: sig }), signal);
  const go = (p) => {
    setPage(p);
    list.reload();
  };
  return { ...list, page, go };
}

function Pager({ label, data, go }) {
  if (!data || data.pages <= 1) return null;
  return html`<nav class="pager" aria-label=${label}>
    <button type="button" class="secondary" disabled=${data.page <= 1} onClick=${() => go(data.page - 1)}>← Previous</button>
    <span>Page ${data.page} of ${data.pages}</span>
    <button type="button" class="secondary" disabled=${data.page >= data.pages} onClick=${() => go(data.page + 1)}>Next →</button>
  </nav>`;
}

function Table({ caption, head, rows }) {
  return html`<div class="table-wrap" role="region" aria-label=${`${caption} table`} tabindex="0">
    <table>
      <caption class="sr-only">${caption}</caption>
      <thead><tr>${head.map((h) => html`<th scope="col" class=${h.num ? 'num' : ''}>${h.label}</th>`)}</tr></thead>
      <tbody>${rows}</tbody>
    </table>
  </div>`;
}

function Section({ id, title, children }) {
  return html`<section class="panel" aria-labelledby=${id}>
    <h2 id=${id}>${title}</h2>
    ${children}
  </section>`;
}

// ------------------------------------------------------------ revenue

function RevenueSummary({ rev }) {
  const c = rev.currency || 'USD';
  const figures = [
    ['Available balance', formatMoney(rev.available_balance, c)],
    ['Net earnings', formatMoney(rev.net_earnings, c)],
    ['Gross sales', formatMoney(rev.gross_sales, c)],
    ['Platform fees', formatMoney(rev.platform_fees, c)],
    ['Refunds', formatMoney(rev.refunds, c)],
    ['Paid out', formatMoney(rev.paid_out, c)],
    ['Pending payout', formatMoney(rev.pending_payout, c)],
    ['Sales', formatCount(rev.sales_count)],
  ];
  const p = rev.period || {};
  return html`<dl class="stats">${figures.map(([k, v]) => html`<div><dt>${k}</dt><dd>${v}</dd></div>`)}</dl>
    <p class="note">${`Last ${rev.days} days (${rev.from} to ${rev.to}): ${formatCount(p.sales_count)} sales, ${formatMoney(p.net_earnings, c)} net after ${formatMoney(p.platform_fees, c)} in fees.`}</p>`;
}

// ------------------------------------------------------------ payouts

// A form's error: the server's detail, or, when the errors are next to
// their fields, a pointer to them.
function FormError({ error, fields }) {
  if (!error) return null;
  if (Object.keys(fields || {}).length)
    return html`<p class="field-error" role="alert">Please correct the fields marked below.</p>`;
  return html`<${ErrorBox} error=${error} />`;
}

function Field({ id, label, error, hint, children }) {
  const described = [hint && `${id}-hint`, error && `${id}-error`].filter(Boolean).join(' ') || undefined;
  return html`<div class="field">
    <label for=${id}>${label}</label>
    ${children(described, Boolean(error))}
    ${hint && html`<small class="note" id=${`${id}-hint`}>${hint}</small>`}
    ${error && html`<p class="field-error" id=${`${id}-error`}>${error}</p>`}
  </div>`;
}

function PayoutRequest({ rev, methods, onDone, signal }) {
  const c = rev.currency || 'USD';
  const [state, setState] = useState({ busy: false, error: null, fields: {}, done: null });
  const onSubmit = async (e) => {
    e.preventDefault();
    const f = new FormData(e.target);
    const amount = String(f.get('amount') || '').trim();
    const body = { method: f.get('method') || null, note: String(f.get('note') || '').trim() || null };
    if (amount) body.amount = Number(amount);
    setState({ busy: true, error: null, fields: {}, done: null });
    try {
      const r = await api('/api/users/me/payout-request', { method: 'POST', body, signal });
      setState({ busy: false, error: null, fields: {}, done: r });
      e.target.reset();
      onDone();
    } catch (err) {
      if (isAbort(err)) return;
      setState({ busy: false, error: err, fields: err.field_errors || {}, done: null });
    }
  };
  const fe = state.fields;
  let why = '';
  if (rev.has_open_payout_request) why = 'You have a payout request waiting for a decision.';
  else if (!rev.has_payout_method) why = 'Add a payout method below first.';
  else if (Number(rev.available_balance) < Number(rev.payout_minimum))
    why = `Your available balance is below the payout minimum of ${formatPrice(rev.payout_minimum, c)}.`;
  return html`<div>
    <p>Available: <strong>${formatMoney(rev.available_balance, c)}</strong>.
      Minimum payout: <strong>${formatPrice(rev.payout_minimum, c)}</strong>.</p>
    ${state.done && html`<p class="state ok" role="status">${`Payout of ${formatMoney(state.done.amount, state.done.currency)} to ${state.done.method.label} requested (status: ${state.done.status}).`}</p>`}
    ${why && html`<p class="note" id="po-why">${why}</p>`}
    <${FormError} error=${state.error} fields=${fe} />
    <form class="method-form" onSubmit=${onSubmit} aria-label="Request a payout" novalidate>
      <${Field} id="po-amount" label="Amount (USD)" error=${fe.amount} hint="Leave empty for your whole available balance.">
        ${(d, bad) => html`<input id="po-amount" name="amount" type="number" min="0" step="0.01" inputmode="decimal"
          aria-describedby=${d} aria-invalid=${bad} />`}
      <//>
      <${Field} id="po-method" label="Pay to" error=${fe.method}>
        ${(d, bad) => html`<select id="po-method" name="method" aria-describedby=${d} aria-invalid=${bad}>
          <option value="">Most recently set method</option>
          ${methods.map((m) => html`<option value=${m.type}>${m.label}</option>`)}
        </select>`}
      <//>
      <${Field} id="po-note" label="Note (optional)" error=${fe.note}>
        ${(d, bad) => html`<input id="po-note" name="note" maxlength="500" aria-describedby=${d} aria-invalid=${bad} />`}
      <//>
      <button type="submit" disabled=${state.busy || !rev.can_request_payout}
        aria-describedby=${why ? 'po-why' : undefined}>${state.busy ? 'Requesting…' : 'Request payout'}</button>
    </form>
  </div>`;
}

const BANK_FIELDS = [
  ['account_holder', 'Account holder', 'text', ''],
  ['country', 'Country (two letters)', 'text', 'e.g. GB, DE, US'],
  ['iban', 'IBAN', 'text', 'Or an account number with its routing number'],
  ['account_number', 'Account number', 'text', ''],
  ['routing_number', 'Routing number or sort code', 'text', ''],
  ['bic', 'BIC / SWIFT (optional)', 'text', ''],
];

function PayoutMethodForm({ onSaved, signal }) {
  const [type, setType] = useState('paypal');
  const [state, setState] = useState({ busy: false, error: null, fields: {}, saved: null });
  const onSubmit = async (e) => {
    e.preventDefault();
    const f = new FormData(e.target);
    const body = { type };
    const names = type === 'paypal' ? ['email'] : BANK_FIELDS.map(([n]) => n);
    for (const n of names) {
      const v = String(f.get(n) || '').trim();
      if (v) body[n] = n === 'country' ? v.toUpperCase() : v;
    }
    setState({ busy: true, error: null, fields: {}, saved: null });
    try {
      const m = await api('/api/users/me/payout-methods', { method: 'POST', body, signal });
      setState({ busy: false, error: null, fields: {}, saved: m });
      e.target.reset();
      onSaved();
    } catch (err) {
      if (isAbort(err)) return;
      setState({ busy: false, error: err, fields: err.field_errors || {}, saved: null });
    }
  };
  const fe = state.fields;
  return html`<form class="method-form" onSubmit=${onSubmit} aria-labelledby="pm-add" novalidate>
    <h3 id="pm-add">Add a payout method</h3>
    <p class="note">Saving a method of a type you already have replaces it; remove one with its Remove button.</p>
    ${state.saved && html`<p class="state ok" role="status">Saved: ${state.saved.label}.</p>`}
    <${FormError} error=${state.error} fields=${fe} />
    <${Field} id="pm-type" label="Method type" error=${fe.type}>
      ${(d, bad) => html`<select id="pm-type" name="type" value=${type} onChange=${(e) => setType(e.target.value)}
        aria-describedby=${d} aria-invalid=${bad}>
        <option value="paypal">PayPal</option>
        <option value="bank">Bank account</option>
      </select>`}
    <//>
    ${type === 'paypal'
      ? html`<${Field} id="pm-email" label="PayPal email" error=${fe.email}>
          ${(d, bad) => html`<input id="pm-email" name="email" type="email" autocomplete="email" required
            aria-describedby=${d} aria-invalid=${bad} />`}
        <//>`
      : BANK_FIELDS.map(([n, label, t, hint]) => html`<${Field} key=${n} id=${`pm-${n}`} label=${label} error=${fe[n]} hint=${hint}>
          ${(d, bad) => html`<input id=${`pm-${n}`} name=${n} type=${t} autocomplete="off"
            aria-describedby=${d} aria-invalid=${bad} />`}
        <//>`)}
    <button type="submit" disabled=${state.busy}>${state.busy ? 'Saving…' : 'Save payout method'}</button>
  </form>`;
}

function PayoutMethods({ methods, onRemoved, signal }) {
  const [state, setState] = useState({ busy: null, error: null });
  if (methods.loading) return html`<${Loading} label="Loading payout methods…" />`;
  if (methods.error) return html`<${ErrorBox} error=${methods.error} onRetry=${methods.reload} />`;
  const items = methods.data.items || [];
  if (!items.length) return html`<${Empty}>No payout method yet. Add PayPal or a bank account to get paid.<//>`;
  const remove = async (m) => {
    if (!window.confirm(`Remove the payout method ${m.label}?`)) return;
    setState({ busy: m.id, error: null });
    try {
      await api(`/api/users/me/payout-methods/${m.id}`, { method: 'DELETE', signal });
      setState({ busy: null, error: null });
      onRemoved();
    } catch (error) {
      if (!signal.aborted) setState({ busy: null, error });
    }
  };
  return html`${state.error && html`<${ErrorBox} error=${state.error} />`}
  <ul class="methods">
    ${items.map((m, i) => html`<li key=${m.id}>
      <strong>${m.label}</strong>
      ${i === 0 && html` <span class="tag">Default</span>`}
      <span class="note"> · updated ${formatDay(m.updated_at)}</span>${' '}
      <button type="button" class="link" disabled=${state.busy === m.id} onClick=${() => remove(m)}
        aria-label=${`Remove payout method ${m.label}`}>${state.busy === m.id ? 'Removing…' : 'Remove'}</button>
    </li>`)}
  </ul>`;
}

const PAYOUT_STATUS = { requested: 'Waiting for review', approved: 'Approved', paid: 'Paid', rejected: 'Rejected' };

// Reloaded whenever the revenue figures are (after a request is made).
function PayoutRequests({ signal, rev }) {
  const list = usePaged('/api/users/me/payout-requests', signal);
  const seen = useRef(rev);
  useEffect(() => {
    if (seen.current !== rev) list.reload();
    seen.current = rev;
  }, [rev]);
  if (list.loading) return html`<${Loading} label="Loading payout requests…" />`;
  if (list.error) return html`<${ErrorBox} error=${list.error} onRetry=${list.reload} />`;
  if (!list.data.items.length) return html`<${Empty}>No payout requests yet.<//>`;
  return html`<${Table} caption="Payout requests" head=${[{ label: 'Requested' }, { label: 'Pay to' },
    { label: 'Amount', num: true }, { label: 'Status' }]}
    rows=${list.data.items.map((r) => html`<tr key=${r.id}>
      <td>${formatDay(r.created_at)}</td>
      <td class="wrap">${r.method.label}${r.note ? html`<br /><span class="note">${r.note}</span>` : ''}</td>
      <td class="num">${formatMoney(r.amount, r.currency)}</td>
      <td class="wrap">${PAYOUT_STATUS[r.status] || r.status}${r.decided_at ? ` (${formatDay(r.decided_at)})` : ''}
        ${r.reason ? html`<br /><span class="note">${r.reason}</span>` : ''}</td>
    </tr>`)} />
    <${Pager} label="Payout request pages" data=${list.data} go=${list.go} />`;
}

// ------------------------------------------------------------ lists

function Transactions({ signal }) {
  const list = usePaged('/api/users/me/transactions', signal);
  if (list.loading) return html`<${Loading} label="Loading transactions…" />`;
  if (list.error) return html`<${ErrorBox} error=${list.error} onRetry=${list.reload} />`;
  if (!list.data.items.length) return html`<${Empty}>No transactions yet: sales, refunds and payouts appear here.<//>`;
  return html`<${Table} caption="Transactions" head=${[{ label: 'Date' }, { label: 'Description' }, { label: 'Reference' }, { label: 'Amount', num: true }]}
    rows=${list.data.items.map((t) => html`<tr key=${t.id}>
      <td>${formatDay(t.created_at)}</td>
      <td class="wrap">${t.description}${t.model && t.model.title ? html`: <a href=${`/model/${t.model.id}`}>${t.model.title}</a>` : ''}</td>
      <td class="mono">${t.reference || '—'}</td>
      <td class=${`num ${Number(t.amount) < 0 ? 'neg' : ''}`}>${formatMoney(t.amount, t.currency)}</td>
    </tr>`)} />
    <${Pager} label="Transaction pages" data=${list.data} go=${list.go} />`;
}

function Sales({ signal }) {
  const list = usePaged('/api/users/me/sales', signal);
  if (list.loading) return html`<${Loading} label="Loading sales…" />`;
  if (list.error) return html`<${ErrorBox} error=${list.error} onRetry=${list.reload} />`;
  if (!list.data.items.length) return html`<${Empty}>No sales yet. <a href="/upload">Upload a model</a> to start selling.<//>`;
  return html`<${Table} caption="Sales" head=${[{ label: 'Date' }, { label: 'Model' }, { label: 'Buyer' },
    { label: 'Price', num: true }, { label: 'Fee', num: true }, { label: 'Net', num: true }, { label: 'Status' }]}
    rows=${list.data.items.map((s) => html`<tr key=${s.id}>
      <td>${formatDay(s.created_at)}</td>
      <td class="wrap"><a href=${`/model/${s.model.id}`}>${s.model.title}</a></td>
      <td class="wrap">@${s.buyer.username}</td>
      <td class="num">${formatMoney(s.price, s.currency)}</td>
      <td class="num">${formatMoney(s.platform_fee, s.currency)}</td>
      <td class="num">${formatMoney(s.net_amount, s.currency)}</td>
      <td>${s.status}</td>
    </tr>`)} />
    <${Pager} label="Sales pages" data=${list.data} go=${list.go} />`;
}

function Purchases({ signal }) {
  const list = usePaged('/api/users/me/purchases', signal);
  if (list.loading) return html`<${Loading} label="Loading purchases…" />`;
  if (list.error) return html`<${ErrorBox} error=${list.error} onRetry=${list.reload} />`;
  if (!list.data.items.length) return html`<${Empty}>You have not bought anything yet. <a href="/marketplace">Browse the marketplace</a>.<//>`;
  return html`<ul class="purchases">
    ${list.data.items.map((p) => html`<${PurchaseItem} key=${p.id} modelId=${p.model_id} title=${p.title}
      thumb=${p.thumbnail_url} price=${p.price} currency=${p.currency} purchaseId=${p.id}
      meta=${`Bought ${formatDay(p.purchased_at)} · ${p.transaction_id}`} refunded=${p.status === 'refunded'}
      url=${p.download_url} expiresAt=${p.download_expires_at} />`)}
  </ul>
  <${Pager} label="Purchase pages" data=${list.data} go=${list.go} />`;
}

// ------------------------------------------------------------ the page

function CreatorMoney({ rev, reload, signal }) {
  const methods = useLoad((sig) => api('/api/users/me/payout-methods', { query: { limit: 100 }, signal: sig }), signal);
  const methodItems = methods.data ? methods.data.items || [] : [];
  return html`
    <${Section} id="fin-revenue" title="Revenue">
      <${RevenueSummary} rev=${rev} />
    <//>
    <${Section} id="fin-payout" title="Request a payout">
      <${PayoutRequest} rev=${rev} methods=${methodItems} onDone=${reload} signal=${signal} />
      <h3>Your payout requests</h3>
      <${PayoutRequests} signal=${signal} rev=${rev} />
    <//>
    <${Section} id="fin-methods" title="Payout methods">
      <${PayoutMethods} methods=${methods} signal=${signal} onRemoved=${() => { methods.reload(); reload(); }} />
      <${PayoutMethodForm} signal=${signal} onSaved=${() => { methods.reload(); reload(); }} />
    <//>
    <${Section} id="fin-transactions" title="Transactions">
      <${Transactions} signal=${signal} />
    <//>
    <${Section} id="fin-sales" title="Sales">
      <${Sales} signal=${signal} />
    <//>`;
}

export function FinancialsPage({ signal }) {
  const { user } = useSession();
  const rev = useLoad((sig) => api('/api/users/me/revenue', { signal: sig }), signal);
  // A reload (after a payout request or a new method) keeps the sections
  // mounted with the figures they had until the new ones come.
  const last = useRef(null);
  if (rev.data) last.current = rev.data;
  const data = rev.data || (rev.loading ? last.current : null);
  let creator;
  if (data) {
    creator = isCreator(user) || data.sales_count > 0 || Number(data.balance) !== 0
      ? html`<${CreatorMoney} rev=${data} reload=${rev.reload} signal=${signal} />` : null;
  } else if (rev.loading) creator = html`<${Loading} label="Loading your revenue…" />`;
  else creator = html`<${ErrorBox} error=${rev.error} onRetry=${rev.reload} />`;
  return html`<section class="page financials">
    <h1>Financials</h1>
    <nav class="subnav" aria-label="Dashboard">
      <a href="/dashboard">Overview</a> <a href="/dashboard/inventory">Inventory</a>
      <a href="/dashboard/financials" aria-current="page">Financials</a> <a href="/dashboard/settings">Settings</a>
    </nav>
    ${creator}
    <${Section} id="fin-purchases" title="Your purchases">
      <${Purchases} signal=${signal} />
    <//>
  </section>`;
}
