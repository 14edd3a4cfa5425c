// admin-pages.mjs: the admin console's page sweep.  Signed out: the admin
// sign-in pages, and a console page sending the visitor to /admin/login;
// signed in as a normal user: the "Admins only" page; an admin signed in
// through the marketplace's /auth: "Admin sign-in needed"; then signed in as an
// admin through /admin/login (password and mailed code): every console
// page at 1280 and 768 px: settle, a full-page screenshot
// (build/screenshots/<engine>/admin-*.png), axe-core (no serious or
// critical violation), no console error, an h1, no sideways scrolling.  A
// form dialog and a confirmation dialog are checked with axe as well.
//
// Input: {base, engine, screenshots, data_dir, admin: {email, password},
// user: {email, password}, model_id, ticket_id}.
import {
  runScript, newPage, settle, takeProblems, axeViolations, overflow, screenshotPath, signIn, heading,
} from './lib.mjs';
import { adminSignIn, viewerSettled } from './admin-lib.mjs';

const WIDTHS = [1280, 768];

function signedOutPages() {
  return [
    ['admin-login', '/admin/login'],
    ['admin-forgot-password', '/admin/forgot-password'],
    ['admin-reset-password', '/admin/reset-password?token=x'],
  ];
}

function consolePages(cfg) {
  return [
    ['admin-models', '/admin/models'],
    ['admin-models-all', '/admin/models?status=all&search=cube'],
    ['admin-model', `/admin/models/${cfg.model_id}`],
    ['admin-communities', '/admin/communities'],
    ['admin-reports', '/admin/communities?tab=reports'],
    ['admin-support', '/admin/support'],
    ['admin-ticket', `/admin/support/${cfg.ticket_id}`],
    ['admin-revenue', '/admin/revenue'],
    ['admin-payouts', '/admin/revenue?tab=payouts&status=all'],
    ['admin-categories', '/admin/categories'],
    ['admin-testimonials', '/admin/testimonials'],
    ['admin-slider', '/admin/slider'],
    ['admin-bounties', '/admin/bounties'],
    ['admin-learning', '/admin/learning'],
  ];
}

// Before the bounties and courses API is merged, /admin/bounties and
// /admin/learning get a 404 from their list (and say so); Chromium logs that
// answer as a console error.
function expectedNoise(problem) {
  return /Failed to load resource: the server responded with a status of 404/.test(problem)
    && /\/api\/admin\/(bounties|courses)\b/.test(problem);
}

async function checks(run, cfg, page, label, url, width, shot) {
  await run.step(`page ${label}`, url, async () => {
    if (!(await heading(page))) throw new Error('the page has an empty h1');
  });
  if (shot) await run.step(`screenshot ${label}`, url, () => page.screenshot({ path: screenshotPath(cfg, shot, width), fullPage: true }));
  await run.step(`axe ${label}`, url, async () => {
    const v = await axeViolations(page);
    if (v.length) throw new Error(v.join('\n'));
  });
  await run.step(`overflow ${label}`, url, async () => {
    const o = await overflow(page);
    if (o) throw new Error(o);
  });
  const problems = takeProblems(page).filter((p) => !expectedNoise(p));
  if (problems.length) run.fail(`console ${label}`, url, problems.join('\n'));
}

async function checkPage(run, cfg, page, { name, path, width, expectPath }) {
  const label = `${name} at ${width}px`;
  const url = cfg.base + path;
  await page.setViewportSize({ width, height: 800 });
  takeProblems(page);
  const ok = await run.step(`load ${label}`, url, async () => {
    const res = await page.goto(path, { waitUntil: 'load' });
    if (!res || res.status() !== 200) throw new Error(`HTTP ${res ? res.status() : 'none'}`);
    await settle(page);
    await viewerSettled(page);
    const at = new URL(page.url());
    if (at.pathname !== (expectPath || path.split('?')[0])) throw new Error(`the page moved to ${page.url()}`);
    return true;
  });
  if (!ok) {
    await page.screenshot({ path: screenshotPath(cfg, `${name}-FAILED`, width), fullPage: true }).catch(() => {});
    return;
  }
  await checks(run, cfg, page, label, url, width, name);
}

await runScript('admin-pages', async (run, cfg) => {
  // signed out
  const out = await newPage(cfg);
  for (const [name, path] of signedOutPages())
    for (const width of WIDTHS) await checkPage(run, cfg, out, { name, path, width });
  await run.step('signed-out /admin/models goes to /admin/login', cfg.base + '/admin/models', async () => {
    takeProblems(out);
    await out.goto('/admin/models?status=all', { waitUntil: 'load' });
    await settle(out);
    const at = new URL(out.url());
    if (at.pathname !== '/admin/login' || at.searchParams.get('next') !== '/admin/models?status=all')
      throw new Error(`landed on ${out.url()}`);
    const problems = takeProblems(out);
    if (problems.length) throw new Error(problems.join('\n'));
  });
  await out.context().close();

  // a signed-in user who is not an admin
  const user = await newPage(cfg);
  await run.step('a non-admin sees "Admins only"', cfg.base + '/admin/models', async () => {
    await signIn(user, cfg, cfg.user.email, cfg.user.password);
    await user.goto('/admin/models', { waitUntil: 'load' });
    await settle(user);
    const h1 = await heading(user);
    if (h1 !== 'Admins only') throw new Error(`the h1 is "${h1}"`);
    if (await user.getByRole('navigation', { name: 'Admin console' }).count()) throw new Error('the console menu is shown');
  });
  await checks(run, cfg, user, 'admins-only at 1280px', cfg.base + '/admin/models', 1280, 'admin-admins-only');
  await user.context().close();

  // an admin signed in through the marketplace's sign-in holds a user-scope
  // token, which the admin API refuses: the console asks for its own sign-in
  const scoped = await newPage(cfg);
  await run.step('an admin with a marketplace session is asked for the admin sign-in', cfg.base + '/admin/slider', async () => {
    await signIn(scoped, cfg, cfg.admin.email, cfg.admin.password);
    await scoped.goto('/admin/slider', { waitUntil: 'load' });
    await settle(scoped);
    const h1 = await heading(scoped);
    if (h1 !== 'Admin sign-in needed') throw new Error(`the h1 is "${h1}"`);
    const href = await scoped.getByRole('link', { name: 'Sign in to the admin console' }).getAttribute('href');
    if (href !== '/admin/login?next=%2Fadmin%2Fslider') throw new Error(`the link goes to ${href}`);
  });
  await checks(run, cfg, scoped, 'admin-sign-in-needed at 768px', cfg.base + '/admin/slider', 768, null);
  await scoped.context().close();

  // the admin
  const page = await newPage(cfg);
  const signed = await run.step('admin sign-in with the mailed code', cfg.base + '/admin/login',
    () => adminSignIn(page, cfg, cfg.admin, '/admin/models').then(() => true));
  if (!signed) return;
  takeProblems(page);
  for (const [name, path] of consolePages(cfg))
    for (const width of WIDTHS) await checkPage(run, cfg, page, { name, path, width });

  // the review page shows the 3D pipeline's safety scan and quality report
  // when the model document carries them (added here to the server's answer)
  await run.step('the safety scan and quality report slot', cfg.base + `/admin/models/${cfg.model_id}`, async () => {
    const scan = {
      upload_id: 1, verdict: 'unsafe', scanned_at: '2026-01-02T03:04:05Z',
      findings: [{ check: 'gltf_uri', severity: 'critical', message: 'An external URI points outside the file' }],
      duplicate_of: { model_id: 424242, title: 'The original cube', creator: { id: 1, username: 'first_maker' }, similarity: 0.97 },
    };
    const quality = { grade: 'good', score: 87, issues: [{ severity: 'low', message: 'Two unused materials' }] };
    const rewrite = async (route) => {
      const res = await route.fetch();
      const body = await res.json();
      if (Array.isArray(body.items)) body.items = body.items.map((m) => ({ ...m, safety_scan: scan }));
      else Object.assign(body, { safety_scan: scan, quality_report: quality });
      await route.fulfill({ status: res.status(), json: body });
    };
    await page.route(/\/api\/admin\/models(\/\d+)?(\?.*)?$/, rewrite);
    try {
      await page.setViewportSize({ width: 1280, height: 800 });
      await page.goto('/admin/models', { waitUntil: 'load' });
      await settle(page);
      await page.getByRole('cell', { name: 'Unsafe' }).first().waitFor();
      await page.goto(`/admin/models/${cfg.model_id}`, { waitUntil: 'load' });
      await settle(page);
      await viewerSettled(page);
      const checks = page.getByRole('region', { name: 'Automated checks' });
      await checks.getByText('Unsafe', { exact: true }).waitFor();
      await checks.getByText('An external URI points outside the file').waitFor();
      await checks.getByRole('link', { name: 'The original cube' }).waitFor();
      await checks.getByText('Quality report').waitFor();
      await checks.getByText('Two unused materials').waitFor();
      const v = await axeViolations(page);
      if (v.length) throw new Error(v.join('\n'));
      await page.screenshot({ path: screenshotPath(cfg, 'admin-model-checks', 1280), fullPage: true });
    } finally {
      await page.unroute(/\/api\/admin\/models(\/\d+)?(\?.*)?$/, rewrite);
    }
  });

  // the menu at tablet width is a button that opens it
  await run.step('the menu button opens the menu at 768px', cfg.base + '/admin/categories', async () => {
    await page.setViewportSize({ width: 768, height: 800 });
    await page.goto('/admin/categories', { waitUntil: 'load' });
    await settle(page);
    const link = page.getByRole('navigation', { name: 'Admin console' }).getByRole('link', { name: 'Slider' });
    if (await link.isVisible()) throw new Error('the menu is open before the button is pressed');
    await page.getByRole('button', { name: 'Menu' }).click();
    await link.waitFor({ state: 'visible', timeout: 3000 });
    await page.screenshot({ path: screenshotPath(cfg, 'admin-menu-open', 768), fullPage: true });
  });

  // dialogs: a form and a confirmation
  await run.step('the new-category dialog', cfg.base + '/admin/categories', async () => {
    await page.setViewportSize({ width: 1280, height: 800 });
    await page.goto('/admin/categories', { waitUntil: 'load' });
    await settle(page);
    await page.getByRole('button', { name: 'New category' }).click();
    await page.getByRole('dialog', { name: 'New category' }).waitFor();
    const v = await axeViolations(page);
    if (v.length) throw new Error(v.join('\n'));
    await page.screenshot({ path: screenshotPath(cfg, 'admin-category-dialog', 1280) });
    await page.keyboard.press('Escape');
    await page.getByRole('dialog').waitFor({ state: 'detached', timeout: 3000 });
  });
  await run.step('the delete confirmation', cfg.base + '/admin/slider', async () => {
    await page.goto('/admin/slider', { waitUntil: 'load' });
    await settle(page);
    await page.getByRole('button', { name: /^Delete / }).first().click();
    const dialog = page.getByRole('dialog');
    await dialog.waitFor();
    const v = await axeViolations(page);
    if (v.length) throw new Error(v.join('\n'));
    await page.screenshot({ path: screenshotPath(cfg, 'admin-confirm-dialog', 1280) });
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await dialog.waitFor({ state: 'detached', timeout: 3000 });
  });
  const problems = takeProblems(page);
  if (problems.length) run.fail('console (dialogs)', cfg.base, problems.join('\n'));
  await page.context().close();
  run.extra.pages = signedOutPages().length + consolePages(cfg).length;
});
