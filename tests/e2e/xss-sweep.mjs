// xss-sweep.mjs: stored XSS, looked for in the browser (issue 15, item 4).
//
// tests/api/test_browser_xss.py stores a numbered payload in every text
// field through the API (`<img src=x onerror=window.__xss(7)>` and the
// like) and hands this script the visits: a page, who looks at it (anon,
// creator, buyer, admin), what to open there (a button's accessible name,
// or an Edit button in the row showing a payload), and the payloads the
// page must show.  For each visit the script fails when:
//   - a payload ran: window.__xss was called (defined by an init script in
//     every frame) or a dialog (alert/confirm/prompt) opened;
//   - the page holds markup a payload made: an on* attribute, an inline
//     script, an img with src=x, a javascript: href/src/action, an iframe
//     with srcdoc that may run scripts;
//   - a payload the page should show is not visibly on it as text (the
//     rendered text of every frame, and the values of form fields), so the
//     sweep cannot pass by not rendering a field.
// The contexts ignore the pages' Content-Security-Policy (bypassCSP): the
// CSP would stop an injected handler from running, and so hide the bug.
//
// Input: {base, engine, screenshots, data_dir, timeout_ms, payloads: {n:
// text}, fields: {n: name}, visits: [{name, path, who, expect: [n],
// actions: [{role, name, row_of}], shot, in_frame: [n]}], creator, buyer,
// admin}.
// Output adds "shown": the payload numbers seen as text on some page.
import { runScript, launch, watchConsole, settle, signIn, screenshotPath } from './lib.mjs';
import { adminSignIn, viewerSettled } from './admin-lib.mjs';

const SHOT_WIDTHS = [1280, 390];
const HEIGHTS = { 1280: 800, 390: 844 };

async function contextFor(cfg) {
  const browser = await launch();
  const context = await browser.newContext({
    baseURL: cfg.base, viewport: { width: 1280, height: 800 }, deviceScaleFactor: 1, locale: 'en-GB',
    timezoneId: 'UTC', bypassCSP: true,
  });
  context.setDefaultTimeout(cfg.timeout_ms || 10000);
  await context.addInitScript(() => {
    window.__hits = window.__hits || [];
    window.__xss = (id) => { window.__hits.push(String(id)); };
  });
  // The 3D viewer's file is not fetched: SwiftShader's first render takes
  // seconds, and the fields around the viewer render without it.
  await context.route(/\/api\/models\/\d+\/viewer-file/, (route) => route.abort());
  const page = await context.newPage();
  watchConsole(page);
  page.dialogs = [];
  page.on('dialog', (d) => {
    page.dialogs.push(`${d.type()}: ${d.message()}`);
    d.dismiss().catch(() => {});
  });
  return page;
}

// What a frame shows: its rendered text, its form fields' values, its
// title; lower-cased (CSS text-transform changes innerText's case).
function frameText() {
  const parts = [document.title, document.body ? document.body.innerText : ''];
  for (const el of document.querySelectorAll('input, textarea, select')) {
    if (el.type === 'hidden') continue;
    parts.push(el.value);
  }
  return parts.join('\n').toLowerCase();
}

// Markup that only a payload (never the client) puts in a page.
function frameMarkup() {
  const bad = [];
  const show = (el) => el.outerHTML.slice(0, 200);
  for (const el of document.querySelectorAll('*')) {
    for (const a of el.attributes) {
      if (/^on/i.test(a.name)) bad.push(`an ${a.name} attribute: ${show(el)}`);
      else if (/^(href|src|action|formaction|xlink:href|data|srcdoc)$/i.test(a.name)
        && /^\s*(javascript|vbscript|data:text\/html)/i.test(a.value.replace(/[\u0000-\u0020]/g, ''))) {
        bad.push(`a script URL in ${a.name}: ${show(el)}`);
      }
    }
  }
  for (const el of document.querySelectorAll('a[href^="javascript:" i], [src^="javascript:" i]')) bad.push(`javascript: URL: ${show(el)}`);
  for (const el of document.querySelectorAll('script:not([src])')) {
    if ((el.type || '').toLowerCase() !== 'importmap') bad.push(`an inline script: ${show(el)}`);
  }
  for (const el of document.querySelectorAll('img[src="x"], svg[onload]')) bad.push(`payload markup: ${show(el)}`);
  for (const el of document.querySelectorAll('iframe')) {
    const sb = el.getAttribute('sandbox');
    if (el.hasAttribute('srcdoc') && (sb === null || /allow-scripts/i.test(sb))) bad.push(`an iframe whose srcdoc may run scripts: ${show(el)}`);
  }
  return [...new Set(bad)];
}

async function eachFrame(page, fn) {
  const out = [];
  for (const f of page.frames()) {
    try { out.push(await f.evaluate(fn)); } catch { /* a frame that went away */ }
  }
  return out;
}

async function hits(page) {
  return (await eachFrame(page, () => window.__hits || [])).flat();
}

// The payload numbers of `expect` not (yet) on the page as text; waits up
// to `timeout` for them (lists render after their fetch).
async function missingText(page, cfg, expect, timeout = 15000) {
  const end = Date.now() + timeout;
  let missing = expect;
  for (;;) {
    const text = (await eachFrame(page, frameText)).join('\n');
    missing = expect.filter((n) => !text.includes(cfg.payloads[n].toLowerCase()));
    if (!missing.length || Date.now() > end) return missing;
    await page.waitForTimeout(250);
  }
}

async function act(page, cfg, a) {
  let scope = page;
  if (a.row_of) scope = page.getByRole('row').filter({ hasText: cfg.payloads[a.row_of] });
  const target = (a.role === 'text' ? scope.getByText(a.name, { exact: true }) : scope.getByRole(a.role, { name: new RegExp(a.name) })).first();
  await target.click();
  await page.waitForTimeout(300);
  await settle(page);
}

async function visit(run, cfg, page, v, shown) {
  const url = cfg.base + v.path;
  const label = `${v.name} (${v.who})`;
  await run.step(`visit ${label}`, url, async () => {
    await page.setViewportSize({ width: 1280, height: 800 });
    const res = await page.goto(v.path, { waitUntil: 'load' });
    if (!res || res.status() !== 200) throw new Error(`HTTP ${res ? res.status() : 'none'}`);
    await settle(page);
    await viewerSettled(page);
    for (const a of v.actions) await act(page, cfg, a);
  });
  await run.step(`shows ${label}`, url, async () => {
    const missing = await missingText(page, cfg, v.expect);
    for (const n of v.expect) if (!missing.includes(n)) shown.add(n);
    if (missing.length) {
      throw new Error(`payloads not on the page as text: ${missing.map((n) => `#${n} ${cfg.fields[n]}`).join('; ')}`);
    }
    // what an iframe (the mail preview) must show as its own text
    if (v.in_frame.length) {
      const framed = (await eachFrame(page, () => (window === window.top ? '' : document.body.innerText.toLowerCase()))).join('\n');
      const absent = v.in_frame.filter((n) => !framed.includes(cfg.payloads[n].toLowerCase()));
      if (absent.length) throw new Error(`not shown as text in a frame: ${absent.map((n) => `#${n} ${cfg.fields[n]}`).join('; ')}`);
    }
  });
  // Payloads that ran on load or on their tab (onerror and onload fire
  // when the element is made) have done so by now.
  await run.step(`no script ran ${label}`, url, async () => {
    const ran = await hits(page);
    const problems = [];
    if (ran.length) problems.push(`window.__xss ran for ${[...new Set(ran)].map((n) => `#${n} ${cfg.fields[n] || '?'}`).join('; ')}`);
    if (page.dialogs.length) problems.push(`dialogs opened: ${page.dialogs.splice(0).join('; ')}`);
    const markup = (await eachFrame(page, frameMarkup)).flat();
    if (markup.length) problems.push(`markup a payload made:\n  ${markup.join('\n  ')}`);
    if (problems.length) throw new Error(problems.join('\n'));
  });
  if (v.shot) {
    await run.step(`screenshots ${label}`, url, async () => {
      for (const width of SHOT_WIDTHS) {
        await page.setViewportSize({ width, height: HEIGHTS[width] });
        await page.waitForTimeout(200);
        await page.screenshot({ path: screenshotPath(cfg, `xss-${v.name}`, width), fullPage: true });
      }
      await page.setViewportSize({ width: 1280, height: 800 });
    });
  }
}

await runScript('xss-sweep', async (run, cfg) => {
  const shown = new Set();
  const pages = {};
  const signers = {
    anon: async () => {},
    creator: (p) => signIn(p, cfg, cfg.creator.email, cfg.creator.password),
    buyer: (p) => signIn(p, cfg, cfg.buyer.email, cfg.buyer.password),
    admin: (p) => adminSignIn(p, cfg, cfg.admin, '/admin/models'),
  };
  // one context per viewer, the viewers side by side (each waits on the
  // server far more than on the CPU)
  const groups = {};
  for (const v of cfg.visits) (groups[v.who] ||= []).push(v);
  await Promise.all(Object.entries(groups).map(async ([who, visits]) => {
    const p = await contextFor(cfg);
    pages[who] = (await run.step(`sign in as ${who}`, cfg.base, () => signers[who](p).then(() => true))) ? p : null;
    if (pages[who]) for (const v of visits) await visit(run, cfg, p, v, shown);
  }));
  // anything that ran late (a live update, a lazy image) after all visits
  for (const [who, p] of Object.entries(pages)) {
    if (!p) continue;
    const ran = await hits(p);
    if (ran.length || p.dialogs.length) run.fail(`late scripts (${who})`, p.url(), `hits ${ran.join(',')}; dialogs ${p.dialogs.join('; ')}`);
  }
  run.extra.shown = [...shown];
});
