// admin-lib.mjs: what the admin console's browser scripts share: the
// admin sign-in through the pages (password, then the code mailed to
// DATA_DIR/mail), and reading that code.
import fs from 'node:fs';
import path from 'node:path';
import { settle } from './lib.mjs';

// The 6-digit code of the newest .eml in DATA_DIR/mail addressed to `to`,
// written after `since` (ms).
export async function mailedCode(cfg, to, since, { timeout = 20000 } = {}) {
  const dir = path.join(cfg.data_dir, 'mail');
  const end = Date.now() + timeout;
  while (Date.now() < end) {
    const files = fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith('.eml')) : [];
    const fresh = files.map((f) => path.join(dir, f)).map((full) => ({ full, t: fs.statSync(full).mtimeMs }))
      .filter((f) => f.t >= since - 1000).sort((a, b) => b.t - a.t);
    for (const { full } of fresh) {
      const text = fs.readFileSync(full, 'utf8').replace(/\r\n/g, '\n');
      const toLine = (text.match(/^To:.*$/mi) || [''])[0];
      if (!toLine.toLowerCase().includes(to.toLowerCase())) continue;
      const code = text.match(/^(\d{6})$/m);
      if (code) return code[1];
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`no code mailed to ${to} in ${dir}`);
}

// Signs in on /admin/login as a user would: email and password, then the
// mailed code; lands on `next` (a path) with the console's menu shown.
export async function adminSignIn(page, cfg, admin, next = '/admin/models') {
  await page.goto(`/admin/login?next=${encodeURIComponent(next)}`, { waitUntil: 'load' });
  await settle(page);
  await page.getByLabel('Email').fill(admin.email);
  await page.getByLabel('Password').fill(admin.password);
  const since = Date.now();
  await page.getByRole('button', { name: 'Continue' }).click();
  const code = await mailedCode(cfg, admin.email, since);
  await page.getByLabel('Code from the email').fill(code);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await page.waitForURL((u) => u.pathname === next.split('?')[0], { timeout: 15000 });
  await page.getByRole('navigation', { name: 'Admin console' }).waitFor({ state: 'attached', timeout: 15000 });
  await settle(page);
}

// Waits until the page's 3D viewer (if any) has loaded its model or failed:
// in SwiftShader the first render keeps the main thread busy for seconds,
// and clicks meanwhile time out.
export async function viewerSettled(page, timeout = 60000) {
  await page.waitForFunction(() => {
    const stage = document.querySelector('.viewer-stage');
    if (!stage) return true;
    const mv = stage.querySelector('model-viewer');
    return (mv && mv.loaded) || !!stage.querySelector('.viewer-error');
  }, null, { timeout, polling: 250 });
}
