// lib.mjs: what the end-to-end scripts share.
//
// Each script (pages.mjs, refresh.mjs, main-flow.mjs) is run by
// tests/api/test_browser.py as `node tests/e2e/<script>.mjs '<json>'` against
// a server that the pytest fixture started.  The JSON argument carries the
// base URL, the users and the ids the script needs, and the screenshot
// folder.  The script prints exactly one JSON line on stdout:
//   {"ok": bool, "failures": [{"step", "url", "message"}], "steps": [...], ...}
// and Python asserts on it, so a failure names its step and its URL.
//
// One Chromium per script (Debian's /usr/bin/chromium, headless, a fresh
// user-data dir), WebGL through SwiftShader so that the 3D viewer renders.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from '../../node_modules/playwright-core/index.mjs';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const AXE = path.join(REPO, 'node_modules', 'axe-core', 'axe.min.js');

export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
  '--disable-sync', '--no-first-run',
  // WebGL headless: ANGLE on SwiftShader (Vulkan), which Chromium no longer
  // falls back to on its own without the "unsafe" opt-in.
  '--use-angle=swiftshader', '--enable-unsafe-swiftshader',
];
export const WIDTHS = [1280, 390];
const HEIGHTS = { 1280: 800, 390: 844 };

// The script's input: the JSON argument, or HWC3D_E2E (env).
export function input() {
  const raw = process.argv[2] || process.env.HWC3D_E2E;
  if (!raw) throw new Error('usage: node <script>.mjs \'{"base": "http://127.0.0.1:PORT", ...}\'');
  const cfg = JSON.parse(raw);
  if (!cfg.base) throw new Error('the input has no "base" URL');
  cfg.base = cfg.base.replace(/\/+$/, '');
  return cfg;
}

// A run: its steps, its failures, and the one line it prints at the end.
export class Run {
  constructor(name) {
    this.name = name;
    this.steps = [];
    this.failures = [];
    this.extra = {};
    this.started = Date.now();
  }

  fail(step, url, message) {
    this.failures.push({ step, url: url || '', message: String(message).slice(0, 2000) });
  }

  // Runs fn as a named step; a throw becomes a failure of that step.  Returns
  // fn's value, or undefined after a failure.
  async step(name, url, fn) {
    const t = Date.now();
    try {
      const v = await fn();
      this.steps.push({ step: name, ms: Date.now() - t, ok: true });
      process.stderr.write(`${((Date.now() - this.started) / 1000).toFixed(1)}s ok ${name} (${Date.now() - t} ms)\n`);
      return v;
    } catch (err) {
      this.steps.push({ step: name, ms: Date.now() - t, ok: false });
      process.stderr.write(`${((Date.now() - this.started) / 1000).toFixed(1)}s FAILED ${name} (${Date.now() - t} ms)\n`);
      this.fail(name, typeof url === 'function' ? url() : url, (err && err.stack) || err);
      return undefined;
    }
  }

  print() {
    const out = {
      script: this.name, ok: this.failures.length === 0, failures: this.failures,
      steps: this.steps, seconds: (Date.now() - this.started) / 1000, ...this.extra,
    };
    process.stdout.write(`${JSON.stringify(out)}\n`);
  }
}

// Runs main(run, cfg) and prints the result line whatever happens; the exit
// code is 0 when the line says ok, 1 otherwise.
export async function runScript(name, main) {
  const run = new Run(name);
  let cfg = null;
  try {
    cfg = input();
    await main(run, cfg);
  } catch (err) {
    run.fail('script', cfg && cfg.base, (err && err.stack) || err);
  } finally {
    await closeBrowser();
  }
  run.print();
  process.exit(run.failures.length ? 1 : 0);
}

// ---------------------------------------------------------------- the browser

let browser = null;

// One browser for the whole script.  playwright's launch() gives Chromium a
// fresh temporary user-data dir (and removes it on close); contexts made by
// newPage() are isolated from each other (cookies, localStorage).
export async function launch() {
  if (browser) return browser;
  if (!fs.existsSync(CHROMIUM)) throw new Error(`Chromium is missing at ${CHROMIUM}`);
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
  return browser;
}

async function closeBrowser() {
  if (browser) {
    try { await browser.close(); } catch { /* already gone */ }
    browser = null;
  }
}

// A new context and page at `width`, with the console watched: every console
// error and page error is kept in page.problems (cleared by takeProblems()).
export async function newPage(cfg, width = 1280) {
  const b = await launch();
  const context = await b.newContext({
    baseURL: cfg.base, viewport: { width, height: HEIGHTS[width] || 800 },
    deviceScaleFactor: 1, locale: 'en-GB', timezoneId: 'UTC',
  });
  context.setDefaultTimeout(cfg.timeout_ms || 10000);
  const page = await context.newPage();
  watchConsole(page);
  return page;
}

export function watchConsole(page) {
  page.problems = [];
  page.on('console', (msg) => {
    if (msg.type() !== 'error') return;
    const loc = msg.location();
    page.problems.push(`console error: ${msg.text()}${loc && loc.url ? ` (${loc.url}:${loc.lineNumber})` : ''}`);
  });
  page.on('pageerror', (err) => page.problems.push(`page error: ${err.message}`));
  page.on('crash', () => page.problems.push('the page crashed'));
  // Requests still waiting for their answer (its headers).  Playwright's
  // 'networkidle' also waits for bodies nobody reads, which never ends.
  page.inflight = new Set();
  page.on('request', (r) => page.inflight.add(r));
  page.on('response', (r) => page.inflight.delete(r.request()));
  page.on('requestfailed', (r) => page.inflight.delete(r));
}

// Resolves once no request has been waiting for an answer for quietMs, or
// after timeout (not an error: a viewer may stream).
async function networkQuiet(page, { quietMs = 400, timeout = 5000 } = {}) {
  const end = Date.now() + timeout;
  let quietSince = Date.now();
  while (Date.now() < end) {
    if (page.inflight.size) quietSince = Date.now();
    else if (Date.now() - quietSince >= quietMs) return;
    await new Promise((r) => setTimeout(r, 50));
  }
}

// The console problems since the last call.
export function takeProblems(page) {
  const p = page.problems.splice(0);
  return p;
}

// ---------------------------------------------------------------- pages

// Waits until the page has settled: the router rendered a page with an h1,
// no "Loading" status is left, nothing is aria-busy, and no request is
// waiting for its answer (best effort: a viewer may stream).
export async function settle(page, { timeout = 45000 } = {}) {
  await page.waitForLoadState('load', { timeout });
  await page.waitForFunction(() => {
    const main = document.getElementById('app');
    if (!main || !main.querySelector('h1')) return false;
    const loading = [...document.querySelectorAll('[role="status"], .loading')]
      .some((e) => /loading/i.test(e.textContent || '') || e.classList.contains('loading'));
    return !loading && !document.querySelector('[aria-busy="true"]');
  }, null, { timeout, polling: 100 });
  await networkQuiet(page);
  // fonts and lazy images of the first screen
  await page.evaluate(() => document.fonts && document.fonts.ready);
}

// The text of the page's h1 (its first).
export async function heading(page) {
  return (await page.locator('main h1').first().textContent() || '').trim();
}

// True when the page is the client's placeholder for pages not built yet.
export async function isPlaceholder(page) {
  return /^not available yet$/i.test(await heading(page));
}

let axeSource = null;

// axe-core's violations of impact serious or critical, as strings naming the
// rule and its targets.  The page's CSP forbids inline scripts, so axe is
// evaluated through the DevTools protocol rather than a <script> tag.
export async function axeViolations(page) {
  if (!axeSource) axeSource = fs.readFileSync(AXE, 'utf8');
  if (!(await page.evaluate(() => typeof window.axe === 'object'))) await page.evaluate(axeSource);
  const violations = await page.evaluate(async () => {
    const r = await window.axe.run(document, { resultTypes: ['violations'] });
    return r.violations.map((v) => ({
      id: v.id, impact: v.impact, help: v.help,
      targets: v.nodes.slice(0, 5).map((n) => n.target.join(' ')),
    }));
  });
  return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `axe ${v.impact} ${v.id} (${v.help}) at ${v.targets.join(', ')}`);
}

// True when the page scrolls sideways.
export async function overflow(page) {
  return page.evaluate(() => {
    const el = document.scrollingElement || document.documentElement;
    return el.scrollWidth > window.innerWidth
      ? `the page is ${el.scrollWidth}px wide in a ${window.innerWidth}px viewport` : '';
  });
}

// build/screenshots/<engine>/<name>-<width>.png
export function screenshotPath(cfg, name, width) {
  const dir = cfg.screenshots || path.join(REPO, 'build', 'screenshots', cfg.engine || 'local');
  fs.mkdirSync(dir, { recursive: true });
  return path.join(dir, `${name}-${width}.png`);
}

// Signs in as a user: POST /api/auth/login from the page, so the browser keeps
// the refresh cookie; the client's session flag is set, and a reload then
// restores the session from the cookie, as it would for a returning visitor.
export async function signIn(page, cfg, email, password) {
  await page.goto('/', { waitUntil: 'load' });
  const r = await page.evaluate(async ({ email, password }) => {
    const res = await fetch('/api/auth/login', {
      method: 'POST', credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
      body: JSON.stringify({ email, password }),
    });
    if (res.ok) localStorage.setItem('hwc3d.session', '1');
    return { status: res.status, body: await res.text() };
  }, { email, password });
  if (r.status !== 200) throw new Error(`POST /api/auth/login answered ${r.status}: ${r.body.slice(0, 300)}`);
  const refreshed = page.waitForResponse((res) => new URL(res.url()).pathname === '/api/auth/refresh',
    { timeout: 10000 }).catch(() => null);
  await page.reload({ waitUntil: 'load' });
  const res = await refreshed;
  if (!res) throw new Error('after a reload the client did not POST /api/auth/refresh');
  if (res.status() !== 200) {
    // (the client may leave the body unread, and then it never arrives)
    const body = await Promise.race([res.text().catch(() => ''), new Promise((r) => setTimeout(() => r('(body unread)'), 2000))]);
    throw new Error(`after a reload POST /api/auth/refresh answered ${res.status()}: ${body.slice(0, 300)}`
      + ` (the page's Origin was ${new URL(page.url()).origin})`);
  }
  await settle(page);
  await page.getByRole('button', { name: 'Sign out' }).first().waitFor({ state: 'attached', timeout: 5000 });
}
