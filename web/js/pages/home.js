// home.js: the landing page.  A hero with search, the slider of
// /api/slider, featured models, platform figures, categories (links to a
// filtered marketplace), top creators, testimonials and the newsletter
// sign-up.  Each block loads on its own, with its own loading, empty and
// error states, so one failing endpoint never blanks the page.
import { useEffect, useRef, useState } from 'preact/hooks';
import { api } from '../api.js';
import { navigate } from '../nav.js';
import { useViewerKey } from '../cards.js';
import { html, formatCount, useLoad, Loading, Empty, ErrorBox, ModelGrid } from '../ui.js';

const SLIDE_MS = 6000;
// A plain check before sending; the server has the last word.
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

function items(d) {
  return Array.isArray(d) ? d : (d && d.items) || [];
}

function reducedMotion() {
  return typeof matchMedia === 'function' && matchMedia('(prefers-reduced-motion: reduce)').matches;
}

// Loading and error states of a block; null once its data is there.
function blockState(s, what) {
  if (s.loading) return html`<${Loading} label=${`Loading ${what}…`} />`;
  if (s.error) return html`<${ErrorBox} error=${s.error} onRetry=${s.reload} />`;
  return null;
}

function Slide({ slide, index, count, active }) {
  return html`<div class="slide" role="group" aria-roledescription="slide" aria-label=${`${index + 1} of ${count}`} hidden=${!active}>
    ${slide.image_url && html`<img src=${slide.image_url} alt="" width="1200" height="400" loading="lazy" decoding="async" />`}
    <div class="slide-text">
      <p class="slide-title">${slide.title}</p>
      ${slide.subtitle && html`<p class="slide-subtitle">${slide.subtitle}</p>`}
      ${slide.link_url && html`<a class="button" href=${slide.link_url}>${slide.button_text || 'Learn more'}</a>`}
    </div>
  </div>`;
}

// The slider: previous/next, one button per slide, and pause.  It moves on
// by itself every SLIDE_MS unless paused, hovered, focused inside, or the
// visitor prefers reduced motion.  Arrow keys move it too.
function Slider({ signal }) {
  const s = useLoad((sig) => api('/api/slider', { query: { limit: 10 }, signal: sig }), signal);
  const [at, setAt] = useState(0);
  const [playing, setPlaying] = useState(() => !reducedMotion());
  const [held, setHeld] = useState(false);
  const slides = items(s.data);
  const n = slides.length;
  useEffect(() => {
    if (!playing || held || n < 2) return undefined;
    const t = setTimeout(() => setAt((at + 1) % n), SLIDE_MS);
    return () => clearTimeout(t);
  }, [playing, held, at, n]);
  if (s.loading) return html`<div class="slider placeholder"><${Loading} label="Loading highlights…" /></div>`;
  if (s.error) return html`<div class="slider"><${ErrorBox} error=${s.error} onRetry=${s.reload} /></div>`;
  if (!n) return null; // No slides: the hero above stands alone.
  const show = (i) => setAt((i + n) % n);
  const onKeyDown = (e) => {
    if (e.key === 'ArrowRight') { show(at + 1); e.preventDefault(); }
    if (e.key === 'ArrowLeft') { show(at - 1); e.preventDefault(); }
  };
  const onFocusOut = (e) => {
    if (!e.currentTarget.contains(e.relatedTarget)) setHeld(false);
  };
  return html`<section class="slider" aria-roledescription="carousel" aria-label="Highlights" onKeyDown=${onKeyDown}
      onMouseEnter=${() => setHeld(true)} onMouseLeave=${() => setHeld(false)}
      onFocusIn=${() => setHeld(true)} onFocusOut=${onFocusOut}>
    <div class="slides" aria-live=${playing && !held ? 'off' : 'polite'}>
      ${slides.map((sl, i) => html`<${Slide} key=${sl.id} slide=${sl} index=${i} count=${n} active=${i === at} />`)}
    </div>
    ${n > 1 && html`<div class="slider-controls">
      <button type="button" class="secondary" onClick=${() => setPlaying(!playing)}>
        ${playing ? 'Pause slideshow' : 'Play slideshow'}
      </button>
      <button type="button" class="secondary" aria-label="Previous slide" onClick=${() => show(at - 1)}>‹</button>
      <span class="dots">
        ${slides.map((sl, i) => html`<button type="button" key=${sl.id} class="dot" aria-label=${`Show slide ${i + 1}: ${sl.title}`}
          aria-current=${i === at ? 'true' : undefined} onClick=${() => show(i)}></button>`)}
      </span>
      <button type="button" class="secondary" aria-label="Next slide" onClick=${() => show(at + 1)}>›</button>
    </div>`}
  </section>`;
}

function Stats({ signal }) {
  const s = useLoad((sig) => api('/api/stats/platform', { signal: sig }), signal);
  const state = blockState(s, 'figures');
  if (state) return state;
  if (!s.data) return html`<${Empty}>No figures yet.<//>`;
  const list = [
    ['Models', s.data.total_models], ['Creators', s.data.total_creators],
    ['Downloads', s.data.total_downloads], ['Categories', s.data.total_categories],
  ];
  return html`<dl class="stats">${list.map(([k, v]) => html`<div><dt>${k}</dt><dd>${formatCount(v)}</dd></div>`)}</dl>`;
}

function Featured({ signal }) {
  const viewer = useViewerKey();
  if (!viewer) return html`<${Loading} label="Loading featured models…" />`;
  return html`<${FeaturedList} key=${viewer} signal=${signal} />`;
}

function FeaturedList({ signal }) {
  const f = useLoad((sig) => api('/api/models/featured', { query: { limit: 8 }, signal: sig }), signal);
  const state = blockState(f, 'featured models');
  if (state) return state;
  if (!items(f.data).length) return html`<${Empty}>No featured models yet. <a href="/marketplace">Browse all models</a>.<//>`;
  return html`<${ModelGrid} models=${items(f.data)} />`;
}

function Categories({ signal }) {
  const c = useLoad((sig) => api('/api/categories', { query: { limit: 24 }, signal: sig }), signal);
  const state = blockState(c, 'categories');
  if (state) return state;
  const list = items(c.data);
  if (!list.length) return html`<${Empty}>No categories yet.<//>`;
  return html`<ul class="categories">
    ${list.map((cat) => html`<li key=${cat.id}>
      <a href=${`/marketplace?category=${encodeURIComponent(cat.slug || cat.id)}`}>
        <span class="cat-name">${cat.name}</span>
        ${cat.models_count != null && html`<span class="cat-count">${formatCount(cat.models_count)} ${cat.models_count === 1 ? 'model' : 'models'}</span>`}
      </a>
    </li>`)}
  </ul>`;
}

function Avatar({ user, size = 48 }) {
  if (user.avatar_url)
    return html`<img class="avatar" src=${user.avatar_url} alt="" width=${size} height=${size} loading="lazy" decoding="async" />`;
  const initial = (user.full_name || user.username || '?').trim().charAt(0).toUpperCase();
  return html`<span class="avatar initial" aria-hidden="true">${initial}</span>`;
}

function TopCreators({ signal }) {
  const c = useLoad((sig) => api('/api/creators/top', { query: { limit: 6 }, signal: sig }), signal);
  const state = blockState(c, 'creators');
  if (state) return state;
  const list = items(c.data);
  if (!list.length) return html`<${Empty}>No creators have published models yet.<//>`;
  return html`<ol class="creators">
    ${list.map((u) => html`<li key=${u.id}>
      <a href=${`/u/${encodeURIComponent(u.username)}`}>
        <${Avatar} user=${u} />
        <span class="creator-text">
          <span class="creator-name">${u.full_name || u.username}${u.is_verified ? html` <span class="verified" title="Verified creator">✓<span class="sr-only"> verified</span></span>` : ''}</span>
          <span class="creator-handle">@${u.username}</span>
          <span class="creator-figures">${formatCount(u.models_count_public ?? u.models_count)} models · ${formatCount(u.total_likes)} likes</span>
        </span>
      </a>
    </li>`)}
  </ol>`;
}

function Stars({ rating }) {
  const r = Math.max(0, Math.min(5, Math.round(Number(rating) || 0)));
  if (!r) return null;
  return html`<p class="stars"><span aria-hidden="true">${'★'.repeat(r)}${'☆'.repeat(5 - r)}</span><span class="sr-only">Rated ${r} out of 5</span></p>`;
}

function Testimonials({ signal }) {
  const t = useLoad((sig) => api('/api/testimonials', { query: { limit: 6 }, signal: sig }), signal);
  const state = blockState(t, 'testimonials');
  if (state) return state;
  const list = items(t.data);
  if (!list.length) return html`<${Empty}>No testimonials yet.<//>`;
  return html`<ul class="testimonials">
    ${list.map((q) => html`<li key=${q.id}>
      <figure>
        <${Stars} rating=${q.rating} />
        <blockquote>${q.content}</blockquote>
        <figcaption>
          <strong>${q.author_name}</strong>${q.author_title && html`<span>, ${q.author_title}</span>`}
        </figcaption>
      </figure>
    </li>`)}
  </ul>`;
}

// POST /api/newsletter/subscribe {email}; shows the server's answer (the
// double opt-in's "check your inbox"), or its field error by the field.
function Newsletter() {
  const [state, setState] = useState({ busy: false, message: '', error: null });
  const input = useRef(null);
  const onSubmit = async (e) => {
    e.preventDefault();
    const email = input.current.value.trim();
    if (!EMAIL.test(email)) {
      const msg = email ? 'Enter a valid email address, such as you@example.com.' : 'Enter your email address.';
      setState({ busy: false, message: '', error: { field_errors: { email: [msg] } } });
      input.current.focus();
      return;
    }
    setState({ busy: true, message: '', error: null });
    try {
      const r = await api('/api/newsletter/subscribe', { method: 'POST', body: { email } });
      setState({ busy: false, message: (r && r.message) || 'Thanks! Check your inbox to confirm.', error: null });
      input.current.value = '';
    } catch (err) {
      setState({ busy: false, message: '', error: err });
      if (err.field_errors && err.field_errors.email) input.current.focus();
    }
  };
  const fe = state.error && state.error.field_errors && state.error.field_errors.email;
  const fieldMsg = fe ? (Array.isArray(fe) ? fe.join(' ') : String(fe)) : '';
  return html`<form class="newsletter" onSubmit=${onSubmit} novalidate>
    <div class="field grow">
      <label for="nl-email">Email address</label>
      <input id="nl-email" ref=${input} name="email" type="email" autocomplete="email" maxlength="254"
        placeholder="you@example.com" aria-invalid=${fieldMsg ? 'true' : undefined}
        aria-describedby=${fieldMsg ? 'nl-email-error' : undefined} />
      ${fieldMsg && html`<small class="field-error" id="nl-email-error">${fieldMsg}</small>`}
    </div>
    <button type="submit" disabled=${state.busy}>${state.busy ? 'Subscribing…' : 'Subscribe'}</button>
    <p class="nl-answer" role="status">${state.message}</p>
    ${state.error && !fieldMsg && html`<div class="nl-error"><${ErrorBox} error=${state.error} /></div>`}
  </form>`;
}

export function SearchBox({ initial = '' }) {
  const onSubmit = (e) => {
    e.preventDefault();
    const q = String(new FormData(e.target).get('search') || '').trim();
    navigate(q ? `/marketplace?search=${encodeURIComponent(q)}` : '/marketplace');
  };
  return html`<form class="search" role="search" onSubmit=${onSubmit}>
    <label for="home-search">Search models</label>
    <input id="home-search" name="search" type="search" maxlength="1024" value=${initial} placeholder="e.g. robot, castle, car" />
    <button type="submit">Search</button>
  </form>`;
}

export function HomePage({ signal }) {
  return html`<section class="page home">
    <div class="hero">
      <h1>3D models, ready to use</h1>
      <p>Browse, view in 3D and buy models from independent creators.</p>
      <${SearchBox} />
    </div>
    <${Slider} signal=${signal} />
    <section aria-labelledby="h-featured">
      <div class="section-head">
        <h2 id="h-featured">Featured models</h2>
        <a href="/marketplace">Browse all</a>
      </div>
      <${Featured} signal=${signal} />
    </section>
    <section aria-labelledby="h-stats">
      <h2 id="h-stats">HWC3D in figures</h2>
      <${Stats} signal=${signal} />
    </section>
    <section aria-labelledby="h-categories">
      <h2 id="h-categories">Categories</h2>
      <${Categories} signal=${signal} />
    </section>
    <section aria-labelledby="h-creators">
      <div class="section-head">
        <h2 id="h-creators">Top creators</h2>
        <a href="/leaderboard">Leaderboard</a>
      </div>
      <${TopCreators} signal=${signal} />
    </section>
    <section aria-labelledby="h-testimonials">
      <h2 id="h-testimonials">What people say</h2>
      <${Testimonials} signal=${signal} />
    </section>
    <section class="nl-block" aria-labelledby="h-newsletter">
      <h2 id="h-newsletter">Newsletter</h2>
      <p>New models and creator news, about once a month. We send a confirmation link first.</p>
      <${Newsletter} />
    </section>
  </section>`;
}
