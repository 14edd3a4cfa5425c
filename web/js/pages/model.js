// model.js: a model's page (/model/:id): the 3D viewer, details and specs,
// like, share, add to cart, buy now or download, the creator's card (with
// the Follow button of follow.js), comments and related models.  The like
// and share buttons are shared with the public viewer page (view.js).
import { useEffect, useState } from 'preact/hooks';
import { api, isAbort } from '../api.js';
import { navigate, here } from '../nav.js';
import { useSession, setCartCount } from '../session.js';
import { Viewer, canView } from '../viewer.js';
import { FollowButton } from '../follow.js';
import { QualityBadge, SpecSheet, ConversionNote } from '../specs.js';
import { RenderTools } from '../render-tools.js';
import {
  html, formatPrice, formatCount, Loading, Empty, ErrorBox, ModelGrid,
} from '../ui.js';

const COMMENTS_PER_PAGE = 10;

function yesNo(v) {
  return v ? 'Yes' : 'No';
}

// "1 view", "1,204 views".
export function counted(n, word) {
  return `${formatCount(n)} ${Number(n) === 1 ? word : `${word}s`}`;
}

function formatBytes(n) {
  if (!n) return '—';
  if (n < 1024 * 1024) return `${Math.max(1, Math.round(n / 1024))} KB`;
  return `${(n / 1048576).toFixed(1)} MB`;
}

function formatDate(iso) {
  try {
    return new Intl.DateTimeFormat(undefined, { dateStyle: 'medium' }).format(new Date(iso));
  } catch {
    return iso;
  }
}

function toSignIn() {
  navigate(`/auth?next=${encodeURIComponent(here())}`);
}

// The first field error of an ApiError (field), else its detail.
function problem(err, field) {
  const f = err.field_errors && err.field_errors[field];
  return (f && f[0]) || err.message;
}

// Loads path once the session is known, and again when the user changes
// (is_liked, is_purchased and private fields depend on who asks).
export function useModel(path, signal) {
  const { user, ready } = useSession();
  const [s, setS] = useState({ loading: true, data: null, error: null });
  const [tick, setTick] = useState(0);
  const who = user ? user.id : 0;
  useEffect(() => {
    if (!ready) return;
    setS((old) => ({ ...old, loading: !old.data, error: null }));
    api(path, { signal }).then(
      (data) => { if (!signal.aborted) setS({ loading: false, data, error: null }); },
      (error) => { if (!isAbort(error) && !signal.aborted) setS({ loading: false, data: null, error }); });
  }, [ready, who, tick]);
  return { ...s, reload: () => setTick(tick + 1) };
}

export function NotFound({ error, onRetry }) {
  return html`<section class="page narrow">
    <h1>${error.status === 404 || error.status === 422 ? 'Model not found' : 'Could not load this model'}</h1>
    <${ErrorBox} error=${error} onRetry=${error.status >= 500 || !error.status ? onRetry : null} />
    <p><a href="/marketplace">Back to the marketplace</a></p>
  </section>`;
}

export function LikeButton({ model }) {
  const { user } = useSession();
  const [liked, setLiked] = useState(!!model.is_liked);
  const [count, setCount] = useState(model.likes_count || 0);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  useEffect(() => {
    setLiked(!!model.is_liked);
    setCount(model.likes_count || 0);
  }, [model]);
  const toggle = async () => {
    if (!user) {
      toSignIn();
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const r = await api(`/api/models/${model.id}/like`, { method: liked ? 'DELETE' : 'POST' });
      setLiked(r.is_liked);
      setCount(r.likes_count);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  return html`<span class="like">
    <button type="button" class=${`secondary${liked ? ' on' : ''}`} aria-pressed=${liked ? 'true' : 'false'}
      disabled=${busy} onClick=${toggle}><span aria-hidden="true">${liked ? '♥' : '♡'}</span> Like</button>
    <span class="like-count">${counted(count, 'like')}</span>
    ${error && html`<span class="inline-error" role="alert">${error.message}</span>`}
  </span>`;
}

export function ShareButton({ model }) {
  const [msg, setMsg] = useState('');
  const [link, setLink] = useState('');
  const [busy, setBusy] = useState(false);
  const share = async () => {
    setBusy(true);
    setMsg('');
    let url;
    try {
      url = (await api(`/api/models/${model.id}/share`, { method: 'POST' })).share_url;
    } catch (e) {
      setMsg(e.message);
      setBusy(false);
      return;
    }
    setBusy(false);
    if (navigator.share) {
      try {
        await navigator.share({ title: model.title, url });
        setMsg('Shared.');
        return;
      } catch (e) {
        if (e && e.name === 'AbortError') return;
      }
    }
    try {
      await navigator.clipboard.writeText(url);
      setLink('');
      setMsg('Link copied to the clipboard.');
    } catch {
      setLink(url);
      setMsg('Copy this link to share the model:');
    }
  };
  return html`<span class="share">
    <button type="button" class="secondary" disabled=${busy} onClick=${share}>Share</button>
    <span class="share-msg" role="status" aria-live="polite">${msg}</span>
    ${link && html`<span class="share-link">
      <label for="share-link" class="sr-only">Share link</label>
      <input id="share-link" type="url" readonly value=${link} onFocus=${(e) => e.target.select()} />
    </span>`}
  </span>`;
}

function DownloadButton({ model, label = 'Download' }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const go = async () => {
    setBusy(true);
    setError(null);
    try {
      const r = await api(`/api/models/${model.id}/download`);
      location.assign(r.download_url);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  return html`<button type="button" disabled=${busy} onClick=${go}>${busy ? 'Preparing…' : label}</button>
    ${error && html`<p class="inline-error" role="alert">${error.message}</p>`}`;
}

function BuyButtons({ model }) {
  const [state, setState] = useState({ busy: '', msg: '', error: null, inCart: false });
  const add = async () => {
    const cart = await api('/api/cart', { method: 'POST', body: { model_id: model.id } });
    setCartCount(cart.count !== undefined ? cart.count : (cart.items || []).length);
  };
  const run = async (which) => {
    setState({ busy: which, msg: '', error: null, inCart: state.inCart });
    try {
      await add();
      if (which === 'buy') {
        navigate('/checkout');
        return;
      }
      setState({ busy: '', msg: 'Added to your cart.', error: null, inCart: true });
    } catch (e) {
      const msg = e.status === 409 ? 'You already own this model.' : problem(e, 'model_id');
      setState({ busy: '', msg: '', error: msg, inCart: false });
    }
  };
  return html`<div class="buy">
    <button type="button" class="secondary" disabled=${!!state.busy} onClick=${() => run('cart')}>
      ${state.busy === 'cart' ? 'Adding…' : 'Add to cart'}</button>
    <button type="button" disabled=${!!state.busy} onClick=${() => run('buy')}>
      ${state.busy === 'buy' ? 'Adding…' : 'Buy now'}</button>
    <p class="buy-msg" role="status" aria-live="polite">
      ${state.msg}${state.inCart && html` <a href="/cart">View cart</a>`}
    </p>
    ${state.error && html`<p class="inline-error" role="alert">${state.error}</p>`}
  </div>`;
}

function OwnerBox({ model }) {
  const status = model.status === 'approved' ? (model.is_published ? 'Published' : 'Unpublished')
    : model.status === 'pending' ? 'Pending review' : model.status === 'rejected' ? 'Rejected' : model.status;
  return html`<div class="owner-box" role="note">
    <p><strong>This is your model.</strong> Status: ${status}.</p>
    ${model.status === 'rejected' && model.rejection_reason && html`<p>Reason: ${model.rejection_reason}</p>`}
    <${ConversionNote} model=${model} />
    <p class="owner-actions"><a class="button" href="/dashboard/inventory">Edit in your inventory</a>
      <${DownloadButton} model=${model} label="Download your file" /></p>
  </div>`;
}

function Actions({ model }) {
  const { user } = useSession();
  const mine = user && model.creator && user.id === model.creator.id;
  let buying;
  if (mine) buying = html`<${OwnerBox} model=${model} />`;
  else if (model.is_purchased) {
    buying = html`<div class="buy"><p class="owned">You own this model.</p><${DownloadButton} model=${model} /></div>`;
  } else if (model.is_free) {
    buying = user
      ? html`<div class="buy"><${DownloadButton} model=${model} label="Download for free" /></div>`
      : html`<div class="buy"><button type="button" onClick=${toSignIn}>Sign in to download</button></div>`;
  } else if (!user) {
    buying = html`<div class="buy">
      <button type="button" class="secondary" onClick=${toSignIn}>Add to cart</button>
      <button type="button" onClick=${toSignIn}>Buy now</button>
    </div>`;
  } else buying = html`<${BuyButtons} model=${model} />`;
  return html`<div class="actions">
    ${buying}
    <div class="social"><${LikeButton} model=${model} /><${ShareButton} model=${model} /></div>
  </div>`;
}

function Avatar({ user, size = 48 }) {
  const name = user.full_name || user.username || '?';
  if (user.avatar_url) {
    return html`<img class="avatar" src=${user.avatar_url} alt="" width=${size} height=${size} loading="lazy" decoding="async" />`;
  }
  return html`<span class="avatar initial" aria-hidden="true" style=${{ width: `${size}px`, height: `${size}px` }}>${name[0].toUpperCase()}</span>`;
}

function CreatorCard({ model, signal }) {
  const [c, setC] = useState({ data: model.creator, error: null, loading: true });
  useEffect(() => {
    api(`/api/models/${model.id}/creator`, { signal }).then(
      (data) => { if (!signal.aborted) setC({ data, error: null, loading: false }); },
      (error) => { if (!isAbort(error) && !signal.aborted) setC({ data: model.creator, error, loading: false }); });
  }, [model.id]);
  const u = c.data;
  if (!u) return null;
  const href = `/u/${encodeURIComponent(u.username)}`;
  return html`<section class="creator-card" aria-labelledby="creator-heading">
    <h2 id="creator-heading">Creator</h2>
    <div class="creator-head">
      <${Avatar} user=${u} />
      <div class="creator-names">
        <a href=${href} class="creator-name">${u.full_name || u.username}</a>
        <span class="by">@${u.username}${u.is_verified ? ' · Verified' : ''}</span>
      </div>
    </div>
    ${u.bio && html`<p class="creator-bio">${u.bio}</p>`}
    ${u.models_count !== undefined && html`<p class="figures">${formatCount(u.models_count)} models</p>`}
    ${c.loading ? html`<${Loading} label="Loading the creator…" />` : html`<p class="creator-follow"><${FollowButton} person=${u} showCount /></p>`}
    <p><a href=${href}>View ${u.username}'s profile</a></p>
  </section>`;
}

function Comment({ c, canDelete, onDelete }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const del = async () => {
    setBusy(true);
    setError(null);
    try {
      await onDelete(c);
    } catch (e) {
      setError(e);
      setBusy(false);
    }
  };
  return html`<li class="comment">
    <${Avatar} user=${c.user} size=${36} />
    <div class="comment-body">
      <p class="comment-head">
        <a href=${`/u/${encodeURIComponent(c.user.username)}`}>${c.user.full_name || c.user.username}</a>
        <time datetime=${c.created_at}>${formatDate(c.created_at)}</time>
      </p>
      <p class="comment-text">${c.body}</p>
      ${canDelete && html`<button type="button" class="link" disabled=${busy} onClick=${del}
        aria-label=${`Delete comment by ${c.user.username}`}>Delete</button>`}
      ${error && html`<p class="inline-error" role="alert">${error.message}</p>`}
    </div>
  </li>`;
}

function CommentForm({ model, onPosted }) {
  const [text, setText] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const submit = async (e) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const c = await api(`/api/models/${model.id}/comments`, { method: 'POST', body: { body: text } });
      setText('');
      onPosted(c);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  const fieldErr = error && error.field_errors && error.field_errors.body;
  return html`<form class="comment-form" onSubmit=${submit} noValidate>
    <label for="comment-body">Add a comment</label>
    <textarea id="comment-body" name="body" rows="3" maxlength="2000" required value=${text}
      aria-invalid=${fieldErr ? 'true' : undefined} aria-describedby=${fieldErr ? 'comment-body-error' : undefined}
      onInput=${(e) => setText(e.target.value)}></textarea>
    ${fieldErr && html`<p id="comment-body-error" class="field-error">${fieldErr[0]}</p>`}
    ${error && !fieldErr && html`<p class="inline-error" role="alert">${error.message}</p>`}
    <button type="submit" disabled=${busy || !text.trim()}>${busy ? 'Posting…' : 'Post comment'}</button>
  </form>`;
}

function Comments({ model, signal }) {
  const { user } = useSession();
  const [s, setS] = useState({ items: [], total: 0, page: 0, pages: 0, loading: true, error: null });
  const load = (page) => {
    setS((o) => ({ ...o, loading: true, error: null }));
    api(`/api/models/${model.id}/comments`, { query: { page, limit: COMMENTS_PER_PAGE }, signal }).then(
      (r) => {
        if (signal.aborted) return;
        setS((o) => ({
          items: page === 1 ? r.items : o.items.concat(r.items.filter((c) => !o.items.some((x) => x.id === c.id))),
          total: r.total, page: r.page, pages: r.pages, loading: false, error: null,
        }));
      },
      (error) => { if (!isAbort(error) && !signal.aborted) setS((o) => ({ ...o, loading: false, error })); });
  };
  useEffect(() => load(1), [model.id]);
  const posted = (c) => setS((o) => ({ ...o, items: [c, ...o.items], total: o.total + 1 }));
  const remove = async (c) => {
    await api(`/api/models/${model.id}/comments/${c.id}`, { method: 'DELETE' });
    setS((o) => ({ ...o, items: o.items.filter((x) => x.id !== c.id), total: Math.max(0, o.total - 1) }));
  };
  const mayDelete = (c) => user && (user.id === c.user.id || user.id === model.creator.id || user.role === 'admin');
  let list;
  if (s.error && !s.items.length) list = html`<${ErrorBox} error=${s.error} onRetry=${() => load(1)} />`;
  else if (s.loading && !s.items.length) list = html`<${Loading} label="Loading comments…" />`;
  else if (!s.items.length) list = html`<${Empty}>No comments yet.${user ? ' Be the first to comment.' : ''}<//>`;
  else {
    list = html`<ul class="comments">${s.items.map((c) => html`<${Comment} key=${c.id} c=${c}
      canDelete=${mayDelete(c)} onDelete=${remove} />`)}</ul>
      ${s.error && html`<${ErrorBox} error=${s.error} onRetry=${() => load(s.page + 1)} />`}
      ${s.page < s.pages && !s.error && html`<button type="button" class="secondary" disabled=${s.loading}
        onClick=${() => load(s.page + 1)}>${s.loading ? 'Loading…' : 'Load more comments'}</button>`}`;
  }
  return html`<section class="comments-section" aria-labelledby="comments-heading">
    <h2 id="comments-heading">Comments${s.total ? ` (${formatCount(s.total)})` : ''}</h2>
    ${user ? html`<${CommentForm} model=${model} onPosted=${posted} />`
      : html`<p><a href=${`/auth?next=${encodeURIComponent(here())}`}>Sign in to comment</a></p>`}
    ${list}
  </section>`;
}

function Related({ model, signal }) {
  const [s, setS] = useState({ loading: true, data: null, error: null });
  const [tick, setTick] = useState(0);
  useEffect(() => {
    setS({ loading: true, data: null, error: null });
    api(`/api/models/${model.id}/related`, { query: { limit: 4 }, signal }).then(
      (data) => { if (!signal.aborted) setS({ loading: false, data, error: null }); },
      (error) => { if (!isAbort(error) && !signal.aborted) setS({ loading: false, data: null, error }); });
  }, [model.id, tick]);
  let body;
  if (s.loading) body = html`<${Loading} label="Loading related models…" />`;
  else if (s.error) body = html`<${ErrorBox} error=${s.error} onRetry=${() => setTick(tick + 1)} />`;
  else if (!s.data.items.length) body = html`<${Empty}>No related models yet. <a href="/marketplace">Browse the marketplace</a>.<//>`;
  else body = html`<${ModelGrid} models=${s.data.items} />`;
  return html`<section class="related" aria-labelledby="related-heading">
    <h2 id="related-heading">Related models</h2>
    ${body}
  </section>`;
}

function Specs({ model: d }) {
  const specs = [
    ['Polygons', formatCount(d.poly_count)], ['Vertices', formatCount(d.vertex_count)],
    ['Format', d.file_format || '—'], ['File size', formatBytes(d.file_size)],
    ['Animated', yesNo(d.has_animations)], ['Rigged', yesNo(d.has_rigging)],
    ['Textures', yesNo(d.has_textures)], ['Category', d.category ? d.category.name : '—'],
    ['Licence', d.license || '—'], ['Published', d.created_at ? formatDate(d.created_at) : '—'],
  ];
  return html`<h2>Specifications</h2>
    <dl class="specs">${specs.map(([k, v]) => html`<div><dt>${k}</dt><dd>${v}</dd></div>`)}</dl>`;
}

export function ModelPage({ params, signal }) {
  const m = useModel(`/api/models/${encodeURIComponent(params.id)}`, signal);
  const id = m.data && m.data.id;
  useEffect(() => {
    if (id) api(`/api/models/${id}/view`, { method: 'POST', signal }).catch(() => {});
  }, [id]);
  if (m.loading) return html`<section class="page"><${Loading} label="Loading model…" /></section>`;
  if (m.error) return html`<${NotFound} error=${m.error} onRetry=${m.reload} />`;
  const d = m.data;
  document.title = `${d.title} · HWC3D`;
  return html`<div class="page">
    <article class="model">
      <div class="model-media">
        <${Viewer} model=${d} />
        ${canView(d) && html`<p class="viewer-links"><a href=${`/view/${d.id}`}>Open the full-page viewer</a></p>`}
        <${RenderTools} model=${d} />
      </div>
      <div class="model-info">
        <h1>${d.title} <${QualityBadge} badge=${d.quality_badge} /></h1>
        <p class="price big">${formatPrice(d.price, d.currency, d.is_free)}</p>
        ${d.creator && html`<p class="by">by <a href=${`/u/${encodeURIComponent(d.creator.username)}`}>${d.creator.full_name || d.creator.username}</a> (@${d.creator.username})</p>`}
        <p class="figures">${counted(d.views_count, 'view')} · ${counted(d.downloads_count, 'download')} · ${counted(d.comments_count, 'comment')}</p>
        <${Actions} model=${d} />
        ${d.description && html`<p class="description">${d.description}</p>`}
        ${d.tags && d.tags.length > 0 && html`<ul class="tags" aria-label="Tags">${d.tags.map((t) => html`<li><a href=${`/marketplace?search=${encodeURIComponent(t)}`}>#${t}</a></li>`)}</ul>`}
        <${Specs} model=${d} />
        <${SpecSheet} model=${d} />
        <${CreatorCard} model=${d} signal=${signal} />
      </div>
    </article>
    <${Comments} model=${d} signal=${signal} />
    <${Related} model=${d} signal=${signal} />
  </div>`;
}
