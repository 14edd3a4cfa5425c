// settings.js: the signed-in user's settings (/dashboard/settings): profile
// (PUT /api/users/me), avatar (POST /api/upload/avatar, with a preview),
// password (PUT /api/users/me/password) and account deletion
// (DELETE /api/users/me/account, after typing DELETE and the password).
import { useEffect, useState } from 'preact/hooks';
// A namespace import: upload() (multipart with progress) is added to api.js
// by the upload page's branch; until then the avatar form says so instead
// of the whole page failing to load.
import * as client from '../api.js';
import { navigate } from '../nav.js';
import { loadSession, signedIn, signOut } from '../session.js';
import { html, useLoad, Loading, ErrorBox } from '../ui.js';
import { Field, FormError, useSubmit } from './auth.js';
import { Avatar } from './profile.js';

const { api } = client;
const AVATAR_MAX = 2 * 1024 * 1024;
const AVATAR_TYPES = ['image/jpeg', 'image/png'];
const CONFIRM_WORD = 'DELETE';

function Saved({ when, children }) {
  return html`<p class="saved" role="status" aria-live="polite">${when ? children : ''}</p>`;
}

// null and "" clear a text field on the server.
function textOrNull(data, name) {
  const v = (data.get(name) || '').trim();
  return v === '' ? null : v;
}

function ProfileForm({ me, onSaved }) {
  const f = useSubmit(async (data) => {
    const body = {
      full_name: textOrNull(data, 'full_name'),
      username: data.get('username').trim().toLowerCase(),
      bio: textOrNull(data, 'bio'),
      country: textOrNull(data, 'country'),
      user_type: data.get('user_type'),
      skills: data.get('skills').split(',').map((s) => s.trim()).filter(Boolean),
    };
    const saved = await api('/api/users/me', { method: 'PUT', body });
    onSaved(saved);
  });
  const shown = ['full_name', 'username', 'bio', 'country', 'user_type', 'skills'];
  return html`<form class="stack" onSubmit=${f.onSubmit} novalidate aria-labelledby="settings-profile">
    <h2 id="settings-profile">Profile</h2>
    <${FormError} error=${f.error} wait=${f.wait} shown=${shown} />
    <div class="two">
      <${Field} id="set-name" label="Full name" name="full_name" autocomplete="name" maxlength="100"
        defaultValue=${me.full_name || ''} errors=${f.fields.full_name} />
      <${Field} id="set-username" label="Username" name="username" autocomplete="username" required
        minlength="3" maxlength="30" pattern="[a-z0-9_]{3,30}" autocapitalize="none" spellcheck="false"
        defaultValue=${me.username} hint="Your profile is at /u/your-username" errors=${f.fields.username} />
    </div>
    <${Field} id="set-bio" as="textarea" label="Bio" name="bio" rows="4" maxlength="1000" defaultValue=${me.bio || ''}
      hint="Up to 1,000 characters" errors=${f.fields.bio} />
    <div class="two">
      <${Field} id="set-country" label="Country" name="country" autocomplete="country-name" maxlength="56"
        defaultValue=${me.country || ''} errors=${f.fields.country} />
      <${Field} id="set-type" as="select" label="Account type" name="user_type" errors=${f.fields.user_type}
        hint="Creators can upload and sell models">
        <option value="buyer" selected=${me.user_type !== 'creator'}>Buyer</option>
        <option value="creator" selected=${me.user_type === 'creator'}>Creator</option>
      <//>
    </div>
    <${Field} id="set-skills" label="Skills" name="skills" maxlength="1300" defaultValue=${(me.skills || []).join(', ')}
      hint="Separated by commas, e.g. Blender, rigging, PBR texturing" errors=${f.fields.skills} />
    <p class="readonly">Email: <strong class="email">${me.email}</strong></p>
    <div class="actions">
      <button type="submit" disabled=${f.busy || f.wait > 0}>${f.busy ? 'Saving…' : 'Save profile'}</button>
      <${Saved} when=${f.done}>Profile saved.<//>
    </div>
  </form>`;
}

// The avatar picked is checked here (type, 2 MB) and previewed before it
// is sent.
function AvatarForm({ me, onSaved, signal }) {
  const [file, setFile] = useState(null);
  const [preview, setPreview] = useState('');
  const [problem, setProblem] = useState('');
  const [progress, setProgress] = useState(null);
  useEffect(() => () => { if (preview) URL.revokeObjectURL(preview); }, [preview]);
  const f = useSubmit(async (data, formEl) => {
    if (!client.upload) throw new Error('Avatar upload is not available in this version of the site.');
    const form = new FormData();
    form.append('file', file, file.name);
    setProgress(null);
    try {
      const r = await client.upload('/api/upload/avatar', form, {
        signal, onProgress: (loaded, total) => setProgress(total ? loaded / total : null),
      });
      formEl.reset();
      setFile(null);
      setPreview('');
      onSaved({ ...me, avatar_url: r.avatar_url });
    } finally {
      setProgress(null);
    }
  });
  const onPick = (e) => {
    const picked = e.target.files && e.target.files[0];
    setProblem('');
    setFile(null);
    setPreview('');
    if (!picked) return;
    const okName = /\.(jpe?g|png)$/i.test(picked.name);
    if (!AVATAR_TYPES.includes(picked.type) || !okName) setProblem('Choose a .jpg, .jpeg or .png image.');
    else if (picked.size > AVATAR_MAX) setProblem('The image is larger than 2 MB.');
    else {
      setFile(picked);
      setPreview(URL.createObjectURL(picked));
    }
  };
  const fieldErrors = problem ? [problem] : f.fields.file;
  return html`<form class="stack" onSubmit=${f.onSubmit} novalidate aria-labelledby="settings-avatar">
    <h2 id="settings-avatar">Avatar</h2>
    <div class="avatar-row">
      ${preview
        ? html`<img class="avatar" src=${preview} alt="Preview of the new avatar" width="96" height="96" />`
        : html`<${Avatar} url=${me.avatar_url} name=${me.full_name || me.username} />`}
      <div class="grow">
        <${Field} id="set-avatar" label="Avatar image" name="file" type="file" accept=".jpg,.jpeg,.png,image/jpeg,image/png"
          onChange=${onPick} hint="JPG or PNG, at most 2 MB; shown at up to 512 × 512" errors=${fieldErrors} />
      </div>
    </div>
    <${FormError} error=${f.error} wait=${f.wait} shown=${['file']} />
    ${f.busy && html`<label class="progress">Uploading
      <progress max="1" value=${progress === null ? undefined : progress}></progress></label>`}
    <div class="actions">
      <button type="submit" disabled=${!file || f.busy || f.wait > 0}>${f.busy ? 'Uploading…' : 'Upload avatar'}</button>
      <${Saved} when=${f.done}>Avatar updated.<//>
    </div>
  </form>`;
}

function PasswordForm() {
  const f = useSubmit(async (data, form) => {
    const next = data.get('new_password');
    if (next !== data.get('repeat')) {
      const e = new Error('The two new passwords differ.');
      e.field_errors = { repeat: ['Type the same new password twice'] };
      throw e;
    }
    const body = { new_password: next };
    if (data.get('current_password')) body.current_password = data.get('current_password');
    const tokens = await api('/api/users/me/password', { method: 'PUT', body });
    await signedIn(tokens);
    form.reset();
  });
  return html`<form class="stack" onSubmit=${f.onSubmit} novalidate aria-labelledby="settings-password">
    <h2 id="settings-password">Password</h2>
    <${FormError} error=${f.error} wait=${f.wait} shown=${['current_password', 'new_password', 'repeat']} />
    <${Field} id="set-current" label="Current password" name="current_password" type="password"
      autocomplete="current-password" hint="Leave empty if you signed up with Google, GitHub or Discord and have no password yet"
      errors=${f.fields.current_password} />
    <div class="two">
      <${Field} id="set-new" label="New password" name="new_password" type="password" autocomplete="new-password"
        required minlength="12" maxlength="128" hint="At least 12 characters" errors=${f.fields.new_password} />
      <${Field} id="set-repeat" label="Repeat password" name="repeat" type="password" autocomplete="new-password"
        required errors=${f.fields.repeat} />
    </div>
    <div class="actions">
      <button type="submit" disabled=${f.busy || f.wait > 0}>${f.busy ? 'Changing…' : 'Change password'}</button>
      <${Saved} when=${f.done}>Password changed. Your other sessions have been signed out.<//>
    </div>
  </form>`;
}

function DeleteForm() {
  const [typed, setTyped] = useState('');
  const f = useSubmit(async (data) => {
    await api('/api/users/me/account', { method: 'DELETE', body: { password: data.get('password') || '' } });
    await signOut();
    navigate('/', { replace: true });
  });
  const ready = typed.trim() === CONFIRM_WORD;
  return html`<form class="stack danger-zone" onSubmit=${f.onSubmit} novalidate aria-labelledby="settings-delete">
    <h2 id="settings-delete">Delete account</h2>
    <p>This erases your email, names, bio, avatar and settings, and signs you out everywhere. Models you sold stay
      available to their buyers. It cannot be undone.</p>
    <${FormError} error=${f.error} wait=${f.wait} shown=${['password']} />
    <div class="two">
      <${Field} id="del-confirm" label=${`Type ${CONFIRM_WORD} to confirm`} name="confirm" autocomplete="off"
        autocapitalize="characters" spellcheck="false" value=${typed} onInput=${(e) => setTyped(e.target.value)} />
      <${Field} id="del-password" label="Confirm with your password" name="password" type="password"
        autocomplete="current-password" hint="Leave empty if your account has no password" errors=${f.fields.password} />
    </div>
    <div class="actions">
      <button type="submit" class="danger" disabled=${!ready || f.busy || f.wait > 0}>
        ${f.busy ? 'Deleting…' : 'Delete my account'}
      </button>
    </div>
  </form>`;
}

export function SettingsPage({ signal }) {
  const load = useLoad((sig) => api('/api/users/me', { signal: sig }), signal);
  const [me, setMe] = useState(null);
  const user = me || load.data;
  const onSaved = (saved) => {
    setMe(saved);
    loadSession();
  };
  let body;
  if (load.loading) body = html`<${Loading} label="Loading your settings…" />`;
  else if (load.error) body = html`<${ErrorBox} error=${load.error} onRetry=${load.reload} />`;
  else {
    body = html`
      <p class="lead">Signed in as <a href=${`/u/${encodeURIComponent(user.username)}`}>@${user.username}</a>
        ${!user.is_email_verified && html` · <span class="warn">email not verified</span>`}</p>
      <div class="panel"><${ProfileForm} me=${user} onSaved=${onSaved} /></div>
      <div class="panel"><${AvatarForm} me=${user} onSaved=${onSaved} signal=${signal} /></div>
      <div class="panel"><${PasswordForm} /></div>
      <div class="panel danger"><${DeleteForm} /></div>`;
  }
  return html`<section class="page narrow settings">
    <h1>Settings</h1>
    ${body}
  </section>`;
}
