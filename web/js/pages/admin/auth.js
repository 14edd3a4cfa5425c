// admin/auth.js: the admin sign-in (guide 1: /admin/login, password then
// the mailed 6-digit code: POST /api/auth/admin/login, then
// /api/auth/admin/verify-otp), /admin/forgot-password (POST
// /api/auth/admin/forgot-password) and /admin/reset-password?token=… (POST
// /api/auth/admin/reset-password).  The session is session.js's: the access
// token in memory, the refresh cookie, so a reload keeps the admin signed in.
import { useEffect, useState } from 'preact/hooks';
import { api, isAbort, tokenRole } from '../../api.js';
import { navigate } from '../../nav.js';
import { signedIn, useSession } from '../../session.js';
import { html, ErrorBox } from '../../ui.js';
import { Field, FormError, useSubmit, useCooldown, retryAfter, safeNext } from '../auth.js';

const RESEND_SECONDS = 60;

function Notice({ children }) {
  return html`<div class="state notice" role="status">${children}</div>`;
}

function Submit({ f, label, busyLabel }) {
  return html`<button type="submit" disabled=${f.busy || f.wait > 0}>${f.busy ? busyLabel : label}</button>`;
}

function nextOf(query) {
  return safeNext(query.get('next'), '/admin');
}

function PasswordStep({ query, onSent }) {
  const f = useSubmit(async (data) => {
    const email = data.get('email').trim();
    const password = data.get('password');
    await api('/api/auth/admin/login', { method: 'POST', body: { email, password } });
    onSent(email, password);
  });
  return html`<form class="stack" onSubmit=${f.onSubmit} novalidate>
    <${FormError} error=${f.error} wait=${f.wait} shown=${['email', 'password']} />
    <${Field} id="admin-email" label="Email" name="email" type="email" autocomplete="username" required
      defaultValue=${query.get('email') || ''} errors=${f.fields.email} />
    <${Field} id="admin-password" label="Password" name="password" type="password" autocomplete="current-password"
      required errors=${f.fields.password} />
    <p class="aside"><a href="/admin/forgot-password">Forgot your password?</a></p>
    <${Submit} f=${f} label="Continue" busyLabel="Checking…" />
  </form>`;
}

function CodeStep({ query, email, password, signal, onBack }) {
  const [resendLeft, startResend] = useCooldown();
  const [resent, setResent] = useState(null);
  useEffect(() => {
    startResend(RESEND_SECONDS);
    const input = document.getElementById('admin-code');
    if (input) input.focus();
  }, []);
  const f = useSubmit(async (data) => {
    const body = await api('/api/auth/admin/verify-otp', {
      method: 'POST', body: { email, code: data.get('code').trim() },
    });
    await signedIn(body);
    navigate(nextOf(query), { replace: true });
  });
  const resend = async () => {
    setResent(null);
    try {
      await api('/api/auth/admin/login', { method: 'POST', body: { email, password }, signal });
      setResent({ ok: true });
      startResend(RESEND_SECONDS);
    } catch (err) {
      if (isAbort(err)) return;
      setResent({ error: err });
      startResend(retryAfter(err));
    }
  };
  return html`<form class="stack" onSubmit=${f.onSubmit} novalidate>
    <p>We sent a 6-digit code to <strong class="email">${email}</strong>. Enter it to open the console.</p>
    <${FormError} error=${f.error} wait=${f.wait} shown=${['code']} />
    <${Field} id="admin-code" class="otp" label="Code from the email" name="code" inputmode="numeric"
      autocomplete="one-time-code" pattern="[0-9]{6}" maxlength="6" required hint="6 digits"
      errors=${f.fields.code} />
    <div class="actions">
      <${Submit} f=${f} label="Sign in" busyLabel="Signing in…" />
      <button type="button" class="secondary" onClick=${resend} disabled=${resendLeft > 0}>
        ${resendLeft > 0 ? `Resend code (${resendLeft} s)` : 'Resend code'}
      </button>
    </div>
    <p class="sr-live" role="status" aria-live="polite">${resent && resent.ok ? 'A new code is on its way.' : ''}</p>
    ${resent && resent.error && html`<${FormError} error=${resent.error} wait=${resendLeft} />`}
    <p class="aside"><button type="button" class="link" onClick=${onBack}>Use another account</button></p>
  </form>`;
}

export function AdminLoginPage({ query, signal }) {
  const { user } = useSession();
  const [step, setStep] = useState(null);
  const admin = user && user.role === 'admin' && tokenRole() === 'admin';
  return html`<section class="page narrow auth admin-auth">
    <h1>Admin sign-in</h1>
    ${admin && !step && html`<${Notice}>
      <p>You are signed in to the admin console as <strong>@${user.username}</strong>.
        <a href=${nextOf(query)}>Continue</a></p>
    <//>`}
    ${step
      ? html`<${CodeStep} query=${query} email=${step.email} password=${step.password} signal=${signal}
          onBack=${() => setStep(null)} />`
      : html`<${PasswordStep} query=${query} onSent=${(email, password) => setStep({ email, password })} />`}
  </section>`;
}

export function AdminForgotPasswordPage() {
  const f = useSubmit(async (data) => {
    const email = data.get('email').trim();
    await api('/api/auth/admin/forgot-password', { method: 'POST', body: { email } });
    return email;
  });
  return html`<section class="page narrow auth admin-auth">
    <h1>Reset the admin password</h1>
    ${f.done
      ? html`<${Notice}>
          <p>If <strong class="email">${f.done}</strong> belongs to an administrator, a link to set a new password is
            on its way. It works once, for 30 minutes.</p>
          <p><a href="/admin/login">Back to the admin sign-in</a></p>
        <//>`
      : html`<form class="stack" onSubmit=${f.onSubmit} novalidate>
          <p>Enter your admin email and we will mail you a link to set a new password.</p>
          <${FormError} error=${f.error} wait=${f.wait} shown=${['email']} />
          <${Field} id="admin-forgot-email" label="Email" name="email" type="email" autocomplete="email" required
            errors=${f.fields.email} />
          <${Submit} f=${f} label="Send reset link" busyLabel="Sending…" />
          <p class="aside"><a href="/admin/login">Back to the admin sign-in</a></p>
        </form>`}
  </section>`;
}

export function AdminResetPasswordPage({ query }) {
  const token = query.get('token') || '';
  const f = useSubmit(async (data) => {
    const password = data.get('new_password');
    if (password !== data.get('repeat')) {
      const e = new Error('The two passwords differ.');
      e.field_errors = { repeat: ['Type the same password twice'] };
      throw e;
    }
    await api('/api/auth/admin/reset-password', { method: 'POST', body: { token, new_password: password } });
  });
  let body;
  if (!token) {
    body = html`<${ErrorBox} error=${{ message: 'This link has no reset token. Open the link from the email again, or ask for a new one.' }} />
      <p><a href="/admin/forgot-password">Ask for a new link</a></p>`;
  } else if (f.done) {
    body = html`<${Notice}>
      <p>The password is changed, and every session of this account has been signed out.</p>
      <p><a class="button" href="/admin/login">Sign in with the new password</a></p>
    <//>`;
  } else {
    body = html`<form class="stack" onSubmit=${f.onSubmit} novalidate>
      <${FormError} error=${f.error} wait=${f.wait} shown=${['new_password', 'repeat']} />
      ${f.fields.token && html`<p><a href="/admin/forgot-password">Ask for a new link</a></p>`}
      <${Field} id="admin-reset-password" label="New password" name="new_password" type="password"
        autocomplete="new-password" required minlength="12" maxlength="128"
        hint="At least 12 characters; common passwords are refused" errors=${f.fields.new_password} />
      <${Field} id="admin-reset-repeat" label="Repeat password" name="repeat" type="password" autocomplete="new-password"
        required errors=${f.fields.repeat} />
      <${Submit} f=${f} label="Set new password" busyLabel="Saving…" />
    </form>`;
  }
  return html`<section class="page narrow auth admin-auth">
    <h1>Set a new admin password</h1>
    ${body}
  </section>`;
}
