// profile.js: a public creator profile (/u/:username) from
// GET /api/users/by-username/{username}: avatar, name, bio, skills and
// figures, and their public models, paged (GET /api/models?creator_id=).
// Avatar is shared with the leaderboard, settings and messages pages.  On
// others' profiles the Follow button (follow.js) sits under the name, its
// answer moving the followers figure, beside a "Message" link to
// /dashboard/messages?to=<id>.
import { useState } from 'preact/hooks';
import { api } from '../api.js';
import { FollowButton } from '../follow.js';
import { useSession } from '../session.js';
import { html, useLoad, formatCount, Loading, Empty, ErrorBox, ModelGrid } from '../ui.js';

const PER_PAGE = 12;

// An avatar image, or the name's initial on a coloured disc.
export function Avatar({ url, name, size = 96 }) {
  if (url) {
    return html`<img class="avatar" src=${url} alt="" width=${size} height=${size} loading="lazy" decoding="async"
      style=${{ width: `${size}px`, height: `${size}px` }} />`;
  }
  const initial = (name || '?').trim().charAt(0).toUpperCase() || '?';
  return html`<span class="avatar avatar-empty" aria-hidden="true"
    style=${{ width: `${size}px`, height: `${size}px`, fontSize: `${Math.round(size / 2.4)}px` }}>${initial}</span>`;
}

function joined(iso) {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  return new Intl.DateTimeFormat(undefined, { year: 'numeric', month: 'long' }).format(d);
}

function NoSuchCreator({ username }) {
  return html`<section class="page narrow">
    <h1>No such creator</h1>
    <p>There is no creator called <strong class="handle">@${username}</strong> on HWC3D. The name may be misspelt,
      or the account may have been deleted.</p>
    <p><a href="/leaderboard">See the top creators</a> or <a href="/marketplace">browse the marketplace</a>.</p>
  </section>`;
}

function Figures({ u }) {
  const items = [['Models', u.models_count], ['Followers', u.followers_count], ['Following', u.following_count]];
  return html`<dl class="stats profile-stats">
    ${items.map(([k, v]) => html`<div><dt>${k}</dt><dd>${formatCount(v)}</dd></div>`)}
  </dl>`;
}

function Models({ u, own, page, signal }) {
  const list = useLoad((sig) => api('/api/models', {
    query: { creator_id: u.id, page, limit: PER_PAGE, sort: 'newest' }, signal: sig,
  }), signal);
  let body;
  if (list.loading) body = html`<${Loading} label="Loading models…" />`;
  else if (list.error) body = html`<${ErrorBox} error=${list.error} onRetry=${list.reload} />`;
  else if (!list.data.items.length) {
    body = html`<${Empty}>${own ? 'You have no public models yet. ' : `@${u.username} has no public models yet.`}
      ${own && html`<a href="/upload">Upload a model</a>`}<//>`;
  } else {
    const { pages } = list.data;
    const at = (n) => `/u/${encodeURIComponent(u.username)}${n > 1 ? `?page=${n}` : ''}`;
    body = html`<${ModelGrid} models=${list.data.items} />
      ${pages > 1 && html`<nav class="pager" aria-label="Pages of models">
        ${page > 1 ? html`<a rel="prev" href=${at(page - 1)}>← Previous</a>` : html`<span></span>`}
        <span>Page ${page} of ${pages}</span>
        ${page < pages ? html`<a rel="next" href=${at(page + 1)}>Next →</a>` : html`<span></span>`}
      </nav>`}`;
  }
  return html`<section aria-labelledby="profile-models">
    <h2 id="profile-models">Models</h2>
    ${body}
  </section>`;
}

export function ProfilePage({ params, query, signal }) {
  const page = Math.max(1, parseInt(query.get('page') || '1', 10) || 1);
  const { user } = useSession();
  const p = useLoad((sig) => api(`/api/users/by-username/${encodeURIComponent(params.username)}`, { signal: sig }), signal);
  if (p.loading) return html`<section class="page"><${Loading} label="Loading profile…" /></section>`;
  if (p.error) {
    if (p.error.status === 404) return html`<${NoSuchCreator} username=${params.username} />`;
    return html`<section class="page narrow">
      <h1>Could not load this profile</h1>
      <${ErrorBox} error=${p.error} onRetry=${p.reload} />
    </section>`;
  }
  return html`<${Profile} u=${p.data} user=${user} page=${page} signal=${signal} />`;
}

function Profile({ u: loaded, user, page, signal }) {
  const [counts, setCounts] = useState(null);
  const u = counts ? { ...loaded, ...counts } : loaded;
  const name = u.full_name || u.username;
  const own = user && user.id === u.id;
  document.title = `${name} (@${u.username}) · HWC3D`;
  const since = joined(u.created_at);
  return html`<article class="page profile">
    <header class="profile-head">
      <${Avatar} url=${u.avatar_url} name=${name} size=${112} />
      <div class="profile-id">
        <h1>${name}${u.is_verified && html` <span class="verified" title="Verified creator"><span aria-hidden="true">✔</span><span class="sr-only">Verified creator</span></span>`}</h1>
        <p class="handle">@${u.username}</p>
        <p class="meta">
          <span class="tag">${u.user_type === 'creator' ? 'Creator' : 'Member'}</span>
          ${u.country && html`<span>${u.country}</span>`}
          ${since && html`<span>Joined ${since}</span>`}
        </p>
        ${own && html`<p><a href="/dashboard/settings">Edit your profile</a></p>`}
        ${!own && html`<p class="profile-follow"><${FollowButton} person=${loaded}
          onChange=${(r) => setCounts({ followers_count: r.followers_count, is_following: r.is_following })} /></p>`}
        ${!own && html`<p class="profile-actions"><a class="button" href=${`/dashboard/messages?to=${u.id}`}>Message</a></p>`}
      </div>
    </header>
    ${u.bio ? html`<p class="description bio">${u.bio}</p>` : html`<p class="muted">No bio yet.</p>`}
    ${u.skills && u.skills.length > 0 && html`<ul class="chips" aria-label="Skills">
      ${u.skills.map((s) => html`<li>${s}</li>`)}
    </ul>`}
    <${Figures} u=${u} />
    <${Models} u=${u} own=${own} page=${page} signal=${signal} />
  </article>`;
}
