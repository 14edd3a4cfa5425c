// admin/slider.js: the homepage slider (guide 13, /admin/slider): GET
// /api/admin/slider, create (POST), edit (PUT …/{id}), delete (DELETE, after
// a confirmation).  A slide's image is uploaded first (POST
// /api/upload/image, multipart) and the slide keeps the returned image_url.
import { useState } from 'preact/hooks';
import { api, upload } from '../../api.js';
import { html } from '../../ui.js';
import { AdminLayout } from '../../admin/shell.js';
import {
  useAdminList, DataTable, ListBody, StatusBadge, useConfirm, useAction, Outcome, Dialog,
} from '../../admin/ui.js';
import { Field, FormError, useSubmit } from '../auth.js';

const IMAGE_TYPES = '.jpg,.jpeg,.png,.webp';
const IMAGE_MAX = 10 * 1024 * 1024;

function SlideForm({ slide, signal, onSaved, onClose }) {
  const creating = !slide;
  const s = slide || { title: '', subtitle: '', image_url: '', link_url: '', button_text: '', sort_order: 0, is_active: true };
  const [image, setImage] = useState(s.image_url);
  const [progress, setProgress] = useState(null);
  const [imageError, setImageError] = useState('');
  const onFile = async (e) => {
    const file = e.target.files && e.target.files[0];
    if (!file) return;
    setImageError('');
    if (file.size > IMAGE_MAX) {
      setImageError(`${file.name} is larger than 10 MB.`);
      return;
    }
    const form = new FormData();
    form.append('file', file, file.name);
    setProgress(0);
    try {
      const r = await upload('/api/upload/image', form, {
        signal, onProgress: (done, total) => setProgress(total ? Math.round((100 * done) / total) : 0),
      });
      setImage(r.image_url);
    } catch (err) {
      if (err.name !== 'AbortError') setImageError(err.message || 'The upload failed.');
    } finally {
      setProgress(null);
    }
  };
  const f = useSubmit(async (data) => {
    if (!image) throw { message: 'Upload an image first.', field_errors: { image_url: ['Upload an image first.'] } };
    const body = {
      title: data.get('title').trim(), subtitle: data.get('subtitle').trim() || null, image_url: image,
      link_url: data.get('link_url').trim() || null, button_text: data.get('button_text').trim() || null,
      is_active: data.get('is_active') === 'on',
    };
    const order = data.get('sort_order').trim();
    if (order) body.sort_order = Number(order);
    const saved = await api(creating ? '/api/admin/slider' : `/api/admin/slider/${s.id}`,
      { method: creating ? 'POST' : 'PUT', body, signal });
    onSaved(saved, creating);
  });
  return html`<${Dialog} labelId="slide-form-title" onClose=${onClose}>
    <form class="stack" onSubmit=${f.onSubmit} novalidate>
      <h2 id="slide-form-title">${creating ? 'New slide' : `Edit “${s.title}”`}</h2>
      <${FormError} error=${f.error} wait=${f.wait}
        shown=${['title', 'subtitle', 'image_url', 'link_url', 'button_text', 'sort_order', 'is_active']} />
      <div class="form-grid">
        <${Field} id="slide-title" class="wide" label="Title" name="title" required maxlength="120" defaultValue=${s.title} errors=${f.fields.title} />
        <${Field} id="slide-subtitle" class="wide" as="textarea" label="Subtitle (optional)" name="subtitle" rows="2" maxlength="300"
          defaultValue=${s.subtitle || ''} errors=${f.fields.subtitle} />
        <div class="wide">
          <${Field} id="slide-image" label="Image" name="image" type="file" accept=${IMAGE_TYPES} onChange=${onFile}
            hint="JPEG, PNG or WebP, up to 10 MB; wide images suit the slider best"
            errors=${imageError ? [imageError] : f.fields.image_url} />
          ${progress !== null && html`<div class="progress-row">
            <label for="slide-progress">Uploading</label>
            <progress id="slide-progress" max="100" value=${progress}>${progress}%</progress>
          </div>`}
          ${image && html`<div class="thumb-preview"><img src=${image} alt="The slide's image" width="320" height="180" /></div>`}
        </div>
        <${Field} id="slide-link" label="Link (optional)" name="link_url" defaultValue=${s.link_url || ''}
          hint="A path such as /marketplace, or an https:// address" errors=${f.fields.link_url} />
        <${Field} id="slide-button" label="Button text (optional)" name="button_text" maxlength="50"
          defaultValue=${s.button_text || ''} errors=${f.fields.button_text} />
        <${Field} id="slide-order" label="Sort order" name="sort_order" type="number" min="-100000" max="100000"
          defaultValue=${String(s.sort_order)} errors=${f.fields.sort_order} />
        <div class="field check">
          <input id="slide-active" type="checkbox" name="is_active" defaultChecked=${s.is_active} />
          <label for="slide-active">Shown on the homepage</label>
        </div>
      </div>
      <div class="actions">
        <button type="submit" disabled=${f.busy || progress !== null}>${f.busy ? 'Saving…' : creating ? 'Create slide' : 'Save'}</button>
        <button type="button" class="secondary" onClick=${onClose}>Cancel</button>
      </div>
    </form>
  <//>`;
}

function Slides({ query, signal }) {
  const list = useAdminList('/api/admin/slider', query, { signal });
  const [editing, setEditing] = useState(null);
  const [confirm, dialog] = useConfirm();
  const act = useAction();
  const remove = async (s) => {
    if (!(await confirm({ title: `Delete the slide “${s.title}”?`, body: 'It leaves the homepage at once.', confirm: 'Delete slide', danger: true }))) return;
    act.run(async () => {
      await api(`/api/admin/slider/${s.id}`, { method: 'DELETE', signal });
      list.reload();
    }, `“${s.title}” is deleted.`);
  };
  const columns = [
    { label: 'Image', cell: (s) => html`<img class="admin-slide-thumb" src=${s.image_url} alt="" width="120" height="68" loading="lazy" />` },
    { label: 'Slide', class: 'wrap', cell: (s) => html`<strong>${s.title}</strong>${s.subtitle && html`<br /><small class="hint-muted">${s.subtitle}</small>`}` },
    { label: 'Link', class: 'wrap', cell: (s) => (s.link_url ? `${s.button_text || 'Link'} → ${s.link_url}` : '') },
    { label: 'Order', class: 'num', cell: (s) => String(s.sort_order) },
    { label: 'Shown', cell: (s) => html`<${StatusBadge} status=${s.is_active ? 'active' : 'inactive'} label=${s.is_active ? 'Shown' : 'Hidden'} />` },
    { label: 'Actions', cell: (s) => html`<div class="row-actions">
      <button type="button" class="secondary" onClick=${() => setEditing(s)} aria-label=${`Edit ${s.title}`}>Edit</button>
      <button type="button" class="danger" disabled=${act.busy} onClick=${() => remove(s)} aria-label=${`Delete ${s.title}`}>Delete</button>
    </div>` },
  ];
  return html`<div class="admin-bar">
      <p class="hint-muted">Slides show on the homepage in their sort order; hidden ones are kept for later.</p>
      <button type="button" onClick=${() => setEditing('new')}>New slide</button>
    </div>
    <${Outcome} outcome=${act.outcome} />
    <${ListBody} list=${list} query=${query} noun="slides">
      ${(d) => html`<${DataTable} caption="Slides" columns=${columns} rows=${d.items} empty="No slides yet." />`}
    <//>
    ${editing && html`<${SlideForm} slide=${editing === 'new' ? null : editing} signal=${signal}
      onClose=${() => setEditing(null)}
      onSaved=${(s, created) => { setEditing(null); act.run(async () => list.reload(), created ? `“${s.title}” is created.` : `“${s.title}” is saved.`); }} />`}
    ${dialog}`;
}

export function AdminSliderPage({ query, signal }) {
  return html`<${AdminLayout} title="Homepage slider">
    <${Slides} query=${query} signal=${signal} />
  <//>`;
}
