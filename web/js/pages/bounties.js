// bounties.js: commissions.  /bounties lists them (search, status,
// category, budget range, sort and "mine" kept in the URL) with the form
// to post one (reference images uploaded first); /bounties/:id shows one:
// the apply form for creators, and the commission flow: the owner accepts
// an application, the accepted creator delivers, the owner asks for
// changes or completes; the owner may cancel an open bounty.
// No money moves through the site: accepting records the agreed price.
import { useEffect, useState } from 'preact/hooks';
import { api, upload, isAbort } from '../api.js';
import { navigate } from '../nav.js';
import { useSession } from '../session.js';
import { html, formatCount, formatMoney, withQuery, LinkPager, Loading, Empty, ErrorBox } from '../ui.js';
import { Field, FormError, useSubmit } from './auth.js';

export const BOUNTY_CATEGORIES = [
  ['characters', 'Characters'], ['vehicles', 'Vehicles'], ['architecture', 'Architecture'],
  ['environments', 'Environments'], ['props', 'Props'], ['furniture', 'Furniture'], ['animals', 'Animals'],
  ['nature', 'Nature'], ['sci-fi', 'Sci-Fi'], ['fantasy', 'Fantasy'], ['electronics', 'Electronics'],
  ['textures-materials', 'Textures & materials'], ['other', 'Other'],
];
const STATUSES = [['open', 'Open'], ['in_progress', 'In progress'], ['completed', 'Completed'], ['cancelled', 'Cancelled']];
const SORTS = [['newest', 'Newest'], ['deadline', 'Deadline soonest'], ['budget_high', 'Highest budget'], ['budget_low', 'Lowest budget']];
const IMAGES_MAX = 6;

const label = (list, v) => (list.find(([k]) => k === v) || [v, v])[1];
const day = (iso) => (iso ? new Date(iso).toLocaleDateString() : '');
const when = (iso) => (iso ? new Date(iso).toLocaleString() : '');
const nameOf = (u) => (u ? u.full_name || u.username : '');

// Loads fn(signal) once the session is known, again when the signed-in
// user changes (the answers depend on who asks), and on reload().
export function useAsWho(fn, deps, signal) {
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
  return { ...s, reload: () => setTick(tick + 1), set: (data) => setS({ loading: false, data, error: null }) };
}

function StatusBadge({ status }) {
  return html`<span class=${`bounty-status s-${status}`}>${label(STATUSES, status)}</span>`;
}

// ------------------------------------------------------------------ list

function Filters({ query, user }) {
  const onSubmit = (e) => {
    e.preventDefault();
    const f = new FormData(e.target);
    navigate(withQuery('/bounties', query, {
      search: f.get('search').trim(), status: f.get('status'), category: f.get('category'),
      budget_min: f.get('budget_min').trim(), budget_max: f.get('budget_max').trim(), sort: f.get('sort'),
      mine: f.get('mine') || '', page: '',
    }));
  };
  const onChange = (e) => { if (e.target.tagName === 'SELECT') e.target.form.requestSubmit(); };
  return html`<form class="filters bounty-filters" role="search" onSubmit=${onSubmit} onChange=${onChange}>
    <div class="field grow">
      <label for="bf-search">Search bounties</label>
      <input id="bf-search" name="search" type="search" maxlength="100" value=${query.get('search') || ''} />
    </div>
    <div class="field">
      <label for="bf-status">Status</label>
      <select id="bf-status" name="status">
        <option value="">Any status</option>
        ${STATUSES.slice(0, 3).map(([v, l]) => html`<option value=${v} selected=${query.get('status') === v}>${l}</option>`)}
      </select>
    </div>
    <div class="field">
      <label for="bf-category">Category</label>
      <select id="bf-category" name="category">
        <option value="">All categories</option>
        ${BOUNTY_CATEGORIES.map(([v, l]) => html`<option value=${v} selected=${query.get('category') === v}>${l}</option>`)}
      </select>
    </div>
    <div class="field small">
      <label for="bf-min">Budget from ($)</label>
      <input id="bf-min" name="budget_min" inputmode="decimal" pattern="[0-9]+([.][0-9]{1,2})?" value=${query.get('budget_min') || ''} />
    </div>
    <div class="field small">
      <label for="bf-max">Budget up to ($)</label>
      <input id="bf-max" name="budget_max" inputmode="decimal" pattern="[0-9]+([.][0-9]{1,2})?" value=${query.get('budget_max') || ''} />
    </div>
    <div class="field">
      <label for="bf-sort">Sort by</label>
      <select id="bf-sort" name="sort">
        ${SORTS.map(([v, l]) => html`<option value=${v} selected=${(query.get('sort') || 'newest') === v}>${l}</option>`)}
      </select>
    </div>
    ${user && html`<div class="field">
      <label for="bf-mine">Show</label>
      <select id="bf-mine" name="mine">
        <option value="">All bounties</option>
        <option value="posted" selected=${query.get('mine') === 'posted'}>Bounties I posted</option>
        <option value="applied" selected=${query.get('mine') === 'applied'}>Bounties I applied to</option>
      </select>
    </div>`}
    <button type="submit">Search</button>
  </form>`;
}

function BountyCard({ bounty: b }) {
  return html`<li class="bounty-card card">
    ${b.thumbnail_url
      ? html`<img src=${b.thumbnail_url} alt="" width="160" height="120" loading="lazy" decoding="async" />`
      : html`<div class="thumb-missing" aria-hidden="true">Bounty</div>`}
    <div class="bounty-card-body">
      <div class="comm-card-head">
        <a class="comm-name" href=${`/bounties/${b.id}`}>${b.title}</a>
        <${StatusBadge} status=${b.status} />
        ${b.is_featured && html`<span class="bounty-featured">Featured</span>`}
      </div>
      <p class="comm-meta">
        <strong class="bounty-budget">${formatMoney(b.budget, b.currency)}</strong>
        <span> · ${label(BOUNTY_CATEGORIES, b.category)}</span>
        <span> · due ${day(b.deadline)}</span>
        <span> · ${formatCount(b.applications_count)} ${b.applications_count === 1 ? 'application' : 'applications'}</span>
      </p>
      <p class="comm-meta">Posted by ${nameOf(b.owner)}${b.has_applied ? ' · You applied' : ''}</p>
    </div>
  </li>`;
}

// Image uploads for a form: [{upload_id, url, name}] with add and remove.
function useImages(max) {
  const [images, setImages] = useState([]);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState('');
  const onFiles = async (e) => {
    const files = Array.from(e.target.files || []).slice(0, max - images.length);
    e.target.value = '';
    setError('');
    setBusy(true);
    for (const f of files) {
      const fd = new FormData();
      fd.append('file', f);
      try {
        const r = await upload('/api/upload/image', fd);
        setImages((old) => [...old, { upload_id: r.upload_id, url: r.image_url, name: f.name }]);
      } catch (err) {
        setError(err.message);
      }
    }
    setBusy(false);
  };
  return { images, setImages, busy, error, onFiles };
}

function ImagePicker({ id, label: text, img, max, errors }) {
  const err = img.error || (errors && errors.join(' '));
  return html`<div class="field">
    <label for=${id}>${text}</label>
    <input id=${id} type="file" accept="image/png,image/jpeg,image/webp" multiple=${max > 1}
      disabled=${img.busy || img.images.length >= max}
      aria-describedby=${`${id}-hint${err ? ` ${id}-error` : ''}`} onChange=${img.onFiles} />
    <small class="field-hint" id=${`${id}-hint`}>Up to ${max} ${max === 1 ? 'image' : 'images'} (.jpg, .png, .webp).${img.busy ? ' Uploading…' : ''}</small>
    ${err && html`<small class="field-error" id=${`${id}-error`}>${err}</small>`}
    ${img.images.length > 0 && html`<ul class="comm-thumbs" aria-label="Chosen images">
      ${img.images.map((i) => html`<li key=${i.upload_id}>
        <img src=${i.url} alt=${i.name} width="96" height="72" loading="lazy" />
        <button type="button" class="link" aria-label=${`Remove ${i.name}`}
          onClick=${() => img.setImages(img.images.filter((x) => x !== i))}>Remove</button>
      </li>`)}
    </ul>`}
  </div>`;
}

function inDays(n) {
  const d = new Date(Date.now() + n * 86400000);
  return d.toISOString().slice(0, 10);
}

function CreateBounty() {
  const [open, setOpen] = useState(false);
  const img = useImages(IMAGES_MAX);
  const form = useSubmit(async (data) => {
    const body = {
      title: data.get('title'), description: data.get('description'), budget: data.get('budget'),
      deadline: data.get('deadline'), category: data.get('category'),
    };
    if (img.images.length) body.reference_image_ids = img.images.map((i) => i.upload_id);
    const b = await api('/api/bounties', { method: 'POST', body });
    navigate(`/bounties/${b.id}`);
    return b;
  });
  const errs = form.fields;
  return html`<section class="comm-create card" aria-labelledby="bc-title">
    <h2 id="bc-title">
      <button type="button" class="link" aria-expanded=${open} aria-controls="bc-form" onClick=${() => setOpen(!open)}>Post a bounty</button>
    </h2>
    ${open && html`<form id="bc-form" onSubmit=${form.onSubmit}>
      <${Field} id="bc-name" label="Title" name="title" required minlength="3" maxlength="120" errors=${errs.title} />
      <${Field} id="bc-description" label="What you need" as="textarea" name="description" rows="5" required
        minlength="10" maxlength="5000" errors=${errs.description}
        hint="Style, polygon budget, formats, textures, rigging: what the creator must deliver." />
      <div class="bounty-form-row">
        <${Field} id="bc-budget" label="Budget (USD)" name="budget" required inputmode="decimal"
          pattern="[0-9]+([.][0-9]{1,2})?" errors=${errs.budget} hint="At least 1.00." />
        <${Field} id="bc-deadline" label="Deadline" name="deadline" type="date" required min=${inDays(1)}
          value=${inDays(30)} errors=${errs.deadline} />
        <${Field} id="bc-category" label="Bounty category" as="select" name="category" errors=${errs.category}>
          ${BOUNTY_CATEGORIES.map(([v, l]) => html`<option value=${v} selected=${v === 'other'}>${l}</option>`)}
        <//>
      </div>
      <${ImagePicker} id="bc-images" label="Reference images" img=${img} max=${IMAGES_MAX} errors=${errs.reference_image_ids} />
      <${FormError} error=${form.error} wait=${form.wait} shown=${['title', 'description', 'budget', 'deadline', 'category', 'reference_image_ids']} />
      <button type="submit" disabled=${form.busy || img.busy}>${form.busy ? 'Posting…' : 'Post bounty'}</button>
    </form>`}
  </section>`;
}

export function BountiesPage({ query, signal }) {
  const { user } = useSession();
  const page = Math.max(1, parseInt(query.get('page') || '1', 10) || 1);
  const q = { page, limit: 20, sort: query.get('sort') || 'newest' };
  for (const k of ['search', 'status', 'category', 'budget_min', 'budget_max']) if (query.get(k)) q[k] = query.get(k);
  if (user && query.get('mine')) q.mine = query.get('mine');
  const list = useAsWho((sig) => api('/api/bounties', { query: q, signal: sig }), [], signal);
  let body;
  if (list.loading && !list.data) body = html`<${Loading} label="Loading bounties…" />`;
  else if (list.error) body = html`<${ErrorBox} error=${list.error} onRetry=${list.reload} />`;
  else if (!list.data.items.length) body = html`<${Empty}>No bounty matches.${user ? ' Post the first one!' : ''}<//>`;
  else {
    body = html`<p class="count">${formatCount(list.data.total)} ${list.data.total === 1 ? 'bounty' : 'bounties'}</p>
      <ul class="comm-list" aria-label="Bounties">
        ${list.data.items.map((b) => html`<${BountyCard} key=${b.id} bounty=${b} />`)}
      </ul>
      <${LinkPager} page=${list.data.page} pages=${list.data.pages} href=${(n) => withQuery('/bounties', query, { page: n === 1 ? '' : n })} />`;
  }
  return html`<section class="page bounties">
    <h1>Bounties</h1>
    <p class="lead">Commission a model: post what you need with a budget and a deadline, and creators apply.</p>
    <${Filters} query=${query} user=${user} />
    ${body}
    ${user
      ? html`<${CreateBounty} />`
      : html`<p><a href=${`/auth?next=${encodeURIComponent('/bounties')}`}>Sign in</a> to post a bounty or apply.</p>`}
  </section>`;
}

// ------------------------------------------------------------------ one bounty

function useMyModels(user) {
  const [models, setModels] = useState([]);
  useEffect(() => {
    if (!user) return undefined;
    const ctl = new AbortController();
    api('/api/users/me/models', { query: { limit: 50 }, signal: ctl.signal }).then((p) => setModels(p.items), () => {});
    return () => ctl.abort();
  }, [user && user.id]);
  return models;
}

function ApplyForm({ bounty, onDone }) {
  const { user } = useSession();
  const models = useMyModels(user);
  const form = useSubmit(async (data) => {
    const body = { message: data.get('message') };
    if (data.get('proposed_price')) body.proposed_price = data.get('proposed_price');
    if (data.get('proposed_days')) body.proposed_days = Number(data.get('proposed_days'));
    const picked = data.getAll('portfolio').map(Number);
    if (picked.length) body.portfolio_model_ids = picked;
    await api(`/api/bounties/${bounty.id}/apply`, { method: 'POST', body });
    onDone();
  });
  const errs = form.fields;
  return html`<form class="card bounty-form" onSubmit=${form.onSubmit} aria-labelledby="ap-title">
    <h2 id="ap-title">Apply to this bounty</h2>
    <${Field} id="ap-message" label="Your pitch" as="textarea" name="message" rows="4" required minlength="10"
      maxlength="2000" errors=${errs.message} hint="How you would do it, and similar work you have done." />
    <div class="bounty-form-row">
      <${Field} id="ap-price" label="Your price (USD)" name="proposed_price" inputmode="decimal"
        pattern="[0-9]+([.][0-9]{1,2})?" errors=${errs.proposed_price} hint="Optional: the budget otherwise." />
      <${Field} id="ap-days" label="Days needed" name="proposed_days" type="number" min="1" max="365" errors=${errs.proposed_days} />
    </div>
    ${models.length > 0 && html`<fieldset class="bounty-portfolio">
      <legend>Portfolio (up to 6 of your models)</legend>
      ${models.slice(0, 24).map((m) => html`<label class="check" key=${m.id}>
        <input type="checkbox" name="portfolio" value=${m.id} /> ${m.title}
      </label>`)}
      ${errs.portfolio_model_ids && html`<small class="field-error">${errs.portfolio_model_ids.join(' ')}</small>`}
    </fieldset>`}
    <${FormError} error=${form.error} wait=${form.wait} shown=${['message', 'proposed_price', 'proposed_days', 'portfolio_model_ids']} />
    <button type="submit" disabled=${form.busy}>${form.busy ? 'Sending…' : 'Send application'}</button>
  </form>`;
}

function Application({ app, canAccept, onAccept, busy }) {
  return html`<li class="card bounty-app">
    <div class="comm-card-head">
      <a class="comm-name" href=${`/u/${encodeURIComponent(app.creator.username)}`}>${nameOf(app.creator)}</a>
      <span class=${`bounty-status s-${app.status}`}>${app.status}</span>
    </div>
    <p class="comm-meta">
      ${app.proposed_price != null ? html`<span>Asks ${formatMoney(app.proposed_price)}</span>` : html`<span>At the budget</span>`}
      ${app.proposed_days != null && html`<span> · ${app.proposed_days} days</span>`}
      <span> · ${when(app.created_at)}</span>
    </p>
    <p class="comm-desc">${app.message}</p>
    ${app.portfolio.length > 0 && html`<p class="comm-meta">Portfolio: ${app.portfolio.map((m, i) => html`${i ? ', ' : ''}<a href=${`/model/${m.id}`}>${m.title}</a>`)}</p>`}
    ${canAccept && html`<button type="button" disabled=${busy} onClick=${() => onAccept(app)}>Accept ${nameOf(app.creator)}</button>`}
  </li>`;
}

function DeliverForm({ bounty, onDone }) {
  const { user } = useSession();
  const models = useMyModels(user);
  const img = useImages(1);
  const form = useSubmit(async (data) => {
    const body = { message: data.get('message') };
    if (data.get('model_id')) body.model_id = Number(data.get('model_id'));
    if (img.images.length) body.upload_id = img.images[0].upload_id;
    const b = await api(`/api/bounties/${bounty.id}/deliver`, { method: 'POST', body });
    img.setImages([]);
    onDone(b);
  });
  const errs = form.fields;
  return html`<form class="card bounty-form" onSubmit=${form.onSubmit} aria-labelledby="dv-title">
    <h3 id="dv-title">Deliver your work</h3>
    <${Field} id="dv-message" label="Message to the owner" as="textarea" name="message" rows="3" required maxlength="2000" errors=${errs.message} />
    <${Field} id="dv-model" label="One of your models" as="select" name="model_id" errors=${errs.model_id}
      hint="Upload the model first if it is not on the site yet.">
      <option value="">No model</option>
      ${models.map((m) => html`<option value=${m.id}>${m.title}</option>`)}
    <//>
    <${ImagePicker} id="dv-image" label="Or a preview image" img=${img} max=${1} errors=${errs.upload_id} />
    <${FormError} error=${form.error} wait=${form.wait} shown=${['message', 'model_id', 'upload_id']} />
    <button type="submit" disabled=${form.busy || img.busy}>${form.busy ? 'Sending…' : 'Deliver'}</button>
  </form>`;
}

function AnswerDelivery({ bounty, onDone }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const [message, setMessage] = useState('');
  const act = async (what) => {
    setBusy(true);
    setError(null);
    try {
      const body = message.trim() ? { message: message.trim() } : {};
      onDone(await api(`/api/bounties/${bounty.id}/${what}`, { method: 'POST', body }));
      setMessage('');
    } catch (e) {
      setError(e);
    }
    setBusy(false);
  };
  return html`<div class="card bounty-form" role="group" aria-labelledby="ad-title">
    <h3 id="ad-title">Your answer to the delivery</h3>
    <div class="field">
      <label for="ad-message">Message to the creator</label>
      <textarea id="ad-message" rows="3" maxlength="2000" value=${message} onInput=${(e) => setMessage(e.target.value)}
        aria-describedby="ad-hint"></textarea>
      <small class="field-hint" id="ad-hint">Required when you ask for changes.</small>
    </div>
    ${error && html`<${FormError} error=${error} />`}
    <div class="bounty-actions">
      <button type="button" disabled=${busy} onClick=${() => act('complete')}>Accept and complete</button>
      <button type="button" class="secondary" disabled=${busy || !message.trim()} onClick=${() => act('request-changes')}>Ask for changes</button>
    </div>
  </div>`;
}

function Deliveries({ list }) {
  if (!list.length) return html`<${Empty}>Nothing delivered yet.<//>`;
  return html`<ol class="bounty-deliveries">
    ${list.map((d) => html`<li class="card" key=${d.id}>
      <p class="comm-meta"><span class=${`bounty-status s-${d.status}`}>${d.status.replace('_', ' ')}</span> · ${when(d.created_at)}</p>
      <p class="comm-desc">${d.message}</p>
      ${d.model && html`<p>Model: <a href=${`/model/${d.model.id}`}>${d.model.title}</a></p>`}
      ${d.image && html`<img src=${d.image.url} alt="Delivered preview" width="240" height="180" loading="lazy" />`}
      ${d.response && html`<p class="comm-meta">Owner's answer: ${d.response}</p>`}
    </li>`)}
  </ol>`;
}

export function BountyPage({ params, signal }) {
  const { user } = useSession();
  const id = params.id;
  const one = useAsWho((sig) => api(`/api/bounties/${encodeURIComponent(id)}`, { signal: sig }), [id], signal);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  if (one.loading && !one.data) return html`<section class="page"><${Loading} label="Loading the bounty…" /></section>`;
  if (one.error) {
    return html`<section class="page narrow">
      <h1>${one.error.status === 404 ? 'Bounty not found' : 'This bounty could not be loaded'}</h1>
      <${ErrorBox} error=${one.error} onRetry=${one.error.status === 404 ? null : one.reload} />
      <p><a href="/bounties">All bounties</a></p>
    </section>`;
  }
  const b = one.data;
  const owner = user && b.owner.id === user.id;
  const accepted = user && b.accepted_creator && b.accepted_creator.id === user.id;
  const waiting = b.deliveries && b.deliveries.some((d) => d.status === 'submitted');
  const isCreator = user && user.user_type === 'creator';
  const open = b.status === 'open' && new Date(b.deadline) > new Date();
  const run = async (path) => {
    setBusy(true);
    setError(null);
    try {
      one.set(await api(path, { method: 'POST' }));
    } catch (e) {
      setError(e);
    }
    setBusy(false);
  };
  return html`<section class="page bounty">
    <p><a href="/bounties">← All bounties</a></p>
    <div class="comm-header">
      <div class="comm-title">
        <h1>${b.title}</h1>
        <p class="comm-meta"><${StatusBadge} status=${b.status} /> · ${label(BOUNTY_CATEGORIES, b.category)} · posted by${' '}
          <a href=${`/u/${encodeURIComponent(b.owner.username)}`}>${nameOf(b.owner)}</a> on ${day(b.created_at)}</p>
      </div>
      <dl class="bounty-facts">
        <div><dt>Budget</dt><dd>${formatMoney(b.budget, b.currency)}</dd></div>
        <div><dt>Deadline</dt><dd>${day(b.deadline)}</dd></div>
        <div><dt>Applications</dt><dd>${formatCount(b.applications_count)}</dd></div>
        ${b.agreed_price != null && html`<div><dt>Agreed price</dt><dd>${formatMoney(b.agreed_price, b.currency)}</dd></div>`}
      </dl>
    </div>
    <p class="comm-desc">${b.description}</p>
    ${b.images.length > 0 && html`<section aria-labelledby="bi-title">
      <h2 id="bi-title">Reference images</h2>
      <ul class="bounty-images">
        ${b.images.map((i, n) => html`<li key=${i.upload_id}><a href=${i.url}><img src=${i.url} alt=${`Reference image ${n + 1}`}
          width=${i.width || 240} height=${i.height || 180} loading="lazy" /></a></li>`)}
      </ul>
    </section>`}
    ${b.accepted_creator && html`<p>Being made by <a href=${`/u/${encodeURIComponent(b.accepted_creator.username)}`}>${nameOf(b.accepted_creator)}</a>.${' '}
      Payment is arranged between the owner and the creator; the site records the agreed price.</p>`}
    ${error && html`<${FormError} error=${error} />`}
    ${owner && b.status === 'open' && html`<p><button type="button" class="secondary" disabled=${busy}
      onClick=${() => { if (window.confirm('Cancel this bounty? Applicants will be told.')) run(`/api/bounties/${b.id}/cancel`); }}>Cancel bounty</button></p>`}

    ${!user && b.status === 'open' && html`<p><a class="button" href=${`/auth?next=${encodeURIComponent(`/bounties/${b.id}`)}`}>Sign in to apply</a></p>`}
    ${user && !owner && b.my_application && html`<div class="state notice" role="status">
      <p>You applied on ${day(b.my_application.created_at)}: your application is <strong>${b.my_application.status}</strong>.</p>
    </div>`}
    ${user && !owner && !b.my_application && open && (isCreator
      ? html`<${ApplyForm} bounty=${b} onDone=${one.reload} />`
      : html`<p>Only creator accounts can apply to bounties.</p>`)}

    ${b.applications && html`<section aria-labelledby="ba-title">
      <h2 id="ba-title">Applications</h2>
      ${b.applications.length === 0
        ? html`<${Empty}>No application yet.<//>`
        : html`<ul class="comm-list">
          ${b.applications.map((a) => html`<${Application} key=${a.id} app=${a} busy=${busy}
            canAccept=${owner && b.status === 'open' && a.status === 'pending'}
            onAccept=${(x) => { if (window.confirm(`Accept ${nameOf(x.creator)}? The other applicants will be declined.`)) run(`/api/bounties/${b.id}/applications/${x.id}/accept`); }} />`)}
        </ul>`}
    </section>`}

    ${b.deliveries && html`<section aria-labelledby="bd-title">
      <h2 id="bd-title">Deliveries</h2>
      <${Deliveries} list=${b.deliveries} />
      ${accepted && b.status === 'in_progress' && !waiting && html`<${DeliverForm} bounty=${b} onDone=${one.set} />`}
      ${accepted && waiting && html`<p class="state notice" role="status">Your delivery waits for the owner's answer.</p>`}
      ${owner && b.status === 'in_progress' && waiting && html`<${AnswerDelivery} bounty=${b} onDone=${one.set} />`}
    </section>`}
  </section>`;
}
