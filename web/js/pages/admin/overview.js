// admin/overview.js: /admin, the console's first page: the platform's
// figures (GET /api/admin/stats), what waits for an operator
// (GET /api/admin/alerts, each item a link into the console) and the
// audit log (GET /api/admin/recent-activity, filtered by action, paged in
// the URL: ?action=user.&page=2).
import { api } from '../../api.js';
import { AdminLayout } from '../../admin/shell.js';
import { html, useLoad, formatCount, formatMoney, Loading, Empty, ErrorBox, LinkPager, withQuery } from '../../ui.js';
import { DataTable, when, setQuery } from '../../admin/ui.js';

function Figures({ s }) {
  const rows = [
    ['Users', formatCount(s.users.total), `${formatCount(s.users.creators)} creators · ${formatCount(s.users.new_this_month)} new this month`],
    ['Banned users', formatCount(s.users.banned), `${formatCount(s.users.unverified)} unverified`],
    ['Models', formatCount(s.models.total), `${formatCount(s.models.published)} live · ${formatCount(s.models.pending)} pending`],
    ['Sales', formatCount(s.sales.count), `${formatCount(s.sales.this_month.count)} this month`],
    ['Revenue', formatMoney(s.sales.revenue, s.sales.currency), `${formatMoney(s.sales.this_month.revenue, s.sales.currency)} this month`],
    ['Platform fees', formatMoney(s.sales.platform_fees, s.sales.currency), `${formatMoney(s.sales.this_month.platform_fees, s.sales.currency)} this month`],
    ['Open tickets', formatCount(s.support.open_tickets), `${formatCount(s.support.unassigned_tickets)} unassigned`],
    ['Pending payouts', formatCount(s.payouts.pending_count), formatMoney(s.payouts.pending_amount)],
    ['Communities', formatCount(s.communities.total), `${formatCount(s.communities.pending)} pending · ${formatCount(s.communities.open_reports)} open reports`],
  ];
  return html`<dl class="stats">${rows.map(([k, v, sub]) => html`<div key=${k}><dt>${k}</dt><dd>${v}</dd><dd class="sub">${sub}</dd></div>`)}</dl>`;
}

function Alerts({ signal }) {
  const a = useLoad((sig) => api('/api/admin/alerts', { signal: sig }), signal);
  if (a.loading) return html`<${Loading} label="Loading alerts…" />`;
  if (a.error) return html`<${ErrorBox} error=${a.error} onRetry=${a.reload} />`;
  if (!a.data.alerts.length) return html`<${Empty}>Nothing waits for you.</${Empty}>`;
  return html`<ul class="rows">${a.data.alerts.map((al) => html`<li class="row" key=${al.type}>
    <div class="grow">
      <h3><a href=${al.link}>${al.title}</a> <span class=${`badge ${al.severity}`}>${formatCount(al.count)}</span></h3>
      <ul>${al.items.map((it) => html`<li key=${it.id}><a href=${it.link}>${it.title || `#${it.id}`}</a> <span class="muted">${when(it.created_at, '—')}</span></li>`)}</ul>
    </div>
  </li>`)}</ul>`;
}

const ACTIONS = [['', 'Everything'], ['user.', 'Users'], ['model.', 'Models'], ['order.', 'Orders'], ['payout.', 'Payouts'],
  ['settings.', 'Settings'], ['email', 'Emails'], ['community.', 'Communities'], ['ticket.', 'Support']];

const ACTIVITY_COLUMNS = [
  { label: 'When', cell: (x) => when(x.created_at, '—') },
  { label: 'Who', cell: (x) => (x.actor
    ? html`<a href=${`/admin/users?view=${x.actor.id}`}>${x.actor.username || `#${x.actor.id}`}</a>` : 'system') },
  { label: 'Action', cell: (x) => html`<code>${x.action}</code>` },
  { label: 'Target', cell: (x) => (x.target_type ? `${x.target_type} #${x.target_id ?? ''}` : '—') },
  { label: 'Details', class: 'muted',
    cell: (x) => Object.entries(x.detail || {}).slice(0, 4).map(([k, v]) => `${k}: ${typeof v === 'object' ? JSON.stringify(v) : v}`).join(' · ') },
];

function Activity({ query, signal }) {
  const page = Number(query.get('page')) || 1;
  const action = query.get('action') || '';
  const act = useLoad((sig) => api('/api/admin/recent-activity', { query: { page, limit: 20, action }, signal: sig }), signal);
  return html`<div class="filters">
      <div class="field"><label for="act-filter">Show</label>
        <select id="act-filter" value=${action} onChange=${(e) => setQuery(query, { action: e.target.value })}>
          ${ACTIONS.map(([v, l]) => html`<option value=${v} key=${v}>${l}</option>`)}
        </select></div>
    </div>
    ${act.loading ? html`<${Loading} />` : act.error ? html`<${ErrorBox} error=${act.error} onRetry=${act.reload} />`
      : !act.data.items.length ? html`<${Empty}>No activity yet.</${Empty}>`
      : html`<${DataTable} caption="Recent activity" columns=${ACTIVITY_COLUMNS} rows=${act.data.items} />
      <${LinkPager} page=${act.data.page} pages=${act.data.pages} label="Activity pages"
        href=${(n) => withQuery(location.pathname, query, { page: n })} />`}`;
}

export function AdminOverviewPage({ query, signal }) {
  const stats = useLoad((sig) => api('/api/admin/stats', { signal: sig }), signal);
  return html`<${AdminLayout} title="Overview">
    <section class="panel" aria-labelledby="ov-stats"><h2 id="ov-stats">The platform</h2>
      ${stats.loading ? html`<${Loading} />` : stats.error ? html`<${ErrorBox} error=${stats.error} onRetry=${stats.reload} />`
        : html`<${Figures} s=${stats.data} />`}
    </section>
    <section class="panel" aria-labelledby="ov-alerts"><h2 id="ov-alerts">Needs attention</h2>
      <${Alerts} signal=${signal} />
    </section>
    <section class="panel" aria-labelledby="ov-act"><h2 id="ov-act">Recent activity</h2>
      <${Activity} query=${query} signal=${signal} />
    </section>
  </${AdminLayout}>`;
}
