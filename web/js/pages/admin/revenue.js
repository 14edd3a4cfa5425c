// admin/revenue.js: the platform's money (guide 13, /admin/revenue).
//
// Totals over a chosen range (GET /api/admin/revenue/stats?days=), then
// ?tab=transactions (default): orders by status (GET …/transactions), a
// completed one refundable through its provider (POST …/{id}/refund, after
// a confirmation); ?tab=payouts: creators' payout requests (GET …/payouts),
// approved (POST …/approve: paid, once) or rejected with a reason.
import { api } from '../../api.js';
import { html, useLoad, formatMoney, formatCount, Loading, ErrorBox } from '../../ui.js';
import { AdminLayout } from '../../admin/shell.js';
import {
  useAdminList, ListControls, DataTable, ListBody, StatusBadge, useConfirm, useAction, Outcome, setQuery, when,
} from '../../admin/ui.js';

const RANGES = [['30', 'Last 30 days'], ['7', 'Last 7 days'], ['90', 'Last 90 days'], ['365', 'Last year']];
const ORDER_STATUSES = [['all', 'All'], ['completed', 'Completed'], ['pending', 'Pending'], ['failed', 'Failed'], ['refunded', 'Refunded']];
const PAYOUT_STATUSES = [['requested', 'Requested'], ['approved', 'Approved'], ['paid', 'Paid'], ['rejected', 'Rejected'], ['all', 'All']];

function Stats({ query, signal }) {
  const days = query.get('days') || '30';
  const s = useLoad((sig) => api('/api/admin/revenue/stats', { query: { days }, signal: sig }), signal);
  const range = html`<div class="admin-controls"><div class="field">
    <label for="revenue-days">Range</label>
    <select id="revenue-days" value=${days} onChange=${(e) => setQuery(query, { days: e.target.value === '30' ? '' : e.target.value })}>
      ${RANGES.map(([v, t]) => html`<option key=${v} value=${v}>${t}</option>`)}
    </select>
  </div></div>`;
  if (s.loading) return html`${range}<${Loading} label="Loading totals…" />`;
  if (s.error) return html`${range}<${ErrorBox} error=${s.error} onRetry=${s.reload} />`;
  const d = s.data;
  const m = (v) => formatMoney(v, d.currency);
  return html`<section aria-labelledby="totals-title">
    <h2 id="totals-title" class="sr-only">Totals</h2>
    ${range}
    <p class="hint-muted">${d.from} to ${d.to}</p>
    <dl class="stats admin-stats">
      <div><dt>Gross sales</dt><dd>${m(d.gross_sales)}</dd></div>
      <div><dt>Platform revenue</dt><dd>${m(d.platform_revenue)}</dd></div>
      <div><dt>Net to creators</dt><dd>${m(d.net_to_creators)}</dd></div>
      <div><dt>Sales</dt><dd>${formatCount(d.sales_count)}</dd></div>
      <div><dt>Refunds</dt><dd>${m(d.refunds)} (${formatCount(d.refunds_count)})</dd></div>
      <div><dt>Paid out</dt><dd>${m(d.paid_out)} (${formatCount(d.payouts_count)})</dd></div>
      <div><dt>Open payout requests</dt><dd>${m(d.open_payout_requests.amount)} (${formatCount(d.open_payout_requests.count)})</dd></div>
      <div><dt>Creator balances</dt><dd>${m(d.creator_balances)}</dd></div>
    </dl>
  </section>`;
}

function Tabs({ tab }) {
  const link = (t, label) => html`<li><a href=${t === 'transactions' ? '/admin/revenue' : `/admin/revenue?tab=${t}`}
    aria-current=${tab === t ? 'page' : undefined}>${label}</a></li>`;
  return html`<nav class="subnav" aria-label="Transactions and payouts"><ul>
    ${link('transactions', 'Transactions')}${link('payouts', 'Payout requests')}
  </ul></nav>`;
}

function Transactions({ query, signal }) {
  const list = useAdminList('/api/admin/revenue/transactions', query, { params: ['status'], signal });
  const [confirm, dialog] = useConfirm();
  const act = useAction();
  const refund = async (t) => {
    if (!(await confirm({
      title: `Refund ${t.transaction_id}?`,
      body: `${formatMoney(t.total_amount, t.currency)} goes back to @${t.buyer ? t.buyer.username : 'the buyer'} through ${t.provider}; the buyer loses the models of this order and the creators' earnings are reversed.`,
      confirm: 'Refund', danger: true,
    }))) return;
    act.run(async () => {
      await api(`/api/admin/revenue/transactions/${t.id}/refund`, { method: 'POST', signal });
      list.reload();
    }, `${t.transaction_id} is refunded.`);
  };
  const columns = [
    { label: 'Transaction', cell: (t) => t.transaction_id },
    { label: 'Buyer', cell: (t) => (t.buyer ? `@${t.buyer.username}` : '') },
    { label: 'Status', cell: (t) => html`<${StatusBadge} status=${t.status} />` },
    { label: 'Amount', class: 'num', cell: (t) => formatMoney(t.total_amount, t.currency) },
    { label: 'Fee', class: 'num', cell: (t) => formatMoney(t.platform_fee, t.currency) },
    { label: 'Items', class: 'num', cell: (t) => formatCount(t.items_count) },
    { label: 'Provider', cell: (t) => `${t.provider}${t.payment_method ? ` (${t.payment_method})` : ''}` },
    { label: 'Date', cell: (t) => when(t.created_at) },
    { label: 'Actions', cell: (t) => (t.status === 'completed'
      ? html`<button type="button" class="secondary" disabled=${act.busy} onClick=${() => refund(t)}
          aria-label=${`Refund ${t.transaction_id}`}>Refund…</button>` : (t.error || '')) },
  ];
  return html`<${ListControls} query=${query} idPrefix="orders" filters=${[{ name: 'status', label: 'Status', options: ORDER_STATUSES }]} />
    <${Outcome} outcome=${act.outcome} />
    <${ListBody} list=${list} query=${query} noun="transactions">
      ${(d) => html`<${DataTable} caption="Transactions" columns=${columns} rows=${d.items} empty="No transactions here." />`}
    <//>
    ${dialog}`;
}

function Payouts({ query, signal }) {
  const list = useAdminList('/api/admin/revenue/payouts', query, { fixed: { status: query.get('status') || 'requested' }, signal });
  const [confirm, dialog] = useConfirm();
  const act = useAction();
  const approve = async (p) => {
    if (!(await confirm({
      title: `Pay ${formatMoney(p.amount, p.currency)} to @${p.creator ? p.creator.username : '?'}?`,
      body: `The money is sent to ${p.method ? p.method.label : 'their payout method'}. This happens once and cannot be undone.`,
      confirm: 'Approve and pay',
    }))) return;
    act.run(async () => {
      await api(`/api/admin/revenue/payouts/${p.id}/approve`, { method: 'POST', signal });
      list.reload();
    }, `Payout #${p.id} approved.`);
  };
  const reject = async (p) => {
    const reason = await confirm({
      title: `Reject payout #${p.id}?`, body: 'The amount goes back to the creator\'s balance; they see the reason.',
      reason: { label: 'Reason for the creator', min: 3 }, confirm: 'Reject', danger: true,
    });
    if (!reason) return;
    act.run(async () => {
      await api(`/api/admin/revenue/payouts/${p.id}/reject`, { method: 'POST', body: { reason }, signal });
      list.reload();
    }, `Payout #${p.id} rejected.`);
  };
  const columns = [
    { label: 'Request', cell: (p) => `#${p.id}` },
    { label: 'Creator', cell: (p) => (p.creator ? `@${p.creator.username}` : '') },
    { label: 'Amount', class: 'num', cell: (p) => formatMoney(p.amount, p.currency) },
    { label: 'Balance', class: 'num', cell: (p) => (p.creator_balance != null ? formatMoney(p.creator_balance, p.currency) : '') },
    { label: 'Method', class: 'wrap', cell: (p) => (p.method ? p.method.label || p.method.type : '') },
    { label: 'Status', cell: (p) => html`<${StatusBadge} status=${p.status} />${p.reason ? html`<br /><small>${p.reason}</small>` : ''}` },
    { label: 'Requested', cell: (p) => when(p.created_at) },
    { label: 'Actions', cell: (p) => (p.status === 'requested'
      ? html`<div class="row-actions">
          <button type="button" disabled=${act.busy} onClick=${() => approve(p)} aria-label=${`Approve payout ${p.id}`}>Approve…</button>
          <button type="button" class="secondary" disabled=${act.busy} onClick=${() => reject(p)} aria-label=${`Reject payout ${p.id}`}>Reject…</button>
        </div>` : when(p.decided_at)) },
  ];
  return html`<${ListControls} query=${query} idPrefix="payouts" filters=${[{ name: 'status', label: 'Status', options: PAYOUT_STATUSES }]} />
    <${Outcome} outcome=${act.outcome} />
    <${ListBody} list=${list} query=${query} noun="payout requests">
      ${(d) => html`<${DataTable} caption="Payout requests" columns=${columns} rows=${d.items} empty="No payout requests here." />`}
    <//>
    ${dialog}`;
}

export function AdminRevenuePage({ query, signal }) {
  const tab = query.get('tab') === 'payouts' ? 'payouts' : 'transactions';
  return html`<${AdminLayout} title="Revenue">
    <${Stats} query=${query} signal=${signal} />
    <${Tabs} tab=${tab} />
    ${tab === 'payouts' ? html`<${Payouts} query=${query} signal=${signal} />` : html`<${Transactions} query=${query} signal=${signal} />`}
  <//>`;
}
