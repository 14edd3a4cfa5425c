// admin/shell.js: a stand-in for the admin console's layout, so that the
// admin pages of this branch render; the `adminpages` branch owns the real
// one (navigation, guard) and replaces this file at merge.  The page is
// already inside the document's <main id="app">, so the body is a <div>.
import { html } from '../ui.js';

const LINKS = [
  ['/admin', 'Overview'], ['/admin/users', 'Users'], ['/admin/analytics', 'Analytics'],
  ['/admin/emails', 'Emails'], ['/admin/settings', 'Settings'],
];

export function AdminLayout({ title, children }) {
  const here = location.pathname.replace(/\/+$/, '') || '/admin';
  return html`<div class="page admin">
    <header class="page-head">
      <h1>${title}</h1>
      <nav class="subnav" aria-label="Admin console"><ul>
        ${LINKS.map(([href, label]) => html`<li key=${href}><a href=${href} aria-current=${here === href ? 'page' : undefined}>${label}</a></li>`)}
      </ul></nav>
    </header>
    <div class="creator admin-body">${children}</div>
  </div>`;
}
