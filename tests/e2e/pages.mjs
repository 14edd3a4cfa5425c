// pages.mjs: the page sweep.  Every page route of the web client, signed out
// and (for the pages that need an account) signed in, at 1280 and 390 px:
// wait for the page to settle, take a full-page screenshot, run axe-core
// (no serious or critical violation), and fail on any console error, page
// error, missing h1 or sideways scrolling at 390 px.
//
// Input (JSON argument): {base, engine, screenshots, model_id, community_id,
// bounty_id, course_id, username, search, user: {email, password}}.  The
// checks are generic on purpose: the pages are built by other hands, and the
// sweep must hold for placeholders and for the real pages alike.
import {
  runScript, newPage, settle, takeProblems, axeViolations, overflow, screenshotPath, signIn, heading,
  WIDTHS,
} from './lib.mjs';

// [screenshot name, path, needs an account, expected HTTP status of the document]
function routes(cfg) {
  const q = new URLSearchParams({ search: cfg.search || 'cube', sort: 'newest' });
  const id = encodeURIComponent(cfg.model_id);
  return [
    ['home', '/', false, 200],
    ['marketplace', '/marketplace', false, 200],
    ['marketplace-search', `/marketplace?${q}`, false, 200],
    ['model', `/model/${id}`, false, 200],
    ['view', `/view/${id}`, false, 200],
    ['auth', '/auth', false, 200],
    ['reset-password', '/auth/reset-password?token=x', false, 200],
    ['cart', '/cart', true, 200],
    ['checkout', '/checkout', true, 200],
    ['upload', '/upload', true, 200],
    ['dashboard', '/dashboard', true, 200],
    ['inventory', '/dashboard/inventory', true, 200],
    ['financials', '/dashboard/financials', true, 200],
    ['settings', '/dashboard/settings', true, 200],
    ['leaderboard', '/leaderboard', false, 200],
    ['profile', `/u/${encodeURIComponent(cfg.username)}`, false, 200],
    ['community', '/community', false, 200],
    ['community-view', `/community/${encodeURIComponent(cfg.community_id)}`, false, 200],
    ['support', '/support', true, 200],
    ['messages', '/dashboard/messages', true, 200],
    ['social', '/dashboard/social', true, 200],
    ['bounties', '/bounties?status=open&sort=deadline', false, 200],
    ['bounty', `/bounties/${encodeURIComponent(cfg.bounty_id)}`, false, 200],
    ['learn', '/learn?difficulty=beginner', false, 200],
    ['course', `/learn/${encodeURIComponent(cfg.course_id)}`, false, 200],
    ['not-available', '/communities', false, 200],
    ['not-found', '/nope', false, 404],
  ];
}

// Public pages that show more to a signed-in user (the apply form, the
// enroll button): swept signed in as well.
const SIGNED_IN_TOO = new Set(['home', 'bounty', 'course']);

// Chromium logs a document's own 4xx as a console error; for the page
// expected to answer 404 that one line is not a problem of the page.
function expectedNoise(problem, status) {
  return status === 404 && /Failed to load resource: the server responded with a status of 404/.test(problem)
    && !/\/api\//.test(problem);
}

// One page at one width: everything the sweep asserts, each failure named.
async function checkPage(run, cfg, page, { name, path, status, width, signedIn }) {
  const label = `${name}${signedIn ? ' (signed in)' : ''} at ${width}px`;
  const url = cfg.base + path;
  await page.setViewportSize({ width, height: width < 600 ? 844 : 800 });
  takeProblems(page);
  const ok = await run.step(`load ${label}`, url, async () => {
    const res = await page.goto(path, { waitUntil: 'load' });
    if (!res || res.status() !== status) throw new Error(`HTTP ${res ? res.status() : 'none'}, expected ${status}`);
    await settle(page);
    return true;
  });
  if (!ok) {
    await page.screenshot({ path: screenshotPath(cfg, `${name}-FAILED`, width), fullPage: true }).catch(() => {});
    return;
  }
  await run.step(`page ${label}`, url, async () => {
    const h1 = await heading(page);
    if (!h1) throw new Error('the page has an empty h1');
    if (signedIn && !(await page.getByRole('button', { name: 'Sign out' }).count()))
      throw new Error('the session was not restored from the refresh cookie (no "Sign out" in the header)');
    if (new URL(page.url()).pathname !== path.split('?')[0])
      throw new Error(`the page moved to ${page.url()}`);
  });
  await run.step(`screenshot ${label}`, url, () =>
    page.screenshot({ path: screenshotPath(cfg, name, width), fullPage: true }));
  await run.step(`axe ${label}`, url, async () => {
    const v = await axeViolations(page);
    if (v.length) throw new Error(v.join('\n'));
  });
  if (width <= 390) {
    await run.step(`overflow ${label}`, url, async () => {
      const o = await overflow(page);
      if (o) throw new Error(o);
    });
  }
  const problems = takeProblems(page).filter((p) => !expectedNoise(p, status));
  if (problems.length) run.fail(`console ${label}`, url, problems.join('\n'));
}

// A signed-out visit to a page that needs an account goes to /auth?next=.
async function checkRedirect(run, cfg, page, path) {
  const url = cfg.base + path;
  await page.setViewportSize({ width: 1280, height: 800 });
  takeProblems(page);
  await run.step(`signed-out ${path} goes to /auth`, url, async () => {
    await page.goto(path, { waitUntil: 'load' });
    await settle(page);
    const at = new URL(page.url());
    if (at.pathname !== '/auth' || at.searchParams.get('next') !== path)
      throw new Error(`landed on ${page.url()}, expected /auth?next=${path}`);
  });
  const problems = takeProblems(page);
  if (problems.length) run.fail(`console signed-out ${path}`, url, problems.join('\n'));
}

await runScript('pages', async (run, cfg) => {
  const all = routes(cfg);
  const out = await newPage(cfg);
  for (const [name, path, needsAccount, status] of all) {
    if (needsAccount) {
      await checkRedirect(run, cfg, out, path);
      continue;
    }
    for (const width of WIDTHS) await checkPage(run, cfg, out, { name, path, status, width, signedIn: false });
  }
  await out.context().close();

  const inPage = await newPage(cfg);
  const before = run.failures.length;
  await run.step('sign in', cfg.base + '/', () => signIn(inPage, cfg, cfg.user.email, cfg.user.password));
  if (run.failures.length === before) {
    for (const [name, path, needsAccount, status] of all) {
      if (needsAccount || SIGNED_IN_TOO.has(name))
        for (const width of WIDTHS) {
          await checkPage(run, cfg, inPage, {
            name: needsAccount ? name : `${name}-signed-in`, path, status, width, signedIn: true,
          });
        }
    }
  }
  await inPage.context().close();
  run.extra.screenshots = cfg.screenshots;
  run.extra.pages = all.length;
});
