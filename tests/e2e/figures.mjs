// figures.mjs: what a first visit costs (issue 11, point 5).  For each page,
// in a fresh browser context (nothing cached): the bytes transferred by
// type (compressed, as sent), the first contentful paint, and the time until
// the page's own content (its h1 inside #app) is on screen.
//
// Input: {base, pages: [[name, path], ...]}.  Output adds `figures`:
// {name: {js, css, html, images, other, total, requests, fcp_ms, render_ms}}.
import { runScript, launch, settle, watchConsole } from './lib.mjs';

function kind(url, type) {
  if (/\.m?js(\?|$)/.test(url)) return 'js';
  if (/\.css(\?|$)/.test(url)) return 'css';
  if (type === 'document') return 'html';
  if (type === 'image') return 'images';
  return 'other';
}

await runScript('figures', async (run, cfg) => {
  const browser = await launch();
  run.extra.figures = {};
  for (const [name, path] of cfg.pages) {
    await run.step(`measure ${name}`, cfg.base + path, async () => {
      const context = await browser.newContext({ baseURL: cfg.base, viewport: { width: 1280, height: 800 } });
      const page = await context.newPage();
      watchConsole(page); // (settle() follows the requests it records)
      const sizes = [];
      page.on('requestfinished', async (req) => {
        const s = await req.sizes().catch(() => null);
        if (s) sizes.push({ url: req.url(), type: req.resourceType(), bytes: s.responseBodySize + s.responseHeadersSize });
      });
      await page.goto(path, { waitUntil: 'load' });
      const renderMs = await page.evaluate(() => new Promise((resolve) => {
        const done = () => document.querySelector('#app h1');
        if (done()) { resolve(performance.now()); return; }
        new MutationObserver((_, obs) => { if (done()) { obs.disconnect(); resolve(performance.now()); } })
          .observe(document.getElementById('app'), { childList: true, subtree: true });
      }));
      await settle(page);
      await page.waitForTimeout(300);
      const fcp = await page.evaluate(() => {
        const e = performance.getEntriesByName('first-contentful-paint')[0];
        return e ? e.startTime : null;
      });
      const f = { js: 0, css: 0, html: 0, images: 0, other: 0, total: 0, requests: sizes.length };
      for (const s of sizes) {
        f[kind(s.url, s.type)] += s.bytes;
        f.total += s.bytes;
      }
      f.fcp_ms = fcp === null ? null : Math.round(fcp);
      f.render_ms = Math.round(renderMs);
      run.extra.figures[name] = f;
      await context.close();
    });
  }
});
