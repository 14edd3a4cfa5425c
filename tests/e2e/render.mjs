// render.mjs: the server-side render tools of a model page (render-tools.js).
//
// The model's creator opens its page, waits for the 3D viewer, turns its
// camera, and presses "Screenshot": the server renders a PNG from that
// orbit, which the page shows.  Then "Export video": the page polls the
// job's progress until it is done and shows the turntable video.  A buyer
// sees the Screenshot button but not Export video.
//
// Input: {base, model_id, creator: {email, password}, buyer: {...}}.
// Output adds screenshot_request (the JSON body the page sent) and
// progress (the values the page showed).
import { runScript, newPage, signIn, settle, takeProblems } from './lib.mjs';

await runScript('render', async (run, cfg) => {
  const page = await newPage(cfg);
  await run.step('sign in as the creator', cfg.base + '/', () => signIn(page, cfg, cfg.creator.email, cfg.creator.password));
  if (run.failures.length) return;
  const url = `${cfg.base}/model/${cfg.model_id}`;
  await run.step('open the model page', url, async () => {
    await page.goto(url, { waitUntil: 'load' });
    await settle(page);
    await page.waitForFunction(() => {
      const el = document.querySelector('.model-media model-viewer');
      return el && el.loaded;
    }, null, { timeout: 30000 });
  });
  await run.step('turn the viewer camera', url, () => page.evaluate(() => {
    const el = document.querySelector('.model-media model-viewer');
    el.cameraOrbit = '90deg 60deg auto';
    el.jumpCameraToGoal();
  }));
  await run.step('take a screenshot', url, async () => {
    const req = page.waitForRequest((r) => r.url().endsWith(`/api/models/${cfg.model_id}/screenshot`));
    await page.getByRole('button', { name: 'Screenshot' }).click();
    run.extra.screenshot_request = JSON.parse((await req).postData());
    const img = page.locator('.render-result img');
    await img.waitFor({ timeout: 60000 });
    const ok = await img.evaluate((i) => i.complete ? i.naturalWidth : new Promise((r) => { i.onload = () => r(i.naturalWidth); }));
    if (ok !== 1280) throw new Error(`the screenshot is ${ok} px wide`);
  });
  await run.step('export a video', url, async () => {
    const seen = [];
    page.on('response', async (res) => {
      if (/\/api\/jobs\/\d+$/.test(new URL(res.url()).pathname)) {
        try { seen.push((await res.json()).progress); } catch { /* ignore */ }
      }
    });
    // A short, small video: the request as the page made it, made smaller.
    await page.route('**/record-video', (route) => {
      const body = { ...JSON.parse(route.request().postData()), duration_s: 2, width: 320, height: 240, fps: 12 };
      run.extra.video_request = body;
      route.continue({ postData: JSON.stringify(body) });
    });
    await page.getByRole('button', { name: 'Export video' }).click();
    await page.locator('video.turntable').waitFor({ timeout: 240000 });
    run.extra.progress = seen;
  });
  const problems = takeProblems(page);
  if (problems.length) run.fail('console', url, problems.join('\n'));

  const buyer = await newPage(cfg);
  await run.step('a buyer sees Screenshot only', url, async () => {
    await signIn(buyer, cfg, cfg.buyer.email, cfg.buyer.password);
    await buyer.goto(url, { waitUntil: 'load' });
    await settle(buyer);
    await buyer.getByRole('button', { name: 'Screenshot' }).waitFor({ timeout: 10000 });
    if (await buyer.getByRole('button', { name: 'Export video' }).count()) throw new Error('a buyer can export a video');
  });
});
