// app.js: the router.  A page is one module under pages/ plus one entry in
// `routes`: the module is imported the first time its page is shown, so the
// first load carries only the pages it needs.  Each page gets its route
// params, the URL query and an AbortSignal that is aborted when the user
// leaves the page.  `auth: true` pages send a signed-out visitor to /auth.
import { render } from 'preact';
import { html, Loading, ErrorBox } from './ui.js';
import { onNavigate, navigate } from './nav.js';
import { Header } from './shell.js';
import { getSession, loadSession } from './session.js';
import { NotAvailablePage, NotFoundPage } from './pages/misc.js';

const page = (load, name, title, extra = {}) => ({ load, name, title, ...extra });

const routes = [
  ['/', page(() => import('./pages/home.js'), 'HomePage', 'HWC3D: 3D model marketplace')],
  ['/marketplace', page(() => import('./pages/marketplace.js'), 'MarketplacePage', 'Marketplace')],
  ['/model/:id', page(() => import('./pages/model.js'), 'ModelPage', 'Model')],
  ['/view/:id', page(() => import('./pages/view.js'), 'ViewPage', 'Model viewer')],
  ['/auth', page(() => import('./pages/auth.js'), 'AuthPage', 'Sign in')],
  ['/auth/reset-password', page(() => import('./pages/auth.js'), 'ResetPasswordPage', 'Reset password')],
  ['/cart', page(() => import('./pages/cart.js'), 'CartPage', 'Cart', { auth: true })],
  ['/checkout', page(() => import('./pages/cart.js'), 'CheckoutPage', 'Checkout', { auth: true })],
  ['/checkout/complete', page(() => import('./pages/cart.js'), 'CheckoutCompletePage', 'Thank you', { auth: true })],
  ['/upload', page(() => import('./pages/upload.js'), 'UploadPage', 'Upload a model', { auth: true })],
  ['/dashboard', page(() => import('./pages/dashboard.js'), 'DashboardPage', 'Dashboard', { auth: true })],
  ['/dashboard/inventory', page(() => import('./pages/inventory.js'), 'InventoryPage', 'Inventory', { auth: true })],
  ['/dashboard/financials', page(() => import('./pages/financials.js'), 'FinancialsPage', 'Financials', { auth: true })],
  ['/dashboard/settings', page(() => import('./pages/settings.js'), 'SettingsPage', 'Settings', { auth: true })],
  ['/leaderboard', page(() => import('./pages/leaderboard.js'), 'LeaderboardPage', 'Leaderboard')],
  ['/u/:username', page(() => import('./pages/profile.js'), 'ProfilePage', 'Creator')],
  ['/dashboard/social', page(() => import('./pages/social.js'), 'SocialPage', 'Social', { auth: true })],
  ['/dashboard/messages', page(() => import('./pages/messages.js'), 'MessagesPage', 'Messages', { auth: true })],
  ['/support', page(() => import('./pages/support.js'), 'SupportPage', 'Support', { auth: true })],
  ['/community', page(() => import('./pages/community.js'), 'CommunityHubPage', 'Communities')],
  ['/community/:id', page(() => import('./pages/community.js'), 'CommunityPage', 'Community')],
  ['/bounties', page(() => import('./pages/bounties.js'), 'BountiesPage', 'Bounties')],
  ['/bounties/:id', page(() => import('./pages/bounties.js'), 'BountyPage', 'Bounty')],
  ['/learn', page(() => import('./pages/learn.js'), 'LearnPage', 'Learning center')],
  ['/learn/:id', page(() => import('./pages/learn.js'), 'CoursePage', 'Course')],
  ['/admin', page(() => import('./pages/admin/overview.js'), 'AdminOverviewPage', 'Admin')],
  ['/admin/users', page(() => import('./pages/admin/users.js'), 'AdminUsersPage', 'Users · Admin')],
  ['/admin/analytics', page(() => import('./pages/admin/analytics.js'), 'AdminAnalyticsPage', 'Analytics · Admin')],
  ['/admin/emails', page(() => import('./pages/admin/emails.js'), 'AdminEmailsPage', 'Emails · Admin')],
  ['/admin/settings', page(() => import('./pages/admin/settings.js'), 'AdminSettingsPage', 'Settings · Admin')],
  // the admin console: each page guards itself (admin/shell.js AdminLayout)
  ['/admin/login', page(() => import('./pages/admin/auth.js'), 'AdminLoginPage', 'Admin sign-in')],
  ['/admin/forgot-password', page(() => import('./pages/admin/auth.js'), 'AdminForgotPasswordPage', 'Reset the admin password')],
  ['/admin/reset-password', page(() => import('./pages/admin/auth.js'), 'AdminResetPasswordPage', 'Set a new admin password')],
  ['/admin/models', page(() => import('./pages/admin/models.js'), 'AdminModelsPage', 'Models · Admin')],
  ['/admin/models/:id', page(() => import('./pages/admin/models.js'), 'AdminModelPage', 'Review a model · Admin')],
  ['/admin/communities', page(() => import('./pages/admin/communities.js'), 'AdminCommunitiesPage', 'Communities · Admin')],
  ['/admin/support', page(() => import('./pages/admin/support.js'), 'AdminSupportPage', 'Support · Admin')],
  ['/admin/support/:id', page(() => import('./pages/admin/support.js'), 'AdminTicketPage', 'Ticket · Admin')],
  ['/admin/revenue', page(() => import('./pages/admin/revenue.js'), 'AdminRevenuePage', 'Revenue · Admin')],
  ['/admin/categories', page(() => import('./pages/admin/categories.js'), 'AdminCategoriesPage', 'Categories · Admin')],
  ['/admin/bounties', page(() => import('./pages/admin/pending.js'), 'AdminBountiesPage', 'Bounties · Admin')],
  ['/admin/learning', page(() => import('./pages/admin/pending.js'), 'AdminLearningPage', 'Learning · Admin')],
  ['/admin/testimonials', page(() => import('./pages/admin/testimonials.js'), 'AdminTestimonialsPage', 'Testimonials · Admin')],
  ['/admin/slider', page(() => import('./pages/admin/slider.js'), 'AdminSliderPage', 'Slider · Admin')],
];

// Routes the server answers with the app (src/http/static.c page_roots)
// whose pages are not built yet.
const planned = ['communities'];

function match(pathname) {
  const parts = pathname.replace(/\/+$/, '').split('/').slice(1);
  for (const [path, route] of routes) {
    const want = path === '/' ? [] : path.split('/').slice(1);
    if (want.length !== parts.length) continue;
    const params = {};
    let ok = true;
    want.forEach((w, i) => {
      if (w.startsWith(':')) {
        try { params[w.slice(1)] = decodeURIComponent(parts[i]); } catch { ok = false; }
      } else if (w !== parts[i]) ok = false;
    });
    if (ok) return { route, params };
  }
  const joined = parts.join('/');
  if (planned.some((p) => joined === p || joined.startsWith(`${p}/`)))
    return { route: { component: NotAvailablePage, title: 'Not available yet' }, params: {} };
  return { route: { component: NotFoundPage, title: 'Page not found' }, params: {} };
}

const root = document.getElementById('app');
let controller = null;
let shown = 0;

async function show() {
  if (controller) controller.abort();
  controller = new AbortController();
  const ticket = ++shown;
  const signal = controller.signal;
  const { route, params } = match(location.pathname);
  document.title = route.title === 'HWC3D: 3D model marketplace' ? route.title : `${route.title} · HWC3D`;
  if (route.auth) {
    if (!getSession().ready) await loadSession();
    if (ticket !== shown) return;
    if (!getSession().user) {
      navigate(`/auth?next=${encodeURIComponent(location.pathname + location.search)}`, { replace: true });
      return;
    }
  }
  let Page = route.component;
  if (!Page) {
    render(html`<section class="page"><${Loading} /></section>`, root);
    try {
      Page = (await route.load())[route.name];
    } catch (error) {
      if (ticket === shown)
        render(html`<section class="page narrow"><h1>This page could not be loaded</h1><${ErrorBox} error=${error} onRetry=${show} /></section>`, root);
      return;
    }
    if (ticket !== shown) return;
  }
  const query = new URLSearchParams(location.search);
  render(html`<${Page} key=${location.pathname + location.search} params=${params} query=${query} signal=${signal} />`, root);
}

onNavigate(show);

// Same-origin links without a target or modifier keys stay in the app.
document.addEventListener('click', (e) => {
  if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
  const a = e.target.closest('a[href]');
  if (!a || a.target || a.hasAttribute('download')) return;
  const url = new URL(a.href, location.href);
  if (url.origin !== location.origin || url.pathname.startsWith('/api/') || url.pathname.startsWith('/docs')
      || url.pathname.startsWith('/files/')) return;
  e.preventDefault();
  navigate(url);
});

window.addEventListener('popstate', show);
render(html`<${Header} />`, document.getElementById('site-header'));
loadSession();
show();
