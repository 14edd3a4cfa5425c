// misc.js: the pages for routes that are planned but not built, and for
// anything else.
import { html } from '../ui.js';

export function NotAvailablePage() {
  return html`<section class="page narrow">
    <h1>Not available yet</h1>
    <p>This part of HWC3D is not in the web client yet.</p>
    <p><a href="/marketplace">Browse the marketplace</a> or go <a href="/">home</a>.</p>
  </section>`;
}

export function NotFoundPage() {
  return html`<section class="page narrow">
    <h1>Page not found</h1>
    <p>There is no page at this address.</p>
    <p><a href="/marketplace">Browse the marketplace</a> or go <a href="/">home</a>.</p>
  </section>`;
}
