// social.js: the social dashboard (/dashboard/social): the caller's
// followers (GET /api/users/me/followers) with follow-back buttons, the
// users they follow (GET /api/users/me/following) with unfollow, and their
// notifications (GET /api/users/me/notifications) with mark read
// (PUT /api/notifications/{id}/read) and mark all read
// (PUT /api/notifications/read-all).  The tab, the page and the unread
// filter live in the URL: ?tab=followers|following|notifications&page=N&unread=1.
// The notifications go through bell.js's store, so the header's count
// follows, and a new one (onNotification) reloads the first page.
import { useEffect, useState } from 'preact/hooks';
import { api } from '../api.js';
import { navigate } from '../nav.js';
import { useSession } from '../session.js';
import { FollowButton } from '../follow.js';
import { markRead, markAllRead, onNotification, timeAgo } from '../bell.js';
import { html, useLoad, formatCount, Loading, Empty, ErrorBox } from '../ui.js';
import { DashboardNav } from './dashboard.js';
import { Avatar } from './profile.js';

const PER_PAGE = 20;
const TABS = [['followers', 'Followers'], ['following', 'Following'], ['notifications', 'Notifications']];

function url(tab, page = 1, extra = '') {
  return `/dashboard/social?tab=${tab}${page > 1 ? `&page=${page}` : ''}${extra}`;
}

function Pager({ page, pages, at, label }) {
  if (pages <= 1) return null;
  return html`<nav class="pager" aria-label=${label}>
    ${page > 1 ? html`<a rel="prev" href=${at(page - 1)}>← Previous</a>` : html`<span></span>`}
    <span>Page ${page} of ${formatCount(pages)}</span>
    ${page < pages ? html`<a rel="next" href=${at(page + 1)}>Next →</a>` : html`<span></span>`}
  </nav>`;
}

function Tabs({ tab }) {
  return html`<nav class="social-tabs" aria-label="Social">
    <ul>${TABS.map(([key, label]) => html`<li key=${key}>
      <a href=${url(key)} aria-current=${key === tab ? 'page' : undefined}>${label}</a>
    </li>`)}</ul>
  </nav>`;
}

// ---- followers and following ----

function Person({ u, tab }) {
  const name = u.full_name || u.username;
  const href = `/u/${encodeURIComponent(u.username)}`;
  const when = timeAgo(u.followed_at);
  return html`<li class="person">
    <${Avatar} url=${u.avatar_url} name=${name} size=${48} />
    <span class="person-id">
      <a class="person-name" href=${href}>${name}</a>
      <span class="by">@${u.username}${u.user_type === 'creator' ? ' · Creator' : ''}</span>
      ${when && html`<span class="by">${tab === 'followers' ? `Followed you ${when}` : `Followed ${when}`}</span>`}
    </span>
    <${FollowButton} person=${u} />
  </li>`;
}

function People({ tab, page, signal }) {
  const { user } = useSession();
  const list = useLoad((sig) => api(`/api/users/me/${tab}`, { query: { page, limit: PER_PAGE }, signal: sig }), signal);
  const heading = tab === 'followers' ? 'Your followers' : 'People you follow';
  let body;
  if (list.loading) body = html`<${Loading} label=${tab === 'followers' ? 'Loading your followers…' : 'Loading who you follow…'} />`;
  else if (list.error) body = html`<${ErrorBox} error=${list.error} onRetry=${list.reload} />`;
  else if (!list.data.items.length) {
    body = tab === 'followers'
      ? html`<${Empty}>No one follows you yet.${user && html` Share <a href=${`/u/${encodeURIComponent(user.username)}`}>your profile</a>.`}<//>`
      : html`<${Empty}>You do not follow anyone yet. Find creators on the <a href="/leaderboard">leaderboard</a>.<//>`;
  } else {
    const { total, pages } = list.data;
    body = html`<p class="count">${formatCount(total)} ${tab === 'followers' ? (total === 1 ? 'follower' : 'followers') : (total === 1 ? 'person' : 'people')}</p>
      <ul class="people">${list.data.items.map((u) => html`<${Person} key=${u.id} u=${u} tab=${tab} />`)}</ul>
      <${Pager} page=${page} pages=${pages} at=${(n) => url(tab, n)} label=${`Pages of ${heading.toLowerCase()}`} />`;
  }
  return html`<section aria-labelledby="social-heading">
    <h2 id="social-heading">${heading}</h2>
    ${body}
  </section>`;
}

// ---- notifications ----

function Notification({ n, onRead }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState('');
  const read = async () => {
    setBusy(true);
    setError('');
    try { await onRead(n); } catch (e) { setError(e.message); } finally { setBusy(false); }
  };
  return html`<li class=${`notification ${n.is_read ? 'read' : 'unread'}`}>
    <span class="notification-text">
      <span class="notification-title">${!n.is_read && html`<span class="dot" aria-hidden="true"></span><span class="sr-only">Unread: </span>`}${n.action_url
        ? html`<a href=${n.action_url} onClick=${() => { if (!n.is_read) onRead(n).catch(() => {}); }}>${n.title}</a>` : n.title}</span>
      <span class="notification-message">${n.message}</span>
      <span class="by"><time datetime=${n.created_at}>${timeAgo(n.created_at)}</time></span>
      ${error && html`<span class="hint" role="alert">${error}</span>`}
    </span>
    ${!n.is_read && html`<button type="button" class="secondary" disabled=${busy} onClick=${read}
      aria-label=${`Mark read: ${n.title}`}>Mark read</button>`}
  </li>`;
}

function Notifications({ page, unreadOnly, signal }) {
  const list = useLoad((sig) => api('/api/users/me/notifications', {
    query: { page, limit: PER_PAGE, unread: unreadOnly ? 'true' : undefined }, signal: sig,
  }), signal);
  const [items, setItems] = useState(null);
  const [unread, setUnread] = useState(0);
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    if (list.data) {
      setItems(list.data.notifications);
      setUnread(list.data.unread_count);
    }
  }, [list.data]);
  // A new notification shows up on the first page without a reload.
  useEffect(() => onNotification(() => { if (page === 1) list.reload(); }), [page, list.reload]);

  const onRead = async (n) => {
    const r = await markRead(n.id);
    setItems((cur) => cur.map((x) => (x.id === n.id ? { ...x, is_read: true } : x)));
    setUnread(r.unread_count);
  };
  const onAll = async () => {
    setBusy(true);
    setError('');
    try {
      const upTo = Math.max(0, ...(items || []).map((n) => n.id));
      const r = await markAllRead(page === 1 && upTo ? upTo : undefined);
      setItems((cur) => cur.map((x) => ({ ...x, is_read: true })));
      setUnread(r.unread_count);
    } catch (e) {
      setError(e.message);
    } finally {
      setBusy(false);
    }
  };
  const onFilter = (e) => navigate(url('notifications', 1, e.target.checked ? '&unread=1' : ''));

  let body;
  if (list.loading || (list.data && !items)) body = html`<${Loading} label="Loading your notifications…" />`;
  else if (list.error) body = html`<${ErrorBox} error=${list.error} onRetry=${list.reload} />`;
  else if (!items.length) {
    body = html`<${Empty}>${unreadOnly ? 'No unread notifications.' : 'No notifications yet. Likes, comments, sales and new followers show up here.'}<//>`;
  } else {
    body = html`<ul class="notifications">${items.map((n) => html`<${Notification} key=${n.id} n=${n} onRead=${onRead} />`)}</ul>
      <${Pager} page=${page} pages=${list.data.pages} at=${(n) => url('notifications', n, unreadOnly ? '&unread=1' : '')}
        label="Pages of notifications" />`;
  }
  return html`<section aria-labelledby="social-heading">
    <h2 id="social-heading">Notifications</h2>
    <div class="notification-bar">
      <p class="count" aria-live="polite">${formatCount(unread)} unread</p>
      <div class="check">
        <input type="checkbox" id="unread-only" checked=${unreadOnly} onChange=${onFilter} />
        <label for="unread-only">Show unread only</label>
      </div>
      <button type="button" disabled=${busy || !unread} onClick=${onAll}>Mark all read</button>
    </div>
    ${error && html`<p class="hint" role="alert">${error}</p>`}
    ${body}
  </section>`;
}

export function SocialPage({ query, signal }) {
  const { user } = useSession();
  const asked = query.get('tab');
  const tab = TABS.some(([k]) => k === asked) ? asked : 'followers';
  const page = Math.max(1, parseInt(query.get('page') || '1', 10) || 1);
  if (!user) return html`<section class="page creator"><${Loading} /></section>`;
  return html`<section class="page creator social-page">
    <h1>Social</h1>
    <${DashboardNav} current="/dashboard/social" />
    <${Tabs} tab=${tab} />
    ${tab === 'notifications'
      ? html`<${Notifications} page=${page} unreadOnly=${query.get('unread') === '1'} signal=${signal} />`
      : html`<${People} tab=${tab} page=${page} signal=${signal} />`}
  </section>`;
}
