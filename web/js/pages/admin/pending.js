// admin/pending.js: /admin/bounties and /admin/learning until the bounties
// and courses API (GET/PUT/DELETE /api/admin/bounties,
// GET/POST/PUT/DELETE /api/admin/courses) lands; then each becomes a page
// like admin/categories.js.
import { html } from '../../ui.js';
import { AdminLayout } from '../../admin/shell.js';

function Soon({ what, api }) {
  return html`<div class="state notice" role="status">
    <p>${what} arrive with the bounties and courses API, which is being built now.</p>
    <p class="hint-muted">This page will use ${api}.</p>
  </div>`;
}

export function AdminBountiesPage() {
  return html`<${AdminLayout} title="Bounties">
    <${Soon} what="Bounty moderation tools" api="GET, PUT and DELETE /api/admin/bounties" />
  <//>`;
}

export function AdminLearningPage() {
  return html`<${AdminLayout} title="Learning">
    <${Soon} what="Course management tools" api="GET, POST, PUT and DELETE /api/admin/courses" />
  <//>`;
}
