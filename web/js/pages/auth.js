// auth.js: the sign-in page (/auth) and the password reset page
// (/auth/reset-password?token=…).
//
// /auth shows one step at a time, chosen by ?mode=: signin (default),
// signup, forgot, verify (the mailed 6-digit code).  A login answered 403
// EMAIL_NOT_VERIFIED leads to the verify step.  OAuth: the authorize URL
// comes from the server with a single-use state, kept in sessionStorage with
// the provider; the provider sends the browser back to /auth?code=&state=,
// and this page posts them.  After signing in, ?next= (a same-site path)
// or /dashboard.
//
// The form pieces (Field, FormError, useSubmit, useCooldown) are exported
// for the settings page; they and the sign-in, code and reset pieces
// (SignInFields, useResend, ResendButton, ResendStatus, ResetPasswordForm)
// also serve the admin sign-in (pages/admin/auth.js).
import { useEffect, useState } from 'preact/hooks';
import { api, isAbort } from '../api.js';
import { navigate } from '../nav.js';
import { signedIn, useSession } from '../session.js';
import { html, useLoad, Loading, ErrorBox } from '../ui.js';

const OAUTH_KEY = 'hwc3d.oauth';
const RESEND_SECONDS = 60;
const USER_PATHS = [
  ['buyer', 'Buy 3D models', 'Browse, buy and download models.'],
  ['creator', 'Sell my 3D models', 'Upload models, set prices and get paid. You can buy too.'],
];

// ---------------------------------------------------------------- form pieces

// A same-site path for ?next=, else the fallback: "/x" yes; "//x", "/\x",
// "https://x" no.
export function safeNext(next, fallback = '/dashboard') {
  if (typeof next !== 'string' || !next.startsWith('/') || next.startsWith('//') || next.startsWith('/\\'))
    return fallback;
  return next;
}

// Seconds to wait from a 429 (the body's detail says "Try again in N
// seconds"); 0 for anything else.
export function retryAfter(error) {
  if (!error || error.status !== 429) return 0;
  const m = /(\d+)\s*second/.exec(error.message || '');
  return m ? Number(m[1]) : 60;
}

// [seconds left, start(n)]: a countdown that ticks once a second.
export function useCooldown() {
  const [left, setLeft] = useState(0);
  useEffect(() => {
    if (left <= 0) return undefined;
    const t = setTimeout(() => setLeft(left - 1), 1000);
    return () => clearTimeout(t);
  }, [left]);
  return [left, (n) => setLeft(Math.max(0, Math.ceil(n)))];
}

// {busy, error, fields, done, onSubmit, wait}: runs fn(formData, form) on
// submit; an ApiError's field_errors go to `fields` (shown by Field), the
// rest to `error` (shown by FormError); a 429 starts the `wait` countdown.
export function useSubmit(fn) {
  const [state, setState] = useState({ busy: false, error: null, fields: {}, done: null });
  const [wait, startWait] = useCooldown();
  const onSubmit = async (e) => {
    e.preventDefault();
    if (state.busy || wait > 0) return;
    setState({ busy: true, error: null, fields: {}, done: null });
    try {
      const done = await fn(new FormData(e.target), e.target);
      setState({ busy: false, error: null, fields: {}, done: done === undefined ? true : done });
    } catch (error) {
      if (isAbort(error)) return;
      const fields = error.field_errors || {};
      startWait(retryAfter(error));
      setState({ busy: false, error, fields, done: null });
    }
  };
  const setFields = (fields, message) => setState({
    busy: false, fields, done: null, error: { message, field_errors: fields },
  });
  return { ...state, onSubmit, wait, setFields };
}

function errorText(errors) {
  if (!errors) return '';
  return Array.isArray(errors) ? errors.join(' ') : String(errors);
}

// A labelled control with its hint and field error, linked by
// aria-describedby.  `as` is the element ("input", "textarea", "select");
// the rest goes to it.
export function Field({ id, label, errors, hint, as = 'input', children, class: cls, ...control }) {
  const err = errorText(errors);
  const hintId = hint ? `${id}-hint` : null;
  const errId = err ? `${id}-error` : null;
  const describedBy = [hintId, errId].filter(Boolean).join(' ') || undefined;
  return html`<div class=${`field${cls ? ` ${cls}` : ''}`}>
    <label for=${id}>${label}</label>
    <${as} id=${id} aria-invalid=${err ? 'true' : undefined} aria-describedby=${describedBy} ...${control}>${children}<//>
    ${hint && html`<small class="field-hint" id=${hintId}>${hint}</small>`}
    ${err && html`<small class="field-error" id=${errId}>${err}</small>`}
  </div>`;
}

// The form-wide error: the server's detail, field errors of fields the
// form does not show, and the 429 countdown.
export function FormError({ error, wait = 0, shown = [] }) {
  if (!error) return null;
  const others = Object.entries(error.field_errors || {})
    .filter(([k]) => !shown.includes(k))
    .map(([, v]) => errorText(v));
  // The countdown stays outside the alert, which would re-announce every tick.
  return html`<div class="form-error">
    <div class="state error" role="alert">
      <p>${error.message || 'Something went wrong.'}</p>
      ${others.map((t) => html`<p>${t}</p>`)}
    </div>
    ${wait > 0 && html`<p class="wait">You can try again in ${wait} s.</p>`}
  </div>`;
}

export function Notice({ children }) {
  return html`<div class="state notice" role="status">${children}</div>`;
}

export function SubmitButton({ busy, wait, label, busyLabel }) {
  return html`<button type="submit" disabled=${busy || wait > 0}>
    ${busy ? busyLabel : label}
  </button>`;
}

// The error, email, password and "Forgot your password?" link of a sign-in
// form (useSubmit's f); ids `${idPrefix}-email` and `${idPrefix}-password`.
export function SignInFields({ f, idPrefix, email, emailAutocomplete = 'email', forgotHref }) {
  return html`<${FormError} error=${f.error} wait=${f.wait} shown=${['email', 'password']} />
    <${Field} id=${`${idPrefix}-email`} label="Email" name="email" type="email" autocomplete=${emailAutocomplete} required
      defaultValue=${email} errors=${f.fields.email} />
    <${Field} id=${`${idPrefix}-password`} label="Password" name="password" type="password" autocomplete="current-password"
      required errors=${f.fields.password} />
    <p class="aside"><a href=${forgotHref}>Forgot your password?</a></p>`;
}

// {left, resent, start(n), run(send)}: the "Resend code" of a code step.
// run(send) awaits send() (the request), then holds the button for
// RESEND_SECONDS, or for a 429's delay; `resent` is {ok} or {error}.
export function useResend() {
  const [left, startCooldown] = useCooldown();
  const [resent, setResent] = useState(null);
  const start = (n = RESEND_SECONDS) => startCooldown(n);
  const run = async (send) => {
    setResent(null);
    try {
      await send();
      setResent({ ok: true });
      start();
    } catch (err) {
      if (isAbort(err)) return;
      setResent({ error: err });
      start(retryAfter(err));
    }
  };
  return { left, resent, start, run };
}

export function ResendButton({ resend, onClick }) {
  return html`<button type="button" class="secondary" onClick=${onClick} disabled=${resend.left > 0}>
    ${resend.left > 0 ? `Resend code (${resend.left} s)` : 'Resend code'}
  </button>`;
}

// What became of the last resend: `sent` (announced) or its error.
export function ResendStatus({ resend, sent }) {
  const { resent } = resend;
  return html`<p class="sr-live" role="status" aria-live="polite">
      ${resent && resent.ok ? sent : ''}
    </p>
    ${resent && resent.error && html`<${FormError} error=${resent.error} wait=${resend.left} />`}`;
}

// ---------------------------------------------------------------- helpers

function authUrl(mode, query, extra = {}) {
  const q = new URLSearchParams();
  if (mode !== 'signin') q.set('mode', mode);
  const next = query.get('next');
  if (next) q.set('next', next);
  for (const [k, v] of Object.entries(extra)) if (v) q.set(k, v);
  const s = q.toString();
  return s ? `/auth?${s}` : '/auth';
}

async function finish(body, query) {
  await signedIn(body);
  navigate(safeNext(query.get('next')), { replace: true });
}

function sendCode(email, signal) {
  return api('/api/auth/resend-verification', { method: 'POST', body: { email }, signal });
}

// ---------------------------------------------------------------- OAuth

function redirectUri() {
  return `${location.origin}/auth`;
}

// SocialAuthButtons: one button per configured provider (none when the
// list cannot be loaded: email sign-in still works).
function SocialAuthButtons({ signal, query, userType }) {
  const list = useLoad((sig) => api('/api/auth/oauth/providers', { signal: sig }), signal);
  const [busy, setBusy] = useState('');
  const [error, setError] = useState(null);
  if (list.loading || list.error || !list.data.providers.length) return null;
  const start = async (p) => {
    setBusy(p.name);
    setError(null);
    try {
      const r = await api(`/api/auth/oauth/${p.name}/authorize-url`, { query: { redirect_uri: redirectUri() }, signal });
      sessionStorage.setItem(OAUTH_KEY, JSON.stringify({
        provider: p.name, label: p.label, state: r.state, next: query.get('next') || '', user_type: userType || 'buyer',
      }));
      location.assign(r.url);
    } catch (err) {
      if (isAbort(err)) return;
      setBusy('');
      setError(err);
    }
  };
  return html`<div class="social">
    <p class="divider"><span>or</span></p>
    <ul class="social-buttons">
      ${list.data.providers.map((p) => html`<li key=${p.name}>
        <button type="button" class=${`secondary oauth-${p.name}`} disabled=${!!busy} onClick=${() => start(p)}>
          ${busy === p.name ? `Opening ${p.label}…` : `Continue with ${p.label}`}
        </button>
      </li>`)}
    </ul>
    <${FormError} error=${error} wait=${retryAfter(error)} />
  </div>`;
}

// The provider sent the browser back here with ?code=&state= (or ?error=).
function OAuthCallback({ query, signal }) {
  const [error, setError] = useState(null);
  const [label, setLabel] = useState('the provider');
  useEffect(() => {
    let saved = null;
    try { saved = JSON.parse(sessionStorage.getItem(OAUTH_KEY) || 'null'); } catch { saved = null; }
    try { sessionStorage.removeItem(OAUTH_KEY); } catch { /* private mode */ }
    if (saved && saved.label) setLabel(saved.label);
    if (query.get('error')) {
      setError({ message: query.get('error') === 'access_denied'
        ? 'Sign-in was cancelled.' : `Sign-in failed (${query.get('error')}).` });
      return;
    }
    if (!saved || saved.state !== query.get('state')) {
      setError({ message: 'This sign-in attempt is unknown or has expired. Please start again.' });
      return;
    }
    api(`/api/auth/oauth/${encodeURIComponent(saved.provider)}`, {
      method: 'POST', signal,
      body: { code: query.get('code'), state: saved.state, redirect_uri: redirectUri(), user_type: saved.user_type },
    }).then(async (body) => {
      await signedIn(body);
      navigate(safeNext(saved.next), { replace: true });
    }, (err) => { if (!isAbort(err)) setError(err); });
  }, []);
  return html`<section class="page narrow auth">
    <h1>Signing you in</h1>
    ${error
      ? html`<${FormError} error=${error} wait=${retryAfter(error)} />
        <p><a href="/auth">Back to sign in</a></p>`
      : html`<${Loading} label=${`Finishing sign-in with ${label}…`} />`}
  </section>`;
}

// ---------------------------------------------------------------- steps

function SignInForm({ query, onUnverified }) {
  const f = useSubmit(async (data) => {
    const email = data.get('email').trim();
    try {
      const body = await api('/api/auth/login', { method: 'POST', body: { email, password: data.get('password') } });
      await finish(body, query);
    } catch (err) {
      if (err.status === 403 && err.error_code === 'EMAIL_NOT_VERIFIED') {
        onUnverified(email);
        return;
      }
      throw err;
    }
  });
  return html`<form class="stack" onSubmit=${f.onSubmit} novalidate>
    <${SignInFields} f=${f} idPrefix="signin" email=${query.get('email') || ''} forgotHref=${authUrl('forgot', query)} />
    <${SubmitButton} busy=${f.busy} wait=${f.wait} label="Sign in" busyLabel="Signing in…" />
  </form>`;
}

// UserPathSelector: buyer or creator, as a radio group.
function UserPathSelector({ value, onChange, errors }) {
  const err = errorText(errors);
  return html`<fieldset class="paths" aria-describedby=${err ? 'signup-type-error' : undefined}>
    <legend>I want to</legend>
    ${USER_PATHS.map(([v, label, hint]) => html`<label class=${`path${value === v ? ' chosen' : ''}`} key=${v}>
      <input type="radio" name="user_type" value=${v} checked=${value === v} onChange=${() => onChange(v)} />
      <span><strong>${label}</strong><small>${hint}</small></span>
    </label>`)}
    ${err && html`<small class="field-error" id="signup-type-error">${err}</small>`}
  </fieldset>`;
}

function SignUpForm({ query, userType, setUserType, onRegistered }) {
  const f = useSubmit(async (data) => {
    const body = {
      email: data.get('email').trim(), password: data.get('password'),
      username: data.get('username').trim().toLowerCase(), user_type: userType,
    };
    const name = data.get('full_name').trim();
    if (name) body.full_name = name;
    await api('/api/auth/register', { method: 'POST', body });
    onRegistered(body.email);
  });
  const shown = ['email', 'password', 'username', 'full_name', 'user_type'];
  return html`<form class="stack" onSubmit=${f.onSubmit} novalidate>
    <${FormError} error=${f.error} wait=${f.wait} shown=${shown} />
    <${UserPathSelector} value=${userType} onChange=${setUserType} errors=${f.fields.user_type} />
    <${Field} id="signup-username" label="Username" name="username" autocomplete="username" required
      minlength="3" maxlength="30" pattern="[a-z0-9_]{3,30}" autocapitalize="none" spellcheck="false"
      hint="3 to 30 characters: lowercase letters, digits and _" errors=${f.fields.username} />
    <${Field} id="signup-name" label="Full name (optional)" name="full_name" autocomplete="name" maxlength="100"
      errors=${f.fields.full_name} />
    <${Field} id="signup-email" label="Email" name="email" type="email" autocomplete="email" required
      errors=${f.fields.email} />
    <${Field} id="signup-password" label="Password" name="password" type="password" autocomplete="new-password"
      required minlength="12" maxlength="128" hint="At least 12 characters; common passwords are refused"
      errors=${f.fields.password} />
    <${SubmitButton} busy=${f.busy} wait=${f.wait} label="Create account" busyLabel="Creating your account…" />
  </form>`;
}

// OTPInput with resend: the code mailed to `email` (asked for when unknown).
function VerifyForm({ query, email: known, sent, signal }) {
  const resend = useResend();
  useEffect(() => {
    if (sent) resend.start();
    const input = document.getElementById(known ? 'otp-code' : 'verify-email');
    if (input) input.focus();
  }, []);
  const f = useSubmit(async (data) => {
    const email = known || data.get('email').trim();
    const body = await api('/api/auth/verify-email', { method: 'POST', body: { email, code: data.get('code').trim() } });
    await finish(body, query);
  });
  const onResend = () => {
    const input = document.getElementById('verify-email');
    const email = known || (input && input.value.trim());
    if (!email) {
      f.setFields({ email: ['Enter your email first'] }, 'Enter the email you signed up with.');
      return;
    }
    resend.run(() => sendCode(email, signal));
  };
  return html`<form class="stack" onSubmit=${f.onSubmit} novalidate>
    ${known
      ? html`<p>We sent a 6-digit code to <strong class="email">${known}</strong>. It is valid for 10 minutes.</p>`
      : html`<${Field} id="verify-email" label="Email" name="email" type="email" autocomplete="email" required
          defaultValue=${query.get('email') || ''} errors=${f.fields.email} />`}
    <${FormError} error=${f.error} wait=${f.wait} shown=${['code', 'email']} />
    <${Field} id="otp-code" class="otp" label="Verification code" name="code" inputmode="numeric"
      autocomplete="one-time-code" pattern="[0-9]{6}" maxlength="6" required
      hint="The 6 digits from the email" errors=${f.fields.code} />
    <div class="actions">
      <${SubmitButton} busy=${f.busy} wait=${f.wait} label="Verify" busyLabel="Verifying…" />
      <${ResendButton} resend=${resend} onClick=${onResend} />
    </div>
    <${ResendStatus} resend=${resend} sent="A new code is on its way. Codes can take a minute to arrive." />
  </form>`;
}

function ForgotForm({ query }) {
  const f = useSubmit(async (data) => {
    const email = data.get('email').trim();
    await api('/api/auth/forgot-password', { method: 'POST', body: { email } });
    return email;
  });
  if (f.done) {
    return html`<${Notice}>
      <p>If an account exists for <strong class="email">${f.done}</strong>, we have mailed it a link to set a new
        password. The link works once, for 30 minutes.</p>
      <p><a href=${authUrl('signin', query)}>Back to sign in</a></p>
    <//>`;
  }
  return html`<form class="stack" onSubmit=${f.onSubmit} novalidate>
    <p>Enter your account's email and we will mail you a link to set a new password.</p>
    <${FormError} error=${f.error} wait=${f.wait} shown=${['email']} />
    <${Field} id="forgot-email" label="Email" name="email" type="email" autocomplete="email" required
      defaultValue=${query.get('email') || ''} errors=${f.fields.email} />
    <${SubmitButton} busy=${f.busy} wait=${f.wait} label="Send reset link" busyLabel="Sending…" />
    <p class="aside"><a href=${authUrl('signin', query)}>Back to sign in</a></p>
  </form>`;
}

function Tabs({ mode, query }) {
  const tab = (m, label) => html`<a href=${authUrl(m, query)} aria-current=${mode === m ? 'page' : undefined}>${label}</a>`;
  return html`<nav class="tabs" aria-label="Sign in or create an account">
    ${tab('signin', 'Sign in')}${tab('signup', 'Create account')}
  </nav>`;
}

const TITLES = {
  signin: 'Sign in', signup: 'Create your account', forgot: 'Forgot your password?', verify: 'Check your email',
};

function AuthSteps({ query, signal }) {
  const { user } = useSession();
  const asked = query.get('mode');
  const [step, setStep] = useState({
    mode: TITLES[asked] ? asked : 'signin', email: asked === 'verify' ? '' : null, sent: false, note: '',
  });
  const [userType, setUserType] = useState(query.get('type') === 'creator' ? 'creator' : 'buyer');
  const { mode } = step;
  useEffect(() => { document.title = `${TITLES[mode]} · HWC3D`; }, [mode]);

  const onUnverified = async (email) => {
    setStep({ mode: 'verify', email, sent: true, note: 'Your email is not verified yet. We sent you a new code.' });
    try { await sendCode(email, signal); } catch { /* the resend button shows any problem */ }
  };
  const onRegistered = (email) => setStep({ mode: 'verify', email, sent: true, note: 'Your account is created.' });

  let body;
  if (mode === 'signup')
    body = html`<${SignUpForm} query=${query} userType=${userType} setUserType=${setUserType} onRegistered=${onRegistered} />`;
  else if (mode === 'forgot') body = html`<${ForgotForm} query=${query} />`;
  else if (mode === 'verify') body = html`<${VerifyForm} query=${query} email=${step.email} sent=${step.sent} signal=${signal} />`;
  else body = html`<${SignInForm} query=${query} onUnverified=${onUnverified} />`;

  return html`<section class="page narrow auth">
    <h1>${TITLES[mode]}</h1>
    ${user && mode !== 'verify' && html`<${Notice}>
      <p>You are signed in as <strong>@${user.username}</strong>.
        <a href=${safeNext(query.get('next'))}>Continue</a></p>
    <//>`}
    ${(mode === 'signin' || mode === 'signup') && html`<${Tabs} mode=${mode} query=${query} />`}
    ${step.note && html`<p class="note" role="status">${step.note}</p>`}
    ${body}
    ${(mode === 'signin' || mode === 'signup') && html`<${SocialAuthButtons} signal=${signal} query=${query}
      userType=${mode === 'signup' ? userType : 'buyer'} />`}
    ${mode === 'verify' && html`<p class="aside"><a href=${authUrl('signin', query)}>Back to sign in</a></p>`}
  </section>`;
}

export function AuthPage({ query, signal }) {
  if (query.get('code') || query.get('error')) return html`<${OAuthCallback} query=${query} signal=${signal} />`;
  return html`<${AuthSteps} query=${query} signal=${signal} />`;
}

// ---------------------------------------------------------------- reset

// The body of a reset-password page: the new password typed twice, posted
// with the link's ?token= to `endpoint`; `children` once it is set.  Ids
// `${idPrefix}-password` and `${idPrefix}-repeat`; `forgotHref` asks for a
// new link.
export function ResetPasswordForm({ query, endpoint, idPrefix, forgotHref, children }) {
  const token = query.get('token') || '';
  const f = useSubmit(async (data) => {
    const password = data.get('new_password');
    if (password !== data.get('repeat')) {
      const e = new Error('The two passwords differ.');
      e.field_errors = { repeat: ['Type the same password twice'] };
      throw e;
    }
    await api(endpoint, { method: 'POST', body: { token, new_password: password } });
  });
  if (!token) {
    return html`<${ErrorBox} error=${{ message: 'This link has no reset token. Open the link from the email again, or ask for a new one.' }} />
      <p><a href=${forgotHref}>Ask for a new link</a></p>`;
  }
  if (f.done) return html`<${Notice}>${children}<//>`;
  return html`<form class="stack" onSubmit=${f.onSubmit} novalidate>
    <${FormError} error=${f.error} wait=${f.wait} shown=${['new_password', 'repeat']} />
    ${f.fields.token && html`<p><a href=${forgotHref}>Ask for a new link</a></p>`}
    <${Field} id=${`${idPrefix}-password`} label="New password" name="new_password" type="password" autocomplete="new-password"
      required minlength="12" maxlength="128" hint="At least 12 characters; common passwords are refused"
      errors=${f.fields.new_password} />
    <${Field} id=${`${idPrefix}-repeat`} label="Repeat password" name="repeat" type="password" autocomplete="new-password"
      required errors=${f.fields.repeat} />
    <${SubmitButton} busy=${f.busy} wait=${f.wait} label="Set new password" busyLabel="Saving…" />
  </form>`;
}

export function ResetPasswordPage({ query }) {
  return html`<section class="page narrow auth">
    <h1>Set a new password</h1>
    <${ResetPasswordForm} query=${query} endpoint="/api/auth/reset-password" idPrefix="reset" forgotHref="/auth?mode=forgot">
      <p>Your password is changed, and every other session has been signed out.</p>
      <p><a class="button" href="/auth">Sign in with your new password</a></p>
    <//>
  </section>`;
}
