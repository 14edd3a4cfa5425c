// leaderboard.js: creators ranked by sales, downloads or rating over a
// week, a month or all time (GET /api/leaderboard), paged; the choices are
// kept in the URL query.
import { api } from '../api.js';
import { navigate } from '../nav.js';
import { html, useLoad, formatCount, withQuery, LinkPager, Loading, Empty, ErrorBox } from '../ui.js';
import { Avatar } from './profile.js';

const PERIODS = [['week', 'This week'], ['month', 'This month'], ['all_time', 'All time']];
const METRICS = [['sales', 'Sales'], ['downloads', 'Downloads'], ['rating', 'Rating']];
const LIMIT = 25;

function pick(list, value, fallback) {
  return list.some(([v]) => v === value) ? value : fallback;
}

function formatValue(metric, value) {
  if (metric === 'rating') {
    return new Intl.NumberFormat(undefined, { minimumFractionDigits: 1, maximumFractionDigits: 2 }).format(Number(value) || 0);
  }
  return formatCount(value);
}

function Choices({ query, period, metric }) {
  const onChange = (e) => navigate(withQuery('/leaderboard', query, { [e.target.name]: e.target.value, page: '' }));
  return html`<form class="filters" onSubmit=${(e) => e.preventDefault()}>
    <div class="field">
      <label for="lb-period">Period</label>
      <select id="lb-period" name="period" onChange=${onChange}>
        ${PERIODS.map(([v, label]) => html`<option value=${v} selected=${v === period}>${label}</option>`)}
      </select>
    </div>
    <div class="field">
      <label for="lb-metric">Ranked by</label>
      <select id="lb-metric" name="metric" onChange=${onChange}>
        ${METRICS.map(([v, label]) => html`<option value=${v} selected=${v === metric}>${label}</option>`)}
      </select>
    </div>
  </form>`;
}

function Row({ item, metric }) {
  const u = item.user;
  const name = u.full_name || u.username;
  return html`<li class=${`lb-row${item.rank <= 3 ? ` top top-${item.rank}` : ''}`}>
    <span class="lb-rank"><span class="sr-only">Rank </span>${item.rank}</span>
    <${Avatar} url=${u.avatar_url} name=${name} size=${48} />
    <span class="lb-who">
      <a href=${`/u/${encodeURIComponent(u.username)}`}>${name}</a>
      ${u.is_verified && html`<span class="verified" title="Verified creator"><span aria-hidden="true">✔</span><span class="sr-only">Verified creator</span></span>`}
      <span class="handle">@${u.username}</span>
    </span>
    <span class="lb-figures">
      <span class="lb-value"><strong>${formatValue(metric, item.value)}</strong>
        ${' '}${metric === 'rating' ? 'average rating' : metric}</span>
      <span class="lb-models">${formatCount(item.models_count)} ${item.models_count === 1 ? 'model' : 'models'}</span>
    </span>
  </li>`;
}

function emptyText(period, metric) {
  const when = { week: ' this week', month: ' this month', all_time: '' }[period];
  if (metric === 'rating') return 'No creator has rated models yet.';
  return `No creator has ${metric === 'sales' ? 'made a sale' : 'had a download'}${when} yet.`;
}

export function LeaderboardPage({ query, signal }) {
  const period = pick(PERIODS, query.get('period'), 'all_time');
  const metric = pick(METRICS, query.get('metric'), 'sales');
  const page = Math.max(1, parseInt(query.get('page') || '1', 10) || 1);
  const list = useLoad((sig) => api('/api/leaderboard', { query: { period, metric, page, limit: LIMIT }, signal: sig }), signal);
  let body;
  if (list.loading) body = html`<${Loading} label="Loading the leaderboard…" />`;
  else if (list.error) body = html`<${ErrorBox} error=${list.error} onRetry=${list.reload} />`;
  else if (!list.data.items.length) {
    body = html`<${Empty}>${emptyText(period, metric)} <a href="/marketplace">Browse the marketplace</a>.<//>`;
  } else {
    const label = `${METRICS.find(([v]) => v === metric)[1]}, ${PERIODS.find(([v]) => v === period)[1].toLowerCase()}`;
    body = html`<p class="count">${formatCount(list.data.total)} ranked ${list.data.total === 1 ? 'creator' : 'creators'}</p>
      <ol class="leaderboard" aria-label=${`Creators by ${label}`}>
        ${list.data.items.map((item) => html`<${Row} key=${item.user.id} item=${item} metric=${metric} />`)}
      </ol>
      <${LinkPager} page=${list.data.page} pages=${list.data.pages}
        href=${(n) => withQuery('/leaderboard', query, { page: n === 1 ? '' : n })} />`;
  }
  return html`<section class="page leaderboard-page">
    <h1>Creator leaderboard</h1>
    <${Choices} query=${query} period=${period} metric=${metric} />
    ${body}
  </section>`;
}
