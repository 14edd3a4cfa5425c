// dashboard.js: the signed-in user's dashboard (/dashboard).
//
// A creator sees the figures of a period against the one before it
// (GET /api/users/me/dashboard), daily charts of views, likes, sales and
// revenue with the top models (GET /api/users/me/analytics) and the latest
// sales (GET /api/users/me/sales).  The period (?range=7d|30d|90d|1y) is kept
// in the URL.  A buyer sees a summary of their purchases instead.
// DashboardNav is the sub-navigation every dashboard page may show.
import { api } from '../api.js';
import { navigate } from '../nav.js';
import { useSession } from '../session.js';
import { LineChart, formatDay } from '../chart.js';
import { html, useLoad, formatCount, formatMoney, formatPrice, Loading, Empty, ErrorBox } from '../ui.js';

export const RANGES = [['7d', 'Last 7 days'], ['30d', 'Last 30 days'], ['90d', 'Last 90 days'], ['1y', 'Last 12 months']];

const LINKS = [
  ['/dashboard', 'Overview'], ['/dashboard/inventory', 'Inventory', true],
  ['/dashboard/financials', 'Financials'], ['/dashboard/settings', 'Settings'],
  ['/dashboard/social', 'Social'],
];

export function isCreator(user) {
  return !!user && user.user_type === 'creator';
}

// The dashboard's sub-navigation; the current page is marked aria-current.
export function DashboardNav({ current }) {
  const { user } = useSession();
  const here = current || location.pathname;
  const links = LINKS.filter(([, , creatorOnly]) => !creatorOnly || isCreator(user));
  return html`<nav class="subnav" aria-label="Dashboard">
    <ul>${links.map(([href, label]) => html`<li key=${href}>
      <a href=${href} aria-current=${href === here ? 'page' : undefined}>${label}</a>
    </li>`)}</ul>
  </nav>`;
}

function formatDate(iso) {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? '' : new Intl.DateTimeFormat(undefined, { dateStyle: 'medium' }).format(d);
}

// ---- creator: totals ----

const METRICS = [
  ['views', 'Views'], ['likes', 'Likes'], ['downloads', 'Downloads'], ['sales', 'Sales'],
  ['revenue', 'Revenue', true], ['refunds', 'Refunds'], ['followers', 'New followers'], ['models', 'New models'],
];

function Change({ figure }) {
  if (figure.change_pct === null || figure.change_pct === undefined) {
    return html`<span class="change flat">${figure.value ? 'New this period' : 'No change'}</span>`;
  }
  const pct = Number(figure.change_pct);
  const cls = pct > 0 ? 'up' : pct < 0 ? 'down' : 'flat';
  const sign = pct > 0 ? '+' : '';
  return html`<span class=${`change ${cls}`}>${sign}${pct.toLocaleString(undefined, { maximumFractionDigits: 1 })}% on the previous period</span>`;
}

function Totals({ range, signal }) {
  const d = useLoad((sig) => api('/api/users/me/dashboard', { query: { range }, signal: sig }), signal);
  if (d.loading) return html`<${Loading} label="Loading your figures…" />`;
  if (d.error) return html`<${ErrorBox} error=${d.error} onRetry=${d.reload} />`;
  const { metrics, currency, period } = d.data;
  return html`<p class="count">${formatDay(period.from, { dateStyle: 'medium' })} to ${formatDay(period.to, { dateStyle: 'medium' })}</p>
    <dl class="stats totals">${METRICS.filter(([k]) => metrics[k]).map(([k, label, money]) => {
    const f = metrics[k];
    const show = (v) => (money ? formatMoney(v, currency) : formatCount(v));
    return html`<div key=${k}>
      <dt>${label}</dt>
      <dd>${show(f.value)}</dd>
      <dd class="sub"><${Change} figure=${f} /></dd>
      <dd class="sub">All time: ${show(f.total)}${k === 'models' && f.public !== undefined ? `, ${formatCount(f.public)} public` : ''}</dd>
    </div>`;
  })}</dl>`;
}

// ---- creator: charts and top models ----

const CHARTS = [['views', 'Views'], ['likes', 'Likes'], ['sales', 'Sales'], ['revenue', 'Revenue', true]];

function TopModels({ models, currency }) {
  if (!models.length) return html`<${Empty}>No model had views or sales in this period.<//>`;
  return html`<div class="table-wrap"><table class="data">
    <caption class="sr-only">Your top models in this period</caption>
    <thead><tr><th scope="col">Model</th><th scope="col">Views</th><th scope="col">Likes</th><th scope="col">Sales</th><th scope="col">Revenue</th></tr></thead>
    <tbody>${models.map((m) => html`<tr key=${m.id}>
      <th scope="row" class="name">${m.is_deleted ? m.title : html`<a href=${`/model/${m.id}`}>${m.title}</a>`}</th>
      <td>${formatCount(m.totals.views)}</td><td>${formatCount(m.totals.likes)}</td>
      <td>${formatCount(m.totals.sales)}</td><td>${formatMoney(m.totals.revenue, currency)}</td>
    </tr>`)}</tbody>
  </table></div>`;
}

function Analytics({ range, signal }) {
  const a = useLoad((sig) => api('/api/users/me/analytics', { query: { range, top: 5 }, signal: sig }), signal);
  if (a.loading) return html`<${Loading} label="Loading charts…" />`;
  if (a.error) return html`<${ErrorBox} error=${a.error} onRetry=${a.reload} />`;
  const { series, models, currency } = a.data;
  const money = (v) => formatMoney(v, currency);
  return html`<div class="charts">${CHARTS.map(([k, label, isMoney]) => html`<${LineChart} key=${k}
      title=${label} format=${isMoney ? money : formatCount} integer=${!isMoney}
      points=${series.map((p) => ({ date: p.date, value: p[k] }))} />`)}</div>
    <h2>Top models</h2>
    <${TopModels} models=${models} currency=${currency} />`;
}

function RecentSales({ signal }) {
  const s = useLoad((sig) => api('/api/users/me/sales', { query: { limit: 5 }, signal: sig }), signal);
  if (s.loading) return html`<${Loading} label="Loading sales…" />`;
  if (s.error) return html`<${ErrorBox} error=${s.error} onRetry=${s.reload} />`;
  if (!s.data.items.length) return html`<${Empty}>No sales yet. Sales of your models appear here.<//>`;
  return html`<ul class="rows">${s.data.items.map((it) => html`<li key=${it.id} class="row">
    <span class="grow name"><a href=${`/model/${it.model.id}`}>${it.model.title}</a>
      <span class="by"> bought by @${it.buyer.username}</span></span>
    <span class="price">${formatMoney(it.price, it.currency)}</span>
    <span class="by">${it.status === 'refunded' ? 'Refunded' : `You earn ${formatMoney(it.net_amount, it.currency)}`}</span>
    <span class="by">${formatDate(it.created_at)}</span>
  </li>`)}</ul>
  <p><a href="/dashboard/financials">All transactions and payouts</a></p>`;
}

function RangePicker({ range }) {
  const onChange = (e) => navigate(`/dashboard?range=${encodeURIComponent(e.target.value)}`);
  return html`<form class="filters" onSubmit=${(e) => e.preventDefault()}>
    <div class="field">
      <label for="dash-range">Period</label>
      <select id="dash-range" name="range" onChange=${onChange}>
        ${RANGES.map(([v, label]) => html`<option value=${v} selected=${v === range}>${label}</option>`)}
      </select>
    </div>
  </form>`;
}

function CreatorDashboard({ query, signal }) {
  const asked = query.get('range');
  const range = RANGES.some(([v]) => v === asked) ? asked : '30d';
  return html`<${RangePicker} range=${range} />
    <h2>Totals</h2>
    <${Totals} range=${range} signal=${signal} />
    <h2>Trends</h2>
    <${Analytics} range=${range} signal=${signal} />
    <h2>Recent sales</h2>
    <${RecentSales} signal=${signal} />
    <p class="actions"><a class="button" href="/upload">Upload a model</a> <a href="/dashboard/inventory">Manage your models</a></p>`;
}

// ---- buyer ----

function BuyerDashboard({ signal }) {
  const p = useLoad((sig) => api('/api/users/me/purchases', { query: { limit: 10 }, signal: sig }), signal);
  let body;
  if (p.loading) body = html`<${Loading} label="Loading your purchases…" />`;
  else if (p.error) body = html`<${ErrorBox} error=${p.error} onRetry=${p.reload} />`;
  else if (!p.data.items.length) body = html`<${Empty}>You have not bought any models yet. <a href="/marketplace">Browse the marketplace</a>.<//>`;
  else {
    body = html`<p class="count">${formatCount(p.data.total)} ${p.data.total === 1 ? 'purchase' : 'purchases'}</p>
      <ul class="rows">${p.data.items.map((it) => html`<li key=${it.id} class="row">
        <span class="grow name"><a href=${`/model/${it.model_id}`}>${it.title}</a></span>
        <span class="price">${formatPrice(it.price, it.currency)}</span>
        <span class="by">${formatDate(it.purchased_at)}</span>
        ${it.status === 'refunded' ? html`<span class="by">Refunded</span>`
          : it.download_url && html`<a href=${it.download_url} download aria-label=${`Download ${it.title}`}>Download</a>`}
      </li>`)}</ul>`;
  }
  return html`<h2>Your purchases</h2>
    ${body}
    <p class="note">Want to sell your own models? Switch your account to a creator account in <a href="/dashboard/settings">settings</a>.</p>`;
}

export function DashboardPage({ query, signal }) {
  const { user } = useSession();
  if (!user) return html`<section class="page creator"><${Loading} /></section>`;
  return html`<section class="page creator dashboard">
    <h1>Dashboard</h1>
    <${DashboardNav} current="/dashboard" />
    ${isCreator(user) ? html`<${CreatorDashboard} query=${query} signal=${signal} />` : html`<${BuyerDashboard} signal=${signal} />`}
  </section>`;
}
