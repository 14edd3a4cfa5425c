// admin/settings.js: /admin/settings, the platform settings
// (GET/PUT /api/admin/settings): the fee, the payout minimum, model
// approval, upload limits (never above the guide's maxima, shown beside
// each), registration and maintenance mode.  Only what changed is sent;
// they apply at once.
import { useState } from 'preact/hooks';
import { api } from '../../api.js';
import { AdminLayout } from '../../admin/shell.js';
import { html, useLoad, Loading, ErrorBox } from '../../ui.js';
import { FieldError, fieldError } from '../../admin/ui.js';

function Form({ initial, onSaved }) {
  const [form, setForm] = useState(initial);
  const [error, setError] = useState(null);
  const [saved, setSaved] = useState(false);
  const [busy, setBusy] = useState(false);
  const lim = initial.limits;
  const set = (k, num) => (e) => {
    setSaved(false);
    const v = e.target.type === 'checkbox' ? e.target.checked : num ? (e.target.value === '' ? '' : Number(e.target.value)) : e.target.value;
    setForm({ ...form, [k]: v });
  };
  const save = async (e) => {
    e.preventDefault();
    if (form.maintenance_mode && !initial.maintenance_mode
        && !window.confirm('Turn maintenance mode on? Everyone but administrators gets "down for maintenance" until you turn it off.')) return;
    const changes = {};
    for (const k of Object.keys(form)) if (k !== 'limits' && form[k] !== initial[k]) changes[k] = form[k];
    setBusy(true);
    setError(null);
    try {
      onSaved(await api('/api/admin/settings', { method: 'PUT', body: changes }));
      setSaved(true);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  const num = (k, label, attrs, hint) => html`<div class="field">
    <label for=${`st-${k}`}>${label}</label>
    <input id=${`st-${k}`} type="number" value=${form[k]} onInput=${set(k, true)} aria-invalid=${!!fieldError(error, k)}
      aria-describedby=${`st-${k}-hint`} ...${attrs} />
    <p class="field-hint" id=${`st-${k}-hint`}>${hint}</p>
    <${FieldError} text=${fieldError(error, k)} /></div>`;
  const check = (k, label, hint) => html`<div class="field check">
    <label><input type="checkbox" checked=${form[k]} onChange=${set(k)} /> ${label}</label>
    <small>${hint}</small><${FieldError} text=${fieldError(error, k)} /></div>`;
  return html`<form class="stack" onSubmit=${save}>
    <fieldset><legend>Money</legend>
      ${num('platform_fee_percent', 'Platform fee (%)', { min: 0, max: lim.platform_fee_percent, step: 0.01 }, 'The platform’s share of each sale; the next checkout uses it.')}
      ${num('payout_minimum', 'Payout minimum ($)', { min: 0.01, step: 0.01 }, 'The smallest payout a creator may request.')}
    </fieldset>
    <fieldset><legend>Models and uploads</legend>
      ${check('model_approval_required', 'New models wait for approval', 'Off: a new model goes live at once.')}
      ${num('max_model_upload_mb', 'Largest model file (MB)', { min: 1, max: lim.max_model_upload_mb }, `At most ${lim.max_model_upload_mb} MB.`)}
      ${num('max_image_upload_mb', 'Largest image (MB)', { min: 1, max: lim.max_image_upload_mb }, `At most ${lim.max_image_upload_mb} MB.`)}
      ${num('max_avatar_upload_mb', 'Largest avatar (MB)', { min: 1, max: lim.max_avatar_upload_mb }, `At most ${lim.max_avatar_upload_mb} MB.`)}
    </fieldset>
    <fieldset><legend>Access</legend>
      ${check('registration_open', 'Registration open', 'Off: sign-up is refused; existing accounts sign in as usual.')}
      ${check('maintenance_mode', 'Maintenance mode', 'On: the API answers 503 to everyone but administrators; sign-in keeps working.')}
      <div class="field"><label for="st-msg">Maintenance message</label>
        <input id="st-msg" value=${form.maintenance_message} maxlength="300" onInput=${set('maintenance_message')} />
        <${FieldError} text=${fieldError(error, 'maintenance_message')} /></div>
    </fieldset>
    ${error && !Object.keys(error.field_errors).length && html`<p class="field-error" role="alert">${error.message}</p>`}
    ${saved && html`<p class="ok" role="status">Saved. The new settings apply now.</p>`}
    <div class="actions"><button type="submit" disabled=${busy}>${busy ? 'Saving…' : 'Save settings'}</button></div>
  </form>`;
}

export function AdminSettingsPage({ signal }) {
  const s = useLoad((sig) => api('/api/admin/settings', { signal: sig }), signal);
  return html`<${AdminLayout} title="Settings">
    ${s.loading ? html`<${Loading} />` : s.error ? html`<${ErrorBox} error=${s.error} onRetry=${s.reload} />`
      : html`<${Form} initial=${s.data} onSaved=${() => {}} />`}
  </${AdminLayout}>`;
}
