// app.js: the router.  A page is one module under pages/ plus one entry in
// `routes`; each page gets its route params, the URL query and an
// AbortSignal that is aborted when the user leaves the page.
import { render } from 'preact';
import { html } from './ui.js';
import { HomePage } from './pages/home.js';
import { MarketplacePage } from './pages/marketplace.js';
import { ModelPage } from './pages/model.js';
import { NotAvailablePage, NotFoundPage } from './pages/misc.js';

const routes = [
  { path: '/', page: HomePage, title: 'HWC3D: 3D model marketplace' },
  { path: '/marketplace', page: MarketplacePage, title: 'Marketplace · HWC3D' },
  { path: '/model/:id', page: ModelPage, title: 'Model · HWC3D' },
];

// Routes the server answers with the app (src/http/static.c page_roots)
// whose pages are not built yet.
const planned = ['view', 'auth', 'cart', 'checkout', 'upload', 'dashboard', 'leaderboard', 'u',
  'community', 'communities', 'support', 'bounties', 'learn', 'admin', 'reset-password',
  'verify-email'];

function match(pathname) {
  const parts = pathname.replace(/\/+$/, '').split('/').slice(1);
  for (const r of routes) {
    const want = r.path === '/' ? [] : r.path.split('/').slice(1);
    if (want.length !== parts.length) continue;
    const params = {};
    let ok = true;
    want.forEach((w, i) => {
      if (w.startsWith(':')) params[w.slice(1)] = decodeURIComponent(parts[i]);
      else if (w !== parts[i]) ok = false;
    });
    if (ok) return { route: r, params };
  }
  if (planned.includes(parts[0])) return { route: { page: NotAvailablePage, title: 'Not available yet · HWC3D' }, params: {} };
  return { route: { page: NotFoundPage, title: 'Page not found · HWC3D' }, params: {} };
}

const root = document.getElementById('app');
let controller = null;

function show() {
  if (controller) controller.abort();
  controller = new AbortController();
  const { route, params } = match(location.pathname);
  const query = new URLSearchParams(location.search);
  document.title = route.title;
  const Page = route.page;
  render(html`<${Page} key=${location.pathname + location.search} params=${params} query=${query} signal=${controller.signal} />`, root);
}

export function navigate(url, { replace = false } = {}) {
  const target = new URL(url, location.href);
  const samePage = target.pathname === location.pathname;
  if (replace) history.replaceState(null, '', target);
  else history.pushState(null, '', target);
  show();
  if (!samePage) {
    window.scrollTo(0, 0);
    root.focus({ preventScroll: true });
  }
}

// Same-origin links without a target or modifier keys stay in the app.
document.addEventListener('click', (e) => {
  if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
  const a = e.target.closest('a[href]');
  if (!a || a.target || a.hasAttribute('download')) return;
  const url = new URL(a.href, location.href);
  if (url.origin !== location.origin || url.pathname.startsWith('/api/') || url.pathname.startsWith('/docs')) return;
  e.preventDefault();
  navigate(url);
});

window.addEventListener('popstate', show);
show();
