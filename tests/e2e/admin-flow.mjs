// admin-flow.mjs: an admin's Monday morning in the console (issue 14,
// point 8): sign in with the password and the mailed code; approve one
// pending model and reject another with a reason; resolve a reported post
// by removing it; create a category; delete a slide; create one with an
// uploaded image; answer a support ticket, whose owner has the ticket open
// on /support and sees the answer arrive without a reload.  Python then
// checks the server's state through the API.
//
// Input: {base, engine, screenshots, data_dir, admin: {email, password},
// user: {email, password} (the ticket's owner), approve: {id, title},
// reject: {id, title}, reason, report_id, ticket_id, reply, category, slide,
// new_slide, png (a file path)}.
import { runScript, newPage, settle, signIn, takeProblems, screenshotPath } from './lib.mjs';
import { adminSignIn, viewerSettled } from './admin-lib.mjs';

async function openModel(page, model) {
  await page.goto('/admin/models', { waitUntil: 'load' });
  await settle(page);
  await page.getByRole('link', { name: `Review ${model.title}` }).click();
  await page.waitForURL((u) => u.pathname === `/admin/models/${model.id}`);
  await settle(page);
  await viewerSettled(page);
}

await runScript('admin-flow', async (run, cfg) => {
  const admin = await newPage(cfg);
  const user = await newPage(cfg);
  const signed = await run.step('admin signs in with the mailed code', cfg.base + '/admin/login',
    () => adminSignIn(admin, cfg, cfg.admin, '/admin/models').then(() => true));
  if (!signed) return;

  await run.step('approve a pending model', cfg.base + `/admin/models/${cfg.approve.id}`, async () => {
    await openModel(admin, cfg.approve);
    await admin.getByRole('button', { name: 'Approve', exact: true }).click();
    await admin.getByText(`“${cfg.approve.title}” is approved.`).waitFor();
    await admin.getByText('Approved', { exact: true }).first().waitFor();
  });

  await run.step('reject a pending model with a reason', cfg.base + `/admin/models/${cfg.reject.id}`, async () => {
    await openModel(admin, cfg.reject);
    await admin.getByRole('button', { name: 'Reject…' }).click();
    const dialog = admin.getByRole('dialog');
    await dialog.getByLabel('Reason for the creator').fill(cfg.reason);
    await dialog.getByRole('button', { name: 'Reject', exact: true }).click();
    await dialog.waitFor({ state: 'detached' });
    await admin.getByText(`“${cfg.reject.title}” is rejected.`).waitFor();
    await admin.getByText(`Rejected: ${cfg.reason}`).waitFor();
  });

  await run.step('resolve a report by removing the post', cfg.base + '/admin/communities?tab=reports', async () => {
    await admin.goto('/admin/communities?tab=reports', { waitUntil: 'load' });
    await settle(admin);
    await admin.getByRole('button', { name: `Resolve report ${cfg.report_id}` }).click();
    const dialog = admin.getByRole('dialog');
    await dialog.getByLabel('Remove the post', { exact: true }).check();
    await dialog.getByLabel(/^Note/).fill('Spam, removed from the browser test');
    await dialog.getByRole('button', { name: 'Resolve report' }).click();
    await dialog.waitFor({ state: 'detached' });
    await admin.getByText(`Report #${cfg.report_id} resolved (remove).`).waitFor();
  });

  await run.step('create a category', cfg.base + '/admin/categories', async () => {
    await admin.goto('/admin/categories', { waitUntil: 'load' });
    await settle(admin);
    await admin.getByRole('button', { name: 'New category' }).click();
    const dialog = admin.getByRole('dialog', { name: 'New category' });
    await dialog.getByLabel('Name', { exact: true }).fill(cfg.category);
    await dialog.getByLabel('Description').fill('Made in the browser test');
    await dialog.getByRole('button', { name: 'Create category' }).click();
    await dialog.waitFor({ state: 'detached' });
    await admin.getByText(`“${cfg.category}” is created.`).waitFor();
  });

  await run.step('delete a slide after the confirmation', cfg.base + '/admin/slider', async () => {
    await admin.goto('/admin/slider', { waitUntil: 'load' });
    await settle(admin);
    await admin.getByRole('button', { name: `Delete ${cfg.slide}` }).click();
    const dialog = admin.getByRole('dialog');
    await dialog.getByRole('button', { name: 'Delete slide' }).click();
    await dialog.waitFor({ state: 'detached' });
    await admin.getByText(`“${cfg.slide}” is deleted.`).waitFor();
  });

  await run.step('create a slide with an uploaded image', cfg.base + '/admin/slider', async () => {
    await admin.goto('/admin/slider', { waitUntil: 'load' });
    await settle(admin);
    await admin.getByRole('button', { name: 'New slide' }).click();
    const dialog = admin.getByRole('dialog', { name: 'New slide' });
    await dialog.getByLabel('Title', { exact: true }).fill(cfg.new_slide);
    const uploaded = admin.waitForResponse((r) => new URL(r.url()).pathname === '/api/upload/image');
    await dialog.getByLabel('Image').setInputFiles(cfg.png);
    const r = await uploaded;
    if (r.status() !== 201) throw new Error(`POST /api/upload/image answered ${r.status()}`);
    await dialog.getByRole('img', { name: "The slide's image" }).waitFor();
    await dialog.getByLabel(/^Link/).fill('/marketplace');
    await dialog.getByRole('button', { name: 'Create slide' }).click();
    await dialog.waitFor({ state: 'detached' });
    await admin.getByText(`“${cfg.new_slide}” is created.`).waitFor();
  });

  // the ticket's owner has it open, live
  const userOpen = await run.step('the user opens the ticket', cfg.base + `/support?ticket=${cfg.ticket_id}`, async () => {
    await signIn(user, cfg, cfg.user.email, cfg.user.password);
    await user.goto(`/support?ticket=${cfg.ticket_id}`, { waitUntil: 'load' });
    await settle(user);
    // the socket is open once the server counts it; give it a moment
    await user.waitForTimeout(500);
    return true;
  });

  await run.step('answer the ticket; the user sees it live', cfg.base + `/admin/support/${cfg.ticket_id}`, async () => {
    await admin.goto('/admin/support', { waitUntil: 'load' });
    await settle(admin);
    await admin.getByRole('link', { name: new RegExp(`^#${cfg.ticket_id} `) }).click();
    await admin.waitForURL((u) => u.pathname === `/admin/support/${cfg.ticket_id}`);
    await settle(admin);
    await admin.getByLabel('Reply as support').fill(cfg.reply);
    const sent = Date.now();
    await admin.getByRole('button', { name: 'Send reply' }).click();
    await admin.getByRole('list', { name: 'Conversation' }).getByText(cfg.reply).waitFor();
    if (userOpen) {
      await user.getByRole('list', { name: 'Conversation' }).getByText(cfg.reply).waitFor({ timeout: 5000 });
      run.extra.live_ms = Date.now() - sent;
    }
    await admin.screenshot({ path: screenshotPath(cfg, 'admin-flow-ticket', 1280), fullPage: true });
  });

  for (const [who, page] of [['admin', admin], ['user', user]]) {
    const problems = takeProblems(page);
    if (problems.length) run.fail(`console (${who})`, page.url(), problems.join('\n'));
  }
});
