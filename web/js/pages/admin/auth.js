// admin/auth.js: the admin sign-in (guide 1: /admin/login, password then
// the mailed 6-digit code: POST /api/auth/admin/login, then
// /api/auth/admin/verify-otp), /admin/forgot-password (POST
// /api/auth/admin/forgot-password) and /admin/reset-password?token=… (POST
// /api/auth/admin/reset-password).  The session is session.js's: the access
// token in memory, the refresh cookie, so a reload keeps the admin signed in.
import { useEffect, useState } from 'preact/hooks';
import { api, tokenRole } from '../../api.js';
import { navigate } from '../../nav.js';
import { signedIn, useSession } from '../../session.js';
import { html } from '../../ui.js';
import {
  Field, FormError, Notice, SubmitButton, SignInFields, ResetPasswordForm, ResendButton, ResendStatus,
  useSubmit, useResend, safeNext,
} from '../auth.js';

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
    <${SignInFields} f=${f} idPrefix="admin" email=${query.get('email') || ''} emailAutocomplete="username"
      forgotHref="/admin/forgot-password" />
    <${SubmitButton} busy=${f.busy} wait=${f.wait} label="Continue" busyLabel="Checking…" />
  </form>`;
}

function CodeStep({ query, email, password, signal, onBack }) {
  const resend = useResend();
  useEffect(() => {
    resend.start();
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
  const onResend = () => resend.run(() => api('/api/auth/admin/login', { method: 'POST', body: { email, password }, signal }));
  return html`<form class="stack" onSubmit=${f.onSubmit} novalidate>
    <p>We sent a 6-digit code to <strong class="email">${email}</strong>. Enter it to open the console.</p>
    <${FormError} error=${f.error} wait=${f.wait} shown=${['code']} />
    <${Field} id="admin-code" class="otp" label="Code from the email" name="code" inputmode="numeric"
      autocomplete="one-time-code" pattern="[0-9]{6}" maxlength="6" required hint="6 digits"
      errors=${f.fields.code} />
    <div class="actions">
      <${SubmitButton} busy=${f.busy} wait=${f.wait} label="Sign in" busyLabel="Signing in…" />
      <${ResendButton} resend=${resend} onClick=${onResend} />
    </div>
    <${ResendStatus} resend=${resend} sent="A new code is on its way." />
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
          <${SubmitButton} busy=${f.busy} wait=${f.wait} label="Send reset link" busyLabel="Sending…" />
          <p class="aside"><a href="/admin/login">Back to the admin sign-in</a></p>
        </form>`}
  </section>`;
}

export function AdminResetPasswordPage({ query }) {
  return html`<section class="page narrow auth admin-auth">
    <h1>Set a new admin password</h1>
    <${ResetPasswordForm} query=${query} endpoint="/api/auth/admin/reset-password" idPrefix="admin-reset"
      forgotHref="/admin/forgot-password">
      <p>The password is changed, and every session of this account has been signed out.</p>
      <p><a class="button" href="/admin/login">Sign in with the new password</a></p>
    <//>
  </section>`;
}
