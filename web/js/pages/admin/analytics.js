// admin/analytics.js: /admin/analytics, the platform's time series
// (GET /api/admin/analytics/{overview,users,models,revenue}) over a chosen
// range and period, kept in the URL (?tab=revenue&from=&to=&period=week),
// one chart per series (chart.js) with its total.
import { useState } from 'preact/hooks';
import { api } from '../../api.js';
import { AdminLayout } from '../../admin/shell.js';
import { LineChart } from '../../chart.js';
import { html, useLoad, formatCount, formatMoney, Loading, ErrorBox, withQuery } from '../../ui.js';
import { setQuery } from '../../admin/ui.js';

const TABS = [['overview', 'Overview'], ['users', 'Users'], ['models', 'Models'], ['revenue', 'Revenue']];
const LABELS = {
  signups: 'Sign-ups', creator_signups: 'Creator sign-ups', active_users: 'Active users', uploads: 'Uploads',
  approvals: 'Approvals', rejections: 'Rejections', views: 'Views', downloads: 'Downloads', likes: 'Likes',
  sales: 'Sales', revenue: 'Revenue', fee: 'Platform fees', refunds: 'Refunds', refunded_amount: 'Refunded',
};
const MONEY = new Set(['revenue', 'fee', 'refunded_amount']);

function isoDay(d) {
  return d.toISOString().slice(0, 10);
}

function RangeForm({ query }) {
  const today = new Date();
  const [from, setFrom] = useState(query.get('from') || isoDay(new Date(today.getTime() - 29 * 86400000)));
  const [to, setTo] = useState(query.get('to') || isoDay(today));
  const [period, setPeriod] = useState(query.get('period') || 'day');
  const quick = (days, p) => {
    const start = isoDay(new Date(today.getTime() - (days - 1) * 86400000));
    setQuery(query, { from: start, to: isoDay(today), period: p });
  };
  return html`<form class="filters" onSubmit=${(e) => { e.preventDefault(); setQuery(query, { from, to, period }); }}>
    <div class="field"><label for="an-from">From</label><input id="an-from" type="date" value=${from} onInput=${(e) => setFrom(e.target.value)} /></div>
    <div class="field"><label for="an-to">To</label><input id="an-to" type="date" value=${to} onInput=${(e) => setTo(e.target.value)} /></div>
    <div class="field"><label for="an-period">By</label>
      <select id="an-period" value=${period} onChange=${(e) => setPeriod(e.target.value)}>
        <option value="day">Day</option><option value="week">Week</option><option value="month">Month</option>
      </select></div>
    <button type="submit">Show</button>
    <span class="actions">
      <button type="button" class="secondary" onClick=${() => quick(7, 'day')}>7 days</button>
      <button type="button" class="secondary" onClick=${() => quick(30, 'day')}>30 days</button>
      <button type="button" class="secondary" onClick=${() => quick(90, 'week')}>90 days</button>
      <button type="button" class="secondary" onClick=${() => quick(365, 'month')}>A year</button>
    </span>
  </form>`;
}

export function AdminAnalyticsPage({ query, signal }) {
  const tab = TABS.some(([t]) => t === query.get('tab')) ? query.get('tab') : 'overview';
  const params = {};
  for (const k of ['from', 'to', 'period']) if (query.get(k)) params[k] = query.get(k);
  const a = useLoad((sig) => api(`/api/admin/analytics/${tab}`, { query: params, signal: sig }), signal);
  let body;
  if (a.loading) body = html`<${Loading} label="Loading charts…" />`;
  else if (a.error) body = html`<${ErrorBox} error=${a.error} onRetry=${a.reload} />`;
  else {
    const d = a.data;
    const fmt = (k) => (MONEY.has(k) ? (v) => formatMoney(v, d.currency) : formatCount);
    body = html`<p class="muted">${d.from} to ${d.to}, by ${d.period}</p>
      <dl class="stats">${Object.keys(d.series).map((k) => html`<div key=${k}><dt>${LABELS[k] || k}</dt><dd>${fmt(k)(d.totals[k])}</dd></div>`)}</dl>
      <div class="charts">${Object.keys(d.series).map((k) => html`<${LineChart} key=${k} title=${LABELS[k] || k}
        format=${fmt(k)} integer=${!MONEY.has(k)} points=${d.points.map((p) => ({ date: p.date, value: p[k] }))} />`)}</div>`;
  }
  return html`<${AdminLayout} title="Analytics">
    <nav class="tabs" aria-label="Analytics">${TABS.map(([t, label]) => html`<a key=${t}
      href=${withQuery(location.pathname, query, { tab: t === 'overview' ? '' : t })} aria-current=${t === tab ? 'page' : undefined}>${label}</a>`)}</nav>
    <${RangeForm} query=${query} />
    ${body}
  </${AdminLayout}>`;
}
