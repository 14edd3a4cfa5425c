// refresh.mjs: the 401 refresh round trip with an expired access token.
//
// The user signs in (the session comes back from the refresh cookie after a
// reload).  The test then hands the client's API module an access token that
// has expired (minted by Python with the server's key, exp in the past: what
// a tab holds after 15 idle minutes), through the module's own
// setAccessToken().  The next signed-in page the user opens sends it, gets a
// 401, POSTs /api/auth/refresh with the cookie (200), and retries with the
// new token (2xx).  The page must show, still signed in.
//
// Input: {base, user: {email, password}, expired_token}.
// Output adds first_status, refresh_status and retry_status.
import { runScript, newPage, signIn, settle, takeProblems, heading } from './lib.mjs';

// The URL of the client's api.js as the page loaded it (the server may give
// it a content-hashed name), so that import() returns the same module.
async function apiModuleUrl(page) {
  return page.evaluate(() => {
    const e = performance.getEntriesByType('resource').map((r) => r.name)
      .find((n) => /\/js\/api(\.[\w-]+)?\.js(\?|$)/.test(new URL(n).pathname + new URL(n).search));
    return e || null;
  });
}

async function expireToken(page, token) {
  const url = await apiModuleUrl(page);
  if (!url) throw new Error('the page did not load /js/api.js');
  await page.evaluate(async ({ url, token }) => {
    const m = await import(url);
    m.setAccessToken(token);
  }, { url, token });
}

// Every /api/ request with its Authorization header and status, in order.
function recordApi(page) {
  const log = [];
  page.on('response', (res) => {
    const u = new URL(res.url());
    if (!u.pathname.startsWith('/api/')) return;
    const auth = res.request().headers().authorization || '';
    log.push({ method: res.request().method(), path: u.pathname, status: res.status(), token: auth.replace(/^Bearer /, '') });
  });
  return log;
}

await runScript('refresh', async (run, cfg) => {
  const page = await newPage(cfg);
  const log = recordApi(page);
  await run.step('sign in', cfg.base + '/', () => signIn(page, cfg, cfg.user.email, cfg.user.password));
  if (run.failures.length) return;
  takeProblems(page);

  await run.step('expire the access token', page.url(), () => expireToken(page, cfg.expired_token));
  const start = log.length;
  // A signed-in page, opened the way a user opens it: through the header.
  await run.step('open the dashboard from the header', cfg.base + '/dashboard', async () => {
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Dashboard' }).click();
    await page.waitForURL('**/dashboard');
    await settle(page);
  });
  // The page may need no API call yet (a placeholder): then the header's
  // own next request does the same, through the same client.
  if (!log.slice(start).some((e) => e.token === cfg.expired_token)) {
    await run.step('a request through the client', page.url(), async () => {
      const url = await apiModuleUrl(page);
      await page.evaluate(async (u) => (await import(u)).api('/api/users/me'), url);
    });
  }
  const seen = log.slice(start);
  const first = seen.find((e) => e.token === cfg.expired_token);
  const refresh = seen.find((e) => e.path === '/api/auth/refresh');
  const retry = first && seen.find((e, i) => i > seen.indexOf(first) && e.path === first.path
    && e.method === first.method && e.token && e.token !== cfg.expired_token);
  run.extra.first_status = first ? first.status : null;
  run.extra.refresh_status = refresh ? refresh.status : null;
  run.extra.retry_status = retry ? retry.status : null;
  run.extra.requests = seen.map((e) => `${e.method} ${e.path} ${e.status}${e.token === cfg.expired_token ? ' (expired token)' : ''}`);
  await run.step('the round trip', page.url(), async () => {
    if (!first) throw new Error(`no request carried the expired token: ${run.extra.requests.join('; ')}`);
    if (first.status !== 401) throw new Error(`the expired token got ${first.status}, not 401`);
    if (!refresh || refresh.status !== 200) throw new Error(`POST /api/auth/refresh: ${refresh ? refresh.status : 'not sent'}`);
    if (!retry || retry.status < 200 || retry.status >= 300)
      throw new Error(`the retry of ${first.method} ${first.path}: ${retry ? retry.status : 'not sent'}`);
  });
  await run.step('still signed in', page.url(), async () => {
    if (!(await heading(page))) throw new Error('no h1');
    await page.getByRole('button', { name: 'Sign out' }).first().waitFor({ state: 'visible', timeout: 5000 });
  });
  // The expired token's 401 is the one console error this test expects.
  const problems = takeProblems(page).filter((p) => !/status of 401/.test(p));
  if (problems.length) run.fail('console', page.url(), problems.join('\n'));
});
