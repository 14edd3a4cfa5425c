// live.mjs: real time across two browsers (issue 12, point 7).  Two users,
// each in a browser of their own, both signed in.  What one does appears on
// the other's open page within 1 s, without a reload: a direct message, a
// community post, a reaction and a chat line, each made in the other
// browser, and a support reply (made by an admin through the API: the admin
// console's pages come later).  The pages
// poll every 5-10 s at most, so only the WebSocket channels can deliver in
// time.
//
// Input: {base, a: {email, password, token}, b: {email, password, token},
// conversation_id, ticket_id, community_id, admin_token}; b owns the ticket,
// both are members of the community, a and b share the conversation.
// Output adds `delays`: {name: ms}.
import { runScript, newPage, signIn, settle, takeProblems } from './lib.mjs';

const WITHIN_MS = 1000;

// Resolves when the page has an open WebSocket whose URL has `part`.
function socketOpen(page, part) {
  return new Promise((resolve) => {
    const seen = (ws) => { if (ws.url().includes(part)) resolve(ws); };
    page.on('websocket', seen);
  });
}

async function openWithSocket(page, url, part) {
  const ws = socketOpen(page, part);
  await page.goto(url, { waitUntil: 'load' });
  await settle(page);
  await Promise.race([ws, new Promise((_, bad) => setTimeout(() => bad(new Error(`no WebSocket ${part} on ${url}`)), 15000))]);
  await page.waitForTimeout(300); // the socket's handshake and subscription
}

// Runs act(), then waits for locator on the watching page; the delay in ms.
async function delivered(run, name, act, locator) {
  await act();
  const t = Date.now();
  await locator.waitFor({ state: 'visible', timeout: 10000 });
  const ms = Date.now() - t;
  run.extra.delays[name] = ms;
  if (ms > WITHIN_MS) throw new Error(`${name} took ${ms} ms to appear (at most ${WITHIN_MS})`);
}

async function apiAs(cfg, token, method, path, body) {
  const r = await fetch(cfg.base + path, {
    method,
    headers: { Authorization: `Bearer ${token}`, Accept: 'application/json', 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!r.ok) throw new Error(`${method} ${path}: ${r.status} ${await r.text()}`);
  return r.json();
}

await runScript('live', async (run, cfg) => {
  run.extra.delays = {};
  const a = await newPage(cfg);
  const b = await newPage(cfg);
  const stamp = Date.now().toString(36);
  await run.step('both sign in', cfg.base, async () => {
    await signIn(a, cfg, cfg.a.email, cfg.a.password);
    await signIn(b, cfg, cfg.b.email, cfg.b.password);
  });
  if (run.failures.length) return;

  await run.step('a direct message', () => b.url(), async () => {
    const conv = `/dashboard/messages?c=${cfg.conversation_id}`;
    await openWithSocket(a, cfg.base + conv, '/ws/notifications');
    await openWithSocket(b, cfg.base + conv, '/ws/notifications');
    const text = `Live hello ${stamp}`;
    await delivered(run, 'direct message', async () => {
      await a.getByLabel('Message', { exact: true }).fill(text);
      await a.getByRole('button', { name: 'Send', exact: true }).click();
    }, b.getByLabel('Message history').getByText(text));
  });

  await run.step('a support reply', () => b.url(), async () => {
    await openWithSocket(b, `${cfg.base}/support?ticket=${cfg.ticket_id}`, `/ws/support/${cfg.ticket_id}`);
    const text = `Support says hi ${stamp}`;
    await delivered(run, 'support reply', () => apiAs(cfg, cfg.admin_token, 'POST',
      `/api/admin/support/tickets/${cfg.ticket_id}/messages`, { message: text }), b.getByText(text));
  });

  await run.step('a community post, a reaction and a chat line', () => b.url(), async () => {
    const page = `${cfg.base}/community/${cfg.community_id}`;
    await openWithSocket(a, page, `/ws/community/${cfg.community_id}`);
    await openWithSocket(b, page, `/ws/community/${cfg.community_id}`);
    const text = `Fresh post ${stamp}`;
    await delivered(run, 'community post', async () => {
      await a.getByLabel('Write a post').fill(text);
      await a.getByRole('button', { name: 'Post', exact: true }).click();
      await a.locator('article', { hasText: text }).waitFor(); // a's own page took it
    }, b.getByText(text));
    await delivered(run, 'reaction', async () => {
      const mine = a.locator('article', { hasText: text }).getByRole('button', { name: /Fire/ });
      await mine.click();
      await a.locator('article', { hasText: text }).getByRole('button', { name: /Fire/, pressed: true }).waitFor();
    }, b.locator('article', { hasText: text }).getByRole('button', { name: /Fire/ }).filter({ hasText: '1' }));
    const line = `Chat line ${stamp}`;
    await delivered(run, 'chat line', async () => {
      const chat = a.locator('section.comm-chat');
      await chat.getByLabel('Message', { exact: true }).fill(line);
      await chat.getByRole('button', { name: 'Send', exact: true }).click();
    }, b.locator('section.comm-chat').getByText(line));
  });

  for (const [who, page] of [['a', a], ['b', b]]) {
    const problems = takeProblems(page);
    if (problems.length) run.fail(`console of ${who}`, page.url(), problems.join('\n'));
  }
});
