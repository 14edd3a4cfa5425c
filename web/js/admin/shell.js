// admin/shell.js: the admin console's layout and its guard.
//
// <${AdminLayout} title="Models">…<//> draws the console around a page: a
// side navigation listing every admin page (a "Menu" button opens it below
// laptop width), the signed-in admin with "Sign out", and the page's h1.
//
// The guard runs first, and the children mount only once it holds, so a
// page loads its data inside child components (never in the page function
// itself, which runs before the guard):
// - nobody signed in: /admin/login?next=<this page>;
// - signed in, but not an admin: an "Admins only" page;
// - an admin signed in through the normal sign-in (/auth): their token
//   carries the user scope, which the admin API refuses, so the console
//   asks for the admin sign-in with its mailed code.
import { useEffect, useState } from 'preact/hooks';
import { tokenRole } from '../api.js';
import { navigate, here } from '../nav.js';
import { loadSession, signOut, useSession } from '../session.js';
import { html, Loading } from '../ui.js';

// [path, label]: every page of the console, in the order of the menu.
export const ADMIN_PAGES = [
  ['/admin', 'Overview'],
  ['/admin/users', 'Users'],
  ['/admin/models', 'Models'],
  ['/admin/communities', 'Communities'],
  ['/admin/support', 'Support'],
  ['/admin/revenue', 'Revenue'],
  ['/admin/analytics', 'Analytics'],
  ['/admin/categories', 'Categories'],
  ['/admin/bounties', 'Bounties'],
  ['/admin/learning', 'Learning'],
  ['/admin/testimonials', 'Testimonials'],
  ['/admin/slider', 'Slider'],
  ['/admin/emails', 'Emails'],
  ['/admin/settings', 'Settings'],
];

// The menu entry of a path: /admin/models/12 belongs to /admin/models.
function currentEntry(pathname) {
  let best = '';
  for (const [p] of ADMIN_PAGES)
    if ((pathname === p || pathname.startsWith(`${p}/`)) && p.length > best.length) best = p;
  return best;
}

export function isAdmin(user) {
  return !!user && user.role === 'admin';
}

// 'loading' | 'signed-out' | 'not-admin' | 'user-scope' | 'ok'
export function useAdminGuard() {
  const session = useSession();
  useEffect(() => { if (!session.ready) loadSession(); }, []);
  if (!session.ready) return 'loading';
  if (!session.user) return 'signed-out';
  if (!isAdmin(session.user)) return 'not-admin';
  if (tokenRole() !== 'admin') return 'user-scope';
  return 'ok';
}

function AdminNav({ pathname }) {
  const [open, setOpen] = useState(false);
  const { user } = useSession();
  const current = currentEntry(pathname);
  const onSignOut = async () => {
    await signOut();
    navigate('/admin/login', { replace: true });
  };
  return html`<div class=${`admin-side${open ? ' open' : ''}`}>
    <button type="button" class="admin-menu-toggle secondary" aria-expanded=${open ? 'true' : 'false'}
      aria-controls="admin-menu" onClick=${() => setOpen(!open)}>${open ? 'Close menu' : 'Menu'}</button>
    <nav id="admin-menu" class="admin-menu" aria-label="Admin console">
      <p class="admin-brand">Admin console</p>
      <ul>
        ${ADMIN_PAGES.map(([p, label]) => html`<li key=${p}>
          <a href=${p} aria-current=${p === current ? 'page' : undefined}>${label}</a>
        </li>`)}
      </ul>
      ${user && html`<div class="admin-who">
        <p>Signed in as <strong>@${user.username}</strong></p>
        <button type="button" class="link" onClick=${onSignOut}>Sign out</button>
      </div>`}
    </nav>
  </div>`;
}

function GuardPage({ title, children }) {
  return html`<section class="page narrow creator admin-guard">
    <h1>${title}</h1>
    ${children}
  </section>`;
}

// The console around one page; `actions` sit beside the h1.
export function AdminLayout({ title, actions, children }) {
  const guard = useAdminGuard();
  const pathname = location.pathname;
  useEffect(() => {
    if (guard === 'signed-out')
      navigate(`/admin/login?next=${encodeURIComponent(here())}`, { replace: true });
  }, [guard]);
  if (guard === 'loading' || guard === 'signed-out')
    return html`<section class="page"><h1 class="sr-only">${title}</h1><${Loading} label="Checking your session…" /></section>`;
  if (guard === 'not-admin') {
    return html`<${GuardPage} title="Admins only">
      <p>The admin console is for HWC3D's administrators, and your account is not one.</p>
      <p><a href="/dashboard">Go to your dashboard</a> or <a href="/">home</a>.</p>
    <//>`;
  }
  if (guard === 'user-scope') {
    return html`<${GuardPage} title="Admin sign-in needed">
      <p>You are signed in to the marketplace. The admin console needs the admin sign-in, with the code we mail
        you each time.</p>
      <p><a class="button" href=${`/admin/login?next=${encodeURIComponent(here())}`}>Sign in to the admin console</a></p>
    <//>`;
  }
  return html`<div class="admin-layout creator">
    <${AdminNav} pathname=${pathname} />
    <section class="admin-main" aria-labelledby="admin-title">
      <div class="page-head">
        <h1 id="admin-title">${title}</h1>
        ${actions}
      </div>
      ${children}
    </section>
  </div>`;
}
