// community.js: the community hub (/community: search, categories, join
// and leave, create, the hub chat) and one community (/community/:id:
// posts with recent/popular/media filters, text, image and 3D posts with
// the model viewer, reactions, comments, share, report, members,
// join/leave and the live chat).
//
// Live updates go through subscribe(): for a signed-in user the
// community's /ws/community/{id} socket (live.js: new_post, new_comment,
// new_reaction, member_joined and chat lines), with a catch-up through
// GET /api/communities/messages?after_id= on every (re)connection; for
// visitors, and while the socket is down, that same call every 5 s.
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, upload, isAbort } from '../api.js';
import { navigate } from '../nav.js';
import { getSession, useSession } from '../session.js';
import { live } from '../live.js';
import { html, formatCount, Loading, Empty, ErrorBox } from '../ui.js';
import { Viewer, canView } from '../viewer.js';
import { Field, FormError, useSubmit } from './auth.js';
import { Avatar } from './profile.js';

export const CATEGORIES = [
  ['general', 'General'], ['modeling', 'Modeling'], ['sculpting', 'Sculpting'], ['texturing', 'Texturing'],
  ['animation', 'Animation'], ['rigging', 'Rigging'], ['game-assets', 'Game assets'],
  ['architecture', 'Architecture'], ['characters', 'Characters'], ['vehicles', 'Vehicles'],
  ['3d-printing', '3D printing'], ['showcase', 'Showcase'], ['help', 'Help'],
];
const REACTIONS = [['like', '👍', 'Like'], ['love', '❤️', 'Love'], ['laugh', '😂', 'Laugh'],
  ['wow', '😮', 'Wow'], ['sad', '😢', 'Sad'], ['fire', '🔥', 'Fire']];
const FILTERS = [['recent', 'Recent'], ['popular', 'Popular'], ['media', 'Media']];
const REPORT_REASONS = [['spam', 'Spam'], ['harassment', 'Harassment'], ['inappropriate', 'Inappropriate'],
  ['copyright', 'Copyright'], ['other', 'Other']];
const POLL_MS = 5000;
const CHAT_KEEP = 200;

const categoryName = (slug) => (CATEGORIES.find(([v]) => v === slug) || [slug, slug])[1];
const when = (iso) => (iso ? new Date(iso).toLocaleString() : '');
const nameOf = (u) => (u.full_name || u.username);

// ------------------------------------------------------------ live updates

// subscribe(communityId, onEvent, signal): community 0 is the hub chat.
// Calls onEvent({type, data}) for each event until signal aborts; the
// caller passes the id of the newest chat line it has (lastId) so that
// nothing is missed between the first load and the first poll.
function subscribe(communityId, lastId, onEvent, signal) {
  let after = lastId || 0;
  let timer = null;
  let delay = POLL_MS;
  let connected = false;
  const query = communityId ? { community_id: communityId } : {};
  const line = (m) => {
    if (!m || m.id <= after) return; // seen already (the socket and a catch-up may both bring it)
    after = m.id;
    onEvent({ type: 'message_received', data: m });
  };
  const catchUp = async () => {
    const page = await api('/api/communities/messages', { query: { ...query, after_id: after, limit: 100 }, signal });
    for (const m of page.items.slice().reverse()) line(m);
  };
  // Signed in: the channel's socket, and a catch-up on every (re)connection.
  if (getSession().user) {
    const sock = live(`/ws/community/${communityId || 0}`, (f) => {
      if (f.type === 'message_received') line(f.data);
      else onEvent(f);
    }, {
      onOpen: () => { connected = true; catchUp().catch(() => {}); },
      onDown: () => { connected = false; },
    });
    signal.addEventListener('abort', () => sock.close(), { once: true });
  }
  // The poll: for visitors, and while the socket is down.
  const tick = async () => {
    if (!connected) {
      try {
        await catchUp();
        delay = POLL_MS;
      } catch (e) {
        if (isAbort(e) || signal.aborted) return;
        delay = Math.min(delay * 2, 60000); // back off while the server is away
      }
    }
    if (!signal.aborted) timer = setTimeout(tick, delay);
  };
  timer = setTimeout(tick, delay);
  signal.addEventListener('abort', () => clearTimeout(timer), { once: true });
}

// ------------------------------------------------------------ shared bits

// Loads fn(signal) once the session is known, and again when the user or
// deps change (is_member, my_reactions depend on who asks); the page's
// signal aborts it.  {loading, data, error, reload}.
function useAsWho(fn, deps, signal) {
  const { user, ready } = useSession();
  const [s, setS] = useState({ loading: true, data: null, error: null });
  const [tick, setTick] = useState(0);
  const who = user ? user.id : 0;
  useEffect(() => {
    if (!ready) return undefined;
    const ctl = new AbortController();
    const stop = () => ctl.abort();
    signal.addEventListener('abort', stop, { once: true });
    setS((old) => ({ ...old, loading: true, error: null }));
    fn(ctl.signal).then(
      (data) => { if (!ctl.signal.aborted) setS({ loading: false, data, error: null }); },
      (error) => { if (!isAbort(error) && !ctl.signal.aborted) setS({ loading: false, data: null, error }); });
    return () => { stop(); signal.removeEventListener('abort', stop); };
  }, [ready, who, tick, ...deps]);
  return { ...s, reload: () => setTick(tick + 1) };
}

function JoinButton({ community, onChange }) {
  const { user } = useSession();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState('');
  if (!user) return html`<a class="button" href=${`/auth?next=${encodeURIComponent(`/community/${community.id}`)}`}>Sign in to join</a>`;
  if (community.member_role === 'owner') return html`<span class="comm-role">You own this community</span>`;
  if (community.status !== 'active') return null;
  const member = !!community.is_member;
  const toggle = async () => {
    setBusy(true);
    setError('');
    try {
      const r = member
        ? await api(`/api/communities/${community.id}/leave`, { method: 'DELETE' })
        : await api(`/api/communities/${community.id}/join`, { method: 'POST' });
      onChange({ ...community, is_member: r.is_member, member_role: r.is_member ? 'member' : null, members_count: r.members_count });
    } catch (e) {
      setError(e.message);
    }
    setBusy(false);
  };
  return html`<span class="comm-join">
    <button type="button" class=${member ? 'secondary' : ''} disabled=${busy} onClick=${toggle}
      aria-label=${`${member ? 'Leave' : 'Join'} ${community.name}`}>${member ? 'Leave' : 'Join'}</button>
    ${error && html`<small class="field-error" role="alert">${error}</small>`}
  </span>`;
}

// The chat of the hub (communityId 0) or of a community: the newest lines,
// live, and a form to send one.
function Chat({ communityId, title, canSend, signal, onEvent }) {
  const [lines, setLines] = useState(null);
  const [error, setError] = useState(null);
  const listRef = useRef(null);
  const query = communityId ? { community_id: communityId } : {};
  const add = (m) => setLines((old) => {
    const list = old || [];
    if (list.some((x) => x.id === m.id)) return list;
    return [...list, m].sort((a, b) => a.id - b.id).slice(-CHAT_KEEP);
  });
  useEffect(() => {
    const ctl = new AbortController();
    const stop = () => ctl.abort();
    signal.addEventListener('abort', stop, { once: true });
    api('/api/communities/messages', { query: { ...query, limit: 50 }, signal: ctl.signal }).then((page) => {
      const list = page.items.slice().reverse();
      setLines(list);
      const last = list.length ? list[list.length - 1].id : 0;
      subscribe(communityId, last, (ev) => {
        if (ev.type === 'message_received') add(ev.data);
        else if (onEvent) onEvent(ev);
      }, ctl.signal);
    }, (e) => { if (!isAbort(e)) setError(e); });
    return () => { stop(); signal.removeEventListener('abort', stop); };
  }, [communityId]);
  useEffect(() => {
    const el = listRef.current;
    if (el) el.scrollTop = el.scrollHeight;
  }, [lines && lines.length]);
  const form = useSubmit(async (data, el) => {
    const m = await api('/api/communities/messages', {
      method: 'POST', body: { content: data.get('content'), ...(communityId ? { community_id: communityId } : {}) },
    });
    add(m);
    el.reset();
  });
  const fieldId = `chat-${communityId || 'hub'}`;
  return html`<section class="comm-chat" aria-labelledby=${`${fieldId}-title`}>
    <h2 id=${`${fieldId}-title`}>${title}</h2>
    ${error ? html`<${ErrorBox} error=${error} />`
      : !lines ? html`<${Loading} label="Loading the chat…" />`
        : html`<ol class="chat-lines" ref=${listRef} aria-live="polite" aria-label=${`${title} lines`} tabindex="0">
          ${!lines.length && html`<li class="chat-empty">No messages yet. Say hello!</li>`}
          ${lines.map((m) => html`<li key=${m.id} class="chat-line">
            <span class="chat-who">${nameOf(m.user)}</span>
            <time datetime=${m.created_at} title=${when(m.created_at)}>${new Date(m.created_at).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })}</time>
            <p>${m.content}</p>
          </li>`)}
        </ol>`}
    ${canSend ? html`<form class="chat-form" onSubmit=${form.onSubmit}>
      <${Field} id=${fieldId} label="Message" name="content" required maxlength="1000" autocomplete="off"
        errors=${form.fields.content} />
      <button type="submit" disabled=${form.busy}>${form.busy ? 'Sending…' : 'Send'}</button>
      <${FormError} error=${form.error} shown=${['content']} />
    </form>` : html`<p class="muted">${communityId ? 'Join this community to chat.' : html`<a href="/auth?next=/community">Sign in</a> to chat.`}</p>`}
  </section>`;
}

// ------------------------------------------------------------ the hub

function withQuery(query, changes) {
  const q = new URLSearchParams(query);
  for (const [k, v] of Object.entries(changes)) {
    if (v === '' || v === null || v === undefined || v === false) q.delete(k);
    else q.set(k, String(v));
  }
  const s = q.toString();
  return s ? `/community?${s}` : '/community';
}

function HubFilters({ query, user }) {
  const onSubmit = (e) => {
    e.preventDefault();
    const f = new FormData(e.target);
    navigate(withQuery(query, { search: f.get('search').trim(), category: f.get('category'), sort: f.get('sort'),
      joined: f.get('joined') ? 'true' : '', page: '' }));
  };
  const onChange = (e) => { if (e.target.tagName === 'SELECT' || e.target.type === 'checkbox') e.target.form.requestSubmit(); };
  return html`<form class="filters comm-filters" role="search" onSubmit=${onSubmit} onChange=${onChange}>
    <div class="field grow">
      <label for="comm-search">Search communities</label>
      <input id="comm-search" name="search" type="search" maxlength="100" value=${query.get('search') || ''} />
    </div>
    <div class="field">
      <label for="comm-category">Category</label>
      <select id="comm-category" name="category">
        <option value="">All categories</option>
        ${CATEGORIES.map(([v, l]) => html`<option value=${v} selected=${query.get('category') === v}>${l}</option>`)}
      </select>
    </div>
    <div class="field">
      <label for="comm-sort">Sort by</label>
      <select id="comm-sort" name="sort">
        ${[['popular', 'Most members'], ['newest', 'Newest'], ['name', 'Name']].map(([v, l]) =>
          html`<option value=${v} selected=${(query.get('sort') || 'popular') === v}>${l}</option>`)}
      </select>
    </div>
    ${user && html`<div class="field check">
      <input id="comm-joined" name="joined" type="checkbox" checked=${query.get('joined') === 'true'} />
      <label for="comm-joined">Only mine</label>
    </div>`}
    <button type="submit">Search</button>
  </form>`;
}

function CommunityCard({ community: initial }) {
  const [c, setC] = useState(initial);
  return html`<li class="comm-card card">
    <div class="comm-card-head">
      <a class="comm-name" href=${`/community/${c.id}`}>${c.name}</a>
      ${c.status !== 'active' && html`<span class="comm-status">${c.status === 'pending' ? 'Waiting for review' : c.status}</span>`}
    </div>
    <p class="comm-meta"><span>${categoryName(c.category)}</span> · <span>${formatCount(c.members_count)} ${c.members_count === 1 ? 'member' : 'members'}</span> · <span>${formatCount(c.posts_count)} posts</span></p>
    ${c.description && html`<p class="comm-desc">${c.description}</p>`}
    <${JoinButton} community=${c} onChange=${setC} />
  </li>`;
}

function CreateCommunity() {
  const [open, setOpen] = useState(false);
  const form = useSubmit(async (data) => {
    const c = await api('/api/communities', {
      method: 'POST',
      body: { name: data.get('name'), description: data.get('description'), category: data.get('category'), rules: data.get('rules') },
    });
    return c;
  });
  const made = form.done;
  return html`<section class="comm-create card" aria-labelledby="comm-create-title">
    <h2 id="comm-create-title">
      <button type="button" class="link" aria-expanded=${open} aria-controls="comm-create-form" onClick=${() => setOpen(!open)}>Create a community</button>
    </h2>
    ${made && html`<div class="state notice" role="status">
      ${made.status === 'active'
        ? html`<p><a href=${`/community/${made.id}`}>${made.name}</a> is open.</p>`
        : html`<p>${made.name} was created. It will be listed once an administrator approves it; <a href=${`/community/${made.id}`}>see it now</a>.</p>`}
    </div>`}
    ${open && html`<form id="comm-create-form" onSubmit=${form.onSubmit}>
      <${Field} id="cc-name" label="Name" name="name" required minlength="3" maxlength="60" errors=${form.fields.name} />
      <${Field} id="cc-description" label="Description" as="textarea" name="description" rows="3" maxlength="1000" errors=${form.fields.description} />
      <${Field} id="cc-category" label="Community category" as="select" name="category" errors=${form.fields.category}>
        ${CATEGORIES.map(([v, l]) => html`<option value=${v}>${l}</option>`)}
      <//>
      <${Field} id="cc-rules" label="Rules" as="textarea" name="rules" rows="3" maxlength="2000" errors=${form.fields.rules}
        hint="What members agree to (optional)." />
      <${FormError} error=${form.error} wait=${form.wait} shown=${['name', 'description', 'category', 'rules']} />
      <button type="submit" disabled=${form.busy}>${form.busy ? 'Creating…' : 'Create community'}</button>
    </form>`}
  </section>`;
}

function Pager({ page, pages, href }) {
  if (pages <= 1) return null;
  return html`<nav class="pager" aria-label="Pages">
    ${page > 1 ? html`<a rel="prev" href=${href(page - 1)}>← Previous</a>` : html`<span aria-hidden="true"></span>`}
    <span>Page ${page} of ${pages}</span>
    ${page < pages ? html`<a rel="next" href=${href(page + 1)}>Next →</a>` : html`<span aria-hidden="true"></span>`}
  </nav>`;
}

export function CommunityHubPage({ query, signal }) {
  const { user } = useSession();
  const page = Math.max(1, parseInt(query.get('page') || '1', 10) || 1);
  const q = { page, limit: 20, sort: query.get('sort') || 'popular' };
  if (query.get('search')) q.search = query.get('search');
  if (query.get('category')) q.category = query.get('category');
  if (query.get('joined') === 'true' && user) q.joined = 'true';
  const list = useAsWho((sig) => api('/api/communities', { query: q, signal: sig }), [], signal);
  let body;
  if (list.loading && !list.data) body = html`<${Loading} label="Loading communities…" />`;
  else if (list.error) body = html`<${ErrorBox} error=${list.error} onRetry=${list.reload} />`;
  else if (!list.data.items.length) body = html`<${Empty}>No community matches. ${user ? 'Create the first one!' : ''}<//>`;
  else {
    body = html`<p class="count">${formatCount(list.data.total)} ${list.data.total === 1 ? 'community' : 'communities'}</p>
      <ul class="comm-list" aria-label="Communities">
        ${list.data.items.map((c) => html`<${CommunityCard} key=${c.id} community=${c} />`)}
      </ul>
      <${Pager} page=${list.data.page} pages=${list.data.pages} href=${(n) => withQuery(query, { page: n === 1 ? '' : n })} />`;
  }
  return html`<section class="page comm-hub">
    <h1>Communities</h1>
    <div class="comm-layout">
      <div class="comm-main">
        <${HubFilters} query=${query} user=${user} />
        ${body}
        ${user && html`<${CreateCommunity} />`}
      </div>
      <aside class="comm-side">
        <${Chat} communityId=${0} title="Hub chat" canSend=${!!user} signal=${signal} />
      </aside>
    </div>
  </section>`;
}

// ------------------------------------------------------------ one community

function ModelPicker({ value, onPick }) {
  const { user } = useSession();
  const [mine, setMine] = useState([]);
  const [found, setFound] = useState([]);
  const [term, setTerm] = useState('');
  useEffect(() => {
    const ctl = new AbortController();
    if (user) api('/api/users/me/models', { query: { limit: 50 }, signal: ctl.signal })
      .then((p) => setMine(p.items), () => {});
    return () => ctl.abort();
  }, [user && user.id]);
  useEffect(() => {
    if (term.trim().length < 2) { setFound([]); return undefined; }
    const ctl = new AbortController();
    const t = setTimeout(() => api('/api/models', { query: { search: term.trim(), limit: 20 }, signal: ctl.signal })
      .then((p) => setFound(p.items), () => {}), 300);
    return () => { clearTimeout(t); ctl.abort(); };
  }, [term]);
  return html`<div class="comm-model-picker">
    <div class="field">
      <label for="np-model-search">Find a public model</label>
      <input id="np-model-search" type="search" maxlength="100" value=${term} onInput=${(e) => setTerm(e.target.value)} />
    </div>
    <div class="field">
      <label for="np-model">3D model</label>
      <select id="np-model" name="model_id" value=${value} onChange=${(e) => onPick(e.target.value)}>
        <option value="">No model</option>
        ${mine.length > 0 && html`<optgroup label="Your models">
          ${mine.map((m) => html`<option value=${m.id}>${m.title}</option>`)}
        </optgroup>`}
        ${found.length > 0 && html`<optgroup label="Public models">
          ${found.map((m) => html`<option value=${m.id}>${m.title} (@${m.creator.username})</option>`)}
        </optgroup>`}
      </select>
    </div>
  </div>`;
}

function NewPost({ communityId, onPosted }) {
  const [images, setImages] = useState([]);
  const [uploading, setUploading] = useState(false);
  const [uploadError, setUploadError] = useState('');
  const [model, setModel] = useState('');
  const form = useSubmit(async (data, el) => {
    const body = { content: data.get('content') };
    if (images.length) body.image_upload_ids = images.map((i) => i.upload_id);
    if (model) body.model_id = Number(model);
    const p = await api(`/api/communities/${communityId}/posts`, { method: 'POST', body });
    el.reset();
    setImages([]);
    setModel('');
    onPosted(p);
  });
  const onFiles = async (e) => {
    const files = Array.from(e.target.files || []).slice(0, 4 - images.length);
    e.target.value = '';
    setUploadError('');
    setUploading(true);
    for (const f of files) {
      const fd = new FormData();
      fd.append('file', f);
      try {
        const r = await upload('/api/upload/image', fd);
        setImages((old) => [...old, { upload_id: r.upload_id, url: r.image_url, width: r.width, height: r.height, name: f.name }]);
      } catch (err) {
        setUploadError(err.message);
      }
    }
    setUploading(false);
  };
  const errs = form.fields;
  return html`<form class="comm-new-post card" onSubmit=${form.onSubmit} aria-labelledby="np-title">
    <h2 id="np-title">New post</h2>
    <${Field} id="np-content" label="Write a post" as="textarea" name="content" rows="3" maxlength="5000" errors=${errs.content} />
    <div class="field">
      <label for="np-images">Add images</label>
      <input id="np-images" type="file" accept="image/png,image/jpeg,image/webp" multiple disabled=${uploading || images.length >= 4}
        aria-describedby=${`np-images-hint${uploadError || errs.image_upload_ids ? ' np-images-error' : ''}`} onChange=${onFiles} />
      <small class="field-hint" id="np-images-hint">Up to 4 images (.jpg, .png, .webp, 10 MB each).${uploading ? ' Uploading…' : ''}</small>
      ${(uploadError || errs.image_upload_ids) && html`<small class="field-error" id="np-images-error">${uploadError || errs.image_upload_ids.join(' ')}</small>`}
    </div>
    ${images.length > 0 && html`<ul class="comm-thumbs" aria-label="Images to post">
      ${images.map((i) => html`<li key=${i.upload_id}>
        <img src=${i.url} alt=${i.name} width="96" height="72" loading="lazy" />
        <button type="button" class="link" aria-label=${`Remove ${i.name}`} onClick=${() => setImages(images.filter((x) => x !== i))}>Remove</button>
      </li>`)}
    </ul>`}
    <${ModelPicker} value=${model} onPick=${setModel} />
    ${errs.model_id && html`<small class="field-error" role="alert">${errs.model_id.join(' ')}</small>`}
    <${FormError} error=${form.error} wait=${form.wait} shown=${['content', 'image_upload_ids', 'model_id']} />
    <button type="submit" disabled=${form.busy || uploading}>${form.busy ? 'Posting…' : 'Post'}</button>
  </form>`;
}

function Reactions({ post, canReact, onChange }) {
  const mine = post.my_reactions || [];
  const [error, setError] = useState('');
  const toggle = async (kind) => {
    setError('');
    try {
      const on = mine.includes(kind);
      const r = on
        ? await api(`/api/posts/${post.id}/react`, { method: 'DELETE', query: { type: kind } })
        : await api(`/api/posts/${post.id}/react`, { method: 'POST', body: { type: kind } });
      onChange({ reactions: r.reactions, reactions_count: r.reactions_count, my_reactions: r.my_reactions });
    } catch (e) {
      setError(e.message);
    }
  };
  return html`<div class="comm-reactions" role="group" aria-label="Reactions">
    ${REACTIONS.map(([kind, emoji, label]) => {
      const n = (post.reactions || {})[kind] || 0;
      if (!canReact && !n) return null;
      return html`<button type="button" class="reaction" aria-pressed=${mine.includes(kind)} disabled=${!canReact}
        onClick=${() => toggle(kind)}><span aria-hidden="true">${emoji}</span> ${label}${n ? html` <span class="reaction-n">${n}</span>` : ''}</button>`;
    })}
    ${error && html`<small class="field-error" role="alert">${error}</small>`}
  </div>`;
}

function Comments({ post, canComment, onCount, fresh }) {
  const [items, setItems] = useState(null);
  const [error, setError] = useState(null);
  useEffect(() => {
    const ctl = new AbortController();
    api(`/api/posts/${post.id}/comments`, { query: { limit: 100 }, signal: ctl.signal })
      .then((p) => setItems(p.items), (e) => { if (!isAbort(e)) setError(e); });
    return () => ctl.abort();
  }, [post.id]);
  useEffect(() => { // comments pushed live
    if (fresh && items && !items.some((c) => c.id === fresh.id)) setItems([...items, fresh]);
  }, [fresh]);
  const form = useSubmit(async (data, el) => {
    const c = await api(`/api/posts/${post.id}/comments`, { method: 'POST', body: { content: data.get('content') } });
    setItems((old) => (old && old.some((x) => x.id === c.id) ? old : [...(old || []), c]));
    onCount(c.comments_count);
    el.reset();
  });
  return html`<div class="comm-comments">
    ${error ? html`<${ErrorBox} error=${error} />` : !items ? html`<${Loading} label="Loading comments…" />`
      : html`<ol class="comment-list" aria-label="Comments">
        ${!items.length && html`<li class="muted">No comments yet.</li>`}
        ${items.map((c) => html`<li key=${c.id}><span class="chat-who">${nameOf(c.author)}</span>
          <time datetime=${c.created_at}>${when(c.created_at)}</time><p>${c.content}</p></li>`)}
      </ol>`}
    ${canComment && html`<form class="comment-form" onSubmit=${form.onSubmit}>
      <${Field} id=${`cm-${post.id}`} label="Add a comment" as="textarea" name="content" rows="2" required maxlength="2000" errors=${form.fields.content} />
      <${FormError} error=${form.error} wait=${form.wait} shown=${['content']} />
      <button type="submit" disabled=${form.busy}>${form.busy ? 'Sending…' : 'Comment'}</button>
    </form>`}
  </div>`;
}

function ReportForm({ post, onDone }) {
  const form = useSubmit(async (data) => {
    const r = await api(`/api/posts/${post.id}/report`, { method: 'POST', body: { reason: data.get('reason'), details: data.get('details') } });
    onDone(r.message);
  });
  return html`<form class="comm-report" onSubmit=${form.onSubmit}>
    <${Field} id=${`rp-reason-${post.id}`} label="Reason" as="select" name="reason" errors=${form.fields.reason}>
      ${REPORT_REASONS.map(([v, l]) => html`<option value=${v}>${l}</option>`)}
    <//>
    <${Field} id=${`rp-details-${post.id}`} label="Details" as="textarea" name="details" rows="2" maxlength="1000" errors=${form.fields.details} />
    <${FormError} error=${form.error} wait=${form.wait} shown=${['reason', 'details']} />
    <button type="submit" disabled=${form.busy}>Send report</button>
  </form>`;
}

function PostModel({ post }) {
  const [show, setShow] = useState(false);
  const m = post.model;
  if (!m) return post.model_id ? html`<p class="muted">This model is not available.</p>` : null;
  return html`<div class="comm-post-model">
    ${show && canView(m) ? html`<${Viewer} model=${m} />`
      : html`<a href=${`/model/${m.id}`} class="comm-model-card">
        ${m.thumbnail_url ? html`<img src=${m.thumbnail_url} alt=${`Preview of ${m.title}`} width="320" height="240" loading="lazy" />`
          : html`<span class="thumb-missing" aria-hidden="true">3D</span>`}
        <span class="comm-model-title">${m.title}</span>
      </a>`}
    ${canView(m) && html`<button type="button" class="secondary" aria-expanded=${show} onClick=${() => setShow(!show)}>${show ? 'Hide 3D view' : 'View in 3D'}</button>`}
  </div>`;
}

function Post({ post: initial, isMember, user, live, highlight }) {
  const [post, setPost] = useState(initial);
  const [open, setOpen] = useState(!!highlight);
  const [reporting, setReporting] = useState(false);
  const [note, setNote] = useState('');
  useEffect(() => { if (live) setPost((p) => ({ ...p, ...live.patch })); }, [live]);
  const share = async () => {
    try {
      const r = await api(`/api/posts/${post.id}/share`, { method: 'POST' });
      setPost({ ...post, shares_count: r.shares_count });
      let copied = false;
      try { await navigator.clipboard.writeText(r.share_url); copied = true; } catch { copied = false; }
      setNote(copied ? `Link copied: ${r.share_url}` : `Share this link: ${r.share_url}`);
    } catch (e) {
      setNote(e.message);
    }
  };
  const a = post.author;
  return html`<article class=${`comm-post card${highlight ? ' highlight' : ''}`} id=${`post-${post.id}`} aria-labelledby=${`post-${post.id}-by`}>
    <header class="comm-post-head">
      <${Avatar} url=${a.avatar_url} name=${nameOf(a)} size=${40} />
      <span><a id=${`post-${post.id}-by`} href=${`/u/${encodeURIComponent(a.username)}`}>${nameOf(a)}</a>
        <time datetime=${post.created_at}>${when(post.created_at)}</time></span>
    </header>
    ${post.content && html`<p class="comm-post-text">${post.content}</p>`}
    ${post.images.length > 0 && html`<div class="comm-post-images">
      ${post.images.map((i) => html`<a href=${i.url} key=${i.upload_id}><img src=${i.url} alt=${`Image ${i.upload_id} by ${nameOf(a)}`}
        width=${i.width || 640} height=${i.height || 480} loading="lazy" decoding="async" /></a>`)}
    </div>`}
    <${PostModel} post=${post} />
    <${Reactions} post=${post} canReact=${isMember} onChange=${(p) => setPost({ ...post, ...p })} />
    <div class="comm-post-actions">
      <button type="button" class="link" aria-expanded=${open} onClick=${() => setOpen(!open)}>Comments (${formatCount(post.comments_count)})</button>
      ${user && html`<button type="button" class="link" onClick=${share}>Share${post.shares_count ? ` (${formatCount(post.shares_count)})` : ''}</button>`}
      ${user && user.id !== a.id && html`<button type="button" class="link" aria-expanded=${reporting} onClick=${() => setReporting(!reporting)}>Report</button>`}
    </div>
    ${note && html`<p class="comm-note" role="status">${note}</p>`}
    ${reporting && html`<${ReportForm} post=${post} onDone=${(m) => { setReporting(false); setNote(m); }} />`}
    ${open && html`<${Comments} post=${post} canComment=${isMember} fresh=${live && live.comment}
      onCount=${(n) => setPost((p) => ({ ...p, comments_count: n }))} />`}
  </article>`;
}

function Members({ communityId, version }) {
  const [page, setPage] = useState(1);
  const [state, setState] = useState({ items: [], total: 0, pages: 0, loading: true, error: null });
  useEffect(() => {
    const ctl = new AbortController();
    api(`/api/communities/${communityId}/members`, { query: { page, limit: 20 }, signal: ctl.signal }).then(
      (p) => setState((old) => ({ items: page === 1 ? p.items : [...old.items, ...p.items], total: p.total, pages: p.pages, loading: false, error: null })),
      (e) => { if (!isAbort(e)) setState((old) => ({ ...old, loading: false, error: e })); });
    return () => ctl.abort();
  }, [communityId, page, version]);
  return html`<section class="comm-members" aria-labelledby="members-title">
    <h2 id="members-title">Members <span class="muted">(${formatCount(state.total)})</span></h2>
    ${state.error && html`<${ErrorBox} error=${state.error} />`}
    <ul class="member-list">
      ${state.items.map((m) => html`<li key=${m.user.id}>
        <${Avatar} url=${m.user.avatar_url} name=${nameOf(m.user)} size=${32} />
        <a href=${`/u/${encodeURIComponent(m.user.username)}`}>${nameOf(m.user)}</a>
        ${m.role === 'owner' && html`<span class="comm-role">owner</span>`}
      </li>`)}
    </ul>
    ${state.loading ? html`<${Loading} label="Loading members…" />`
      : page < state.pages && html`<button type="button" class="secondary" onClick=${() => setPage(page + 1)}>Show more members</button>`}
  </section>`;
}

function Posts({ community, filter, user, highlight, live, newPosts, signal }) {
  const [pages, setPages] = useState(1);
  const list = useAsWho(async (sig) => {
    const got = [];
    let last = null;
    for (let page = 1; page <= pages; page++) {
      last = await api(`/api/communities/${community.id}/posts`, { query: { filter, page, limit: 20 }, signal: sig });
      got.push(...last.items);
    }
    return { items: got, pages: last.pages, total: last.total };
  }, [filter, pages], signal);
  const isMember = !!community.is_member;
  if (list.loading && !list.data) return html`<${Loading} label="Loading posts…" />`;
  if (list.error) return html`<${ErrorBox} error=${list.error} onRetry=${list.reload} />`;
  const shown = [...newPosts.filter((p) => filter !== 'media' || p.images.length || p.model_id), ...list.data.items];
  const seen = new Set();
  const posts = shown.filter((p) => (seen.has(p.id) ? false : seen.add(p.id)));
  if (!posts.length) return html`<${Empty}>${filter === 'media' ? 'No posts with images or models yet.' : 'No posts yet.'}${isMember ? ' Start the conversation!' : ''}<//>`;
  return html`<div class="comm-posts">
    ${posts.map((p) => html`<${Post} key=${p.id} post=${p} isMember=${isMember} user=${user}
      live=${live[p.id]} highlight=${highlight === p.id} />`)}
    ${pages < list.data.pages && html`<button type="button" class="secondary" disabled=${list.loading} onClick=${() => setPages(pages + 1)}>Older posts</button>`}
  </div>`;
}

export function CommunityPage({ params, query, signal }) {
  const { user } = useSession();
  const id = Number(params.id);
  const [community, setCommunity] = useState(null);
  const [filter, setFilter] = useState(() => (['recent', 'popular', 'media'].includes(query.get('filter')) ? query.get('filter') : 'recent'));
  const [newPosts, setNewPosts] = useState([]);
  const [live, setLive] = useState({});
  const [membersVersion, setMembersVersion] = useState(0);
  const load = useAsWho((sig) => api(`/api/communities/${id}`, { signal: sig }), [id], signal);
  useEffect(() => { if (load.data) { setCommunity(load.data); document.title = `${load.data.name} · HWC3D`; } }, [load.data]);
  // Events of /ws/community/{id} (new_post, new_comment, new_reaction,
  // member_joined), for when the hub delivers them through subscribe().
  const onEvent = (ev) => {
    const d = ev.data || {};
    if (ev.type === 'new_post' && d.post) setNewPosts((old) => [d.post, ...old]);
    else if (ev.type === 'new_comment') setLive((old) => ({ ...old, [d.post_id]: { patch: { comments_count: d.comments_count }, comment: d.comment } }));
    else if (ev.type === 'new_reaction') setLive((old) => ({ ...old, [d.post_id]: { patch: { reactions: d.reactions, reactions_count: d.reactions_count } } }));
    else if (ev.type === 'member_joined') {
      setCommunity((c) => (c ? { ...c, members_count: d.members_count } : c));
      setMembersVersion((v) => v + 1);
    }
  };
  const highlight = Number(query.get('post')) || 0;
  if (load.loading && !community) return html`<section class="page"><${Loading} label="Loading the community…" /></section>`;
  if (load.error) {
    return html`<section class="page narrow"><h1>${load.error.status === 404 ? 'Community not found' : 'This community could not be loaded'}</h1>
      <${ErrorBox} error=${load.error} onRetry=${load.error.status === 404 ? null : load.reload} />
      <p><a href="/community">All communities</a></p></section>`;
  }
  if (!community) return null;
  const c = community;
  const isMember = !!c.is_member;
  return html`<section class="page comm-page">
    <nav class="crumbs" aria-label="Breadcrumb"><a href="/community">Communities</a></nav>
    <header class="comm-header">
      <div class="comm-title">
        <h1>${c.name}</h1>
        <p class="comm-meta"><span>${categoryName(c.category)}</span> · <span>${formatCount(c.members_count)} ${c.members_count === 1 ? 'member' : 'members'}</span> · <span>${formatCount(c.posts_count)} posts</span>
          ${c.status !== 'active' && html` · <span class="comm-status">${c.status === 'pending' ? 'Waiting for review' : c.status}</span>`}</p>
        ${c.description && html`<p class="comm-desc">${c.description}</p>`}
      </div>
      <${JoinButton} community=${c} onChange=${(n) => { setCommunity(n); setMembersVersion((v) => v + 1); }} />
    </header>
    ${c.rules && html`<details class="comm-rules"><summary>Community rules</summary><p>${c.rules}</p></details>`}
    <div class="comm-layout">
      <div class="comm-main">
        ${isMember && html`<${NewPost} communityId=${c.id} onPosted=${(p) => { setNewPosts((old) => [p, ...old]); setCommunity({ ...c, posts_count: c.posts_count + 1 }); }} />`}
        <div class="comm-filter" role="group" aria-label="Show posts">
          ${FILTERS.map(([v, l]) => html`<button type="button" class="secondary" aria-pressed=${filter === v}
            onClick=${() => { setFilter(v); setNewPosts([]); }}>${l}</button>`)}
        </div>
        <${Posts} key=${filter} community=${c} filter=${filter} user=${user} highlight=${highlight}
          live=${live} newPosts=${newPosts} signal=${signal} />
      </div>
      <aside class="comm-side">
        ${(isMember || (user && user.role === 'admin')) && c.status === 'active'
          ? html`<${Chat} communityId=${c.id} title="Live chat" canSend=${isMember} signal=${signal} onEvent=${onEvent} />`
          : html`<section class="comm-chat"><h2>Live chat</h2><p class="muted">Join this community to chat.</p></section>`}
        <${Members} communityId=${c.id} version=${membersVersion} />
      </aside>
    </div>
  </section>`;
}
