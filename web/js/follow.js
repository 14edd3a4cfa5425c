// follow.js: the Follow toggle button (POST / DELETE /api/users/{id}/follow),
// shared by the profile page, the model page's creator card and the social
// dashboard.  Its accessible name is "Follow @username" ("Following
// @username" once followed) and aria-pressed says whether the caller
// follows; pressing it again unfollows.  The followers count beside it updates
// with each answer.  Signed out, it is a link to sign in; on one's own
// profile it is not shown.
import { useEffect, useState } from 'preact/hooks';
import { api, isAbort } from './api.js';
import { useSession } from './session.js';
import { html, formatCount } from './ui.js';

export function followersLabel(n) {
  return `${formatCount(n)} ${Number(n) === 1 ? 'follower' : 'followers'}`;
}

// person: {id, username, is_following?, followers_count?}.  showCount puts
// the followers count beside the button; onChange(answer) gets
// {is_following, followers_count, following_count} after each change.
export function FollowButton({ person, showCount = false, onChange }) {
  const { user, ready } = useSession();
  const [state, setState] = useState({ following: person.is_following, count: person.followers_count });
  const [busy, setBusy] = useState(false);
  const [note, setNote] = useState('');

  useEffect(() => {
    setState({ following: person.is_following, count: person.followers_count });
  }, [person.id, person.is_following, person.followers_count]);

  // A page loaded before the session was known has no is_following: ask.
  useEffect(() => {
    if (!user || user.id === person.id || state.following !== undefined) return undefined;
    const ctl = new AbortController();
    api(`/api/users/${person.id}`, { signal: ctl.signal }).then(
      (u) => setState({ following: !!u.is_following, count: u.followers_count }),
      (e) => { if (!isAbort(e)) setState((s) => ({ ...s, following: false })); });
    return () => ctl.abort();
  }, [user && user.id, person.id]);

  const count = showCount && state.count !== undefined
    && html`<span class="follow-count" aria-live="polite">${followersLabel(state.count)}</span>`;
  if (!ready) return html`<span class="follow">${count}</span>`;
  if (!user) {
    const next = encodeURIComponent(location.pathname + location.search);
    return html`<span class="follow"><a class="button secondary" href=${`/auth?next=${next}`}>Sign in to follow</a>${count}</span>`;
  }
  if (user.id === person.id) return html`<span class="follow">${count}</span>`;

  const pressed = !!state.following;
  const toggle = async () => {
    setBusy(true);
    setNote('');
    try {
      const r = await api(`/api/users/${person.id}/follow`, { method: pressed ? 'DELETE' : 'POST' });
      setState({ following: r.is_following, count: r.followers_count });
      if (onChange) onChange(r);
    } catch (e) {
      setNote(e.message || 'Could not change the follow.');
    } finally {
      setBusy(false);
    }
  };
  return html`<span class="follow">
    <button type="button" class=${`follow-button${pressed ? ' on' : ''}`} aria-pressed=${pressed ? 'true' : 'false'}
      disabled=${busy || state.following === undefined} onClick=${toggle}>
      ${pressed ? 'Following' : 'Follow'}<span class="sr-only"> @${person.username}</span>
    </button>
    ${count}
    ${note && html`<span class="follow-note" role="alert">${note}</span>`}
  </span>`;
}
