// upload.js: a creator uploads a model (/upload).
//
// 1. The model file (drag and drop, or the file input): checked for type and
//    size here, sent with a progress bar (POST /api/upload/model, which may
//    be cancelled), then its analysis is shown (POST /api/models/analyze).
// 2. A thumbnail and preview images (POST /api/upload/image).
// 3. Title, description, category, tags, price and licence; submitting
//    creates the model (POST /api/models) from the upload's upload_id.  The
//    model is pending review until an admin approves it.
// ModelFields and its helpers are shared with the inventory's edit form.
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, upload, isAbort } from '../api.js';
import { useSession } from '../session.js';
import { html, useLoad, formatCount, formatPrice, Loading } from '../ui.js';
import { SafetyPanel, TagSuggestions, unsafeReason } from '../scan.js';
import { QualityReport } from '../specs.js';

const MB = 1024 * 1024;
export const MODEL_KIND = { exts: ['glb', 'gltf', 'fbx', 'obj', 'blend'], max: 100 * MB, what: '.glb, .gltf, .fbx, .obj or .blend' };
export const IMAGE_KIND = { exts: ['jpg', 'jpeg', 'png', 'webp'], max: 10 * MB, what: '.jpg, .jpeg, .png or .webp' };
const MAX_PREVIEWS = 10;

export const LICENSES = [
  ['standard', 'Standard'], ['extended', 'Extended'], ['editorial', 'Editorial use only'],
  ['cc0', 'CC0 (public domain)'], ['cc-by', 'CC BY 4.0 (attribution)'], ['cc-by-sa', 'CC BY-SA 4.0 (attribution, share-alike)'],
];

export function formatBytes(n) {
  const v = Number(n) || 0;
  if (v < 1024) return `${v} B`;
  if (v < MB) return `${(v / 1024).toFixed(1)} KB`;
  return `${(v / MB).toFixed(1)} MB`;
}

// The problem with a file before it is sent, or null.
export function fileProblem(file, kind) {
  const ext = (file.name.split('.').pop() || '').toLowerCase();
  if (!file.name.includes('.') || !kind.exts.includes(ext)) return `${file.name} is not a ${kind.what} file.`;
  if (file.size === 0) return `${file.name} is empty.`;
  if (file.size > kind.max) return `${file.name} is ${formatBytes(file.size)}; the limit is ${formatBytes(kind.max)}.`;
  return null;
}

function sendFile(path, file, opts) {
  const fd = new FormData();
  fd.append('file', file, file.name);
  return upload(path, fd, opts);
}

// field_errors values are lists of messages.
export function fieldMessage(v) {
  return Array.isArray(v) ? v.join(' ') : v ? String(v) : '';
}

// aria-describedby for a control with an optional hint and error.
export function describedBy(id, hint, error) {
  return [hint && `${id}-hint`, error && `${id}-err`].filter(Boolean).join(' ') || undefined;
}

export function FieldNotes({ id, hint, error }) {
  return html`${hint && html`<small id=${`${id}-hint`} class="help">${hint}</small>`}
    ${error && html`<small id=${`${id}-err`} class="hint field-error">${error}</small>`}`;
}

export function useCategories(signal) {
  const c = useLoad((sig) => api('/api/categories', { query: { limit: 100 }, signal: sig }), signal);
  return { list: c.data ? c.data.items || [] : [], error: c.error, loading: c.loading };
}

// Title, description, category, tags, free/price and licence; uncontrolled
// inputs read back by readModelForm().  prefix keeps ids unique.
export function ModelFields({ prefix, model = {}, errors = {}, categories, requireCategory = true }) {
  const [free, setFree] = useState(!!model.is_free);
  const err = (k) => fieldMessage(errors[k]);
  const id = (k) => `${prefix}-${k}`;
  const control = (k, hint) => ({ id: id(k), 'aria-invalid': err(k) ? 'true' : undefined, 'aria-describedby': describedBy(id(k), hint, err(k)) });
  const tagsHint = 'Up to 20, separated by commas.';
  const priceHint = 'In US dollars; up to 10,000.';
  return html`<div class="form-grid">
    <div class="field wide">
      <label for=${id('title')}>Title</label>
      <input ...${control('title')} name="title" maxlength="120" required defaultValue=${model.title || ''} />
      <${FieldNotes} id=${id('title')} error=${err('title')} />
    </div>
    <div class="field wide">
      <label for=${id('description')}>Description</label>
      <textarea ...${control('description')} name="description" rows="5" maxlength="5000" defaultValue=${model.description || ''}></textarea>
      <${FieldNotes} id=${id('description')} error=${err('description')} />
    </div>
    <div class="field">
      <label for=${id('category')}>Category</label>
      <select id=${id('category')} name="category_id" required=${requireCategory}
        aria-invalid=${err('category_id') ? 'true' : undefined}
        aria-describedby=${describedBy(id('category'), categories.error && 'x', err('category_id'))}>
        <option value="">Choose a category</option>
        ${categories.list.map((c) => html`<option key=${c.id} value=${c.id} selected=${model.category && model.category.id === c.id}>${c.name}</option>`)}
      </select>
      <${FieldNotes} id=${id('category')} hint=${categories.error && `Categories could not be loaded: ${categories.error.message}`} error=${err('category_id')} />
    </div>
    <div class="field">
      <label for=${id('license')}>Licence</label>
      <select ...${control('license')} name="license">
        ${LICENSES.map(([v, label]) => html`<option key=${v} value=${v} selected=${(model.license || 'standard') === v}>${label}</option>`)}
      </select>
      <${FieldNotes} id=${id('license')} error=${err('license')} />
    </div>
    <div class="field wide">
      <label for=${id('tags')}>Tags</label>
      <input ...${control('tags', tagsHint)} name="tags" defaultValue=${(model.tags || []).join(', ')} />
      <${FieldNotes} id=${id('tags')} hint=${tagsHint} error=${err('tags')} />
    </div>
    <div class="field check">
      <input type="checkbox" id=${id('free')} name="is_free" checked=${free} onChange=${(e) => setFree(e.target.checked)}
        aria-describedby=${err('is_free') ? `${id('free')}-err` : undefined} />
      <label for=${id('free')}>Free model</label>
      <${FieldNotes} id=${id('free')} error=${err('is_free')} />
    </div>
    <div class="field">
      <label for=${id('price')}>Price (USD)</label>
      <input ...${control('price', priceHint)} name="price" type="number" inputmode="decimal" min="0" max="10000" step="0.01"
        disabled=${free} defaultValue=${model.price !== undefined && !model.is_free ? String(model.price) : ''} />
      <${FieldNotes} id=${id('price')} hint=${priceHint} error=${err('price')} />
    </div>
  </div>`;
}

// The body of POST /api/models or PUT /api/models/{id} from the form.
export function readModelForm(form) {
  const f = new FormData(form);
  const body = {
    title: String(f.get('title') || '').trim(),
    description: String(f.get('description') || ''),
    license: f.get('license') || 'standard',
    tags: String(f.get('tags') || '').split(',').map((t) => t.trim()).filter(Boolean),
  };
  if (f.get('category_id')) body.category_id = Number(f.get('category_id'));
  if (f.get('is_free')) body.is_free = true;
  else {
    body.is_free = false;
    const p = String(f.get('price') || '').trim();
    if (p !== '') body.price = Number(p);
  }
  return body;
}

// The checks the server makes too, to answer at once; {} when fine.
export function checkModel(body, { create = true } = {}) {
  const e = {};
  if (body.title.length < 3 || body.title.length > 120) e.title = ['Give a title of 3 to 120 characters.'];
  if (create && !body.category_id) e.category_id = ['Choose a category.'];
  if (body.tags.length > 20) e.tags = ['At most 20 tags.'];
  else if (body.tags.some((t) => t.length > 30)) e.tags = ['Each tag must be 1 to 30 characters.'];
  if (!body.is_free) {
    if (body.price === undefined) { if (create) e.price = ['Give a price, or make the model free.']; }
    else if (!(body.price >= 0 && body.price <= 10000)) e.price = ['Give a price from 0 to 10,000.'];
  }
  return e;
}

// A labelled <progress> with a cancel button; total 0: indeterminate.
export function UploadProgress({ id, name, loaded, total, onCancel, cancelLabel = 'Cancel upload' }) {
  const pct = total ? Math.min(100, Math.round((loaded / total) * 100)) : null;
  return html`<div class="upload-progress">
    <label for=${id}>Uploading ${name}${pct !== null ? `: ${pct}%` : '…'}</label>
    <div class="progress-row">
      ${pct !== null ? html`<progress id=${id} max="100" value=${pct}>${pct}%</progress>` : html`<progress id=${id}></progress>`}
      ${onCancel && html`<button type="button" class="secondary" onClick=${onCancel}>${cancelLabel}</button>`}
    </div>
    ${total > 0 && html`<small class="help">${formatBytes(loaded)} of ${formatBytes(total)}</small>`}
  </div>`;
}

// An AbortController for one upload, aborted too when the page is left.
function useUploadController(signal) {
  const ref = useRef(null);
  useEffect(() => {
    const stop = () => ref.current && ref.current.abort();
    signal.addEventListener('abort', stop);
    return () => { signal.removeEventListener('abort', stop); stop(); };
  }, []);
  return {
    start() {
      ref.current = new AbortController();
      return ref.current.signal;
    },
    cancel() {
      if (ref.current) ref.current.abort();
    },
  };
}

// ---- 1. the model file ----

const yesNo = (b) => (b ? 'Yes' : 'No');

function Analysis({ result, analysis }) {
  const a = analysis || {};
  const n = (k) => (a[k] !== undefined && a[k] !== null ? a[k] : result[k]);
  const rows = [
    ['Format', result.file_format], ['File size', formatBytes(result.file_size)],
    ['Polygons (triangles)', n('poly_count') !== null && n('poly_count') !== undefined ? formatCount(n('poly_count')) : 'Unknown'],
    ['Vertices', n('vertex_count') !== null && n('vertex_count') !== undefined ? formatCount(n('vertex_count')) : 'Unknown'],
  ];
  if (analysis) {
    if (a.face_count !== undefined) rows.push(['Faces', formatCount(a.face_count)]);
    rows.push(['Meshes', formatCount(a.mesh_count)], ['Materials', formatCount((a.materials || []).length)],
      ['Textures', formatCount((a.textures || []).length)], ['Bones', formatCount(a.bone_count)],
      ['Animations', formatCount(a.animation_count)], ['Animated', yesNo(a.has_animations)],
      ['Rigged', yesNo(a.has_rigging)], ['Textured', yesNo(a.has_textures)]);
    const d = a.dimensions;
    if (d) rows.push(['Dimensions', `${[d.x, d.y, d.z].map((v) => Number(v).toLocaleString(undefined, { maximumFractionDigits: 2 })).join(' × ')} units`]);
  }
  const warnings = a.warnings || [];
  const refs = a.external_references || [];
  return html`<section class="analysis" aria-labelledby="up-analysis-h">
    <h3 id="up-analysis-h">Analysis</h3>
    <dl class="specs">${rows.map(([k, v]) => html`<div key=${k}><dt>${k}</dt><dd>${v}</dd></div>`)}</dl>
    ${warnings.length > 0 && html`<div class="warnings" role="status">
      <h4>Warnings</h4>
      <ul>${warnings.map((w, i) => html`<li key=${i}>${w}</li>`)}</ul>
    </div>`}
    ${refs.length > 0 && html`<div class="warnings">
      <h4>Files this model refers to (not included)</h4>
      <ul>${refs.map((r, i) => html`<li key=${i} class="name">${r}</li>`)}</ul>
    </div>`}
    ${analysis && !warnings.length && html`<p class="ok">No problems found.</p>`}
    <${QualityReport} quality=${a.quality} id="up-quality-h" />
  </section>`;
}

// An empty title becomes the file's name: "old_chair-v2.glb" -> "Old chair v2".
function prefillTitle(filename) {
  const input = document.getElementById('up-title');
  if (!input || input.value.trim()) return;
  const base = filename.replace(/\.[^.]+$/, '').replace(/[_\-.]+/g, ' ').trim().slice(0, 120);
  if (base.length >= 3) input.value = base.charAt(0).toUpperCase() + base.slice(1);
}

function ModelFile({ state, setState, error, signal }) {
  const ctl = useUploadController(signal);
  const [over, setOver] = useState(false);
  const inputRef = useRef(null);

  const begin = async (file) => {
    if (!file) return;
    const problem = fileProblem(file, MODEL_KIND);
    if (problem) {
      setState({ phase: 'idle', problem });
      return;
    }
    const sig = ctl.start();
    setState({ phase: 'uploading', name: file.name, loaded: 0, total: file.size });
    try {
      const result = await sendFile('/api/upload/model', file, {
        signal: sig, onProgress: (loaded, total) => setState((s) => ({ ...s, loaded, total: total || s.total })),
      });
      setState({ phase: 'analyzing', name: file.name, result });
      let analysis = null;
      try {
        analysis = await api('/api/models/analyze', { method: 'POST', body: { upload_id: result.upload_id }, signal: sig });
      } catch (e) {
        if (isAbort(e)) throw e;
      }
      setState({ phase: 'done', name: file.name, result, analysis });
      prefillTitle(file.name);
    } catch (e) {
      if (isAbort(e)) setState({ phase: 'idle', notice: signal.aborted ? '' : 'Upload cancelled.' });
      else setState({ phase: 'idle', problem: e.message, failed: e });
    } finally {
      if (inputRef.current) inputRef.current.value = '';
    }
  };

  const onDrop = (e) => {
    e.preventDefault();
    setOver(false);
    if (state.phase === 'uploading' || state.phase === 'analyzing') return;
    const files = e.dataTransfer && e.dataTransfer.files;
    if (files && files.length) begin(files[0]);
  };
  const onDragOver = (e) => {
    e.preventDefault();
    if (e.dataTransfer) e.dataTransfer.dropEffect = 'copy';
    setOver(true);
  };
  const busy = state.phase === 'uploading' || state.phase === 'analyzing';
  const problem = state.problem || error;
  const hint = `${MODEL_KIND.what}, up to 100 MB. Drag and drop it here, or choose it.`;
  return html`<div class=${`dropzone${over ? ' over' : ''}${problem ? ' invalid' : ''}`}
      onDragOver=${onDragOver} onDragEnter=${onDragOver} onDragLeave=${() => setOver(false)} onDrop=${onDrop}>
    <label for="up-file">Model file</label>
    <input ref=${inputRef} id="up-file" type="file" accept=".glb,.gltf,.fbx,.obj,.blend" disabled=${busy}
      aria-invalid=${problem ? 'true' : undefined} aria-describedby=${describedBy('up-file', hint, problem)}
      onChange=${(e) => begin(e.target.files[0])} />
    <${FieldNotes} id="up-file" hint=${hint} error=${problem} />
    ${state.notice && html`<p role="status" class="help">${state.notice}</p>`}
    ${state.phase === 'uploading' && html`<${UploadProgress} id="up-progress" name=${state.name}
      loaded=${state.loaded} total=${state.total} onCancel=${ctl.cancel} />`}
    ${state.phase === 'analyzing' && html`<${Loading} label=${`Analysing ${state.name}…`} />`}
    ${state.phase === 'done' && html`<p class="ok" role="status">Uploaded <span class="name">${state.name}</span>. Choose another file to replace it.</p>`}
  </div>
  ${state.phase === 'done' && html`<${Analysis} result=${state.result} analysis=${state.analysis} />`}`;
}

// ---- 2. images ----

function Thumbnail({ thumb, setThumb, error, signal }) {
  const ctl = useUploadController(signal);
  const [st, setSt] = useState({ phase: 'idle' });
  const begin = async (file) => {
    if (!file) return;
    const problem = fileProblem(file, IMAGE_KIND);
    if (problem) return setSt({ phase: 'idle', problem });
    const sig = ctl.start();
    setSt({ phase: 'uploading', name: file.name, loaded: 0, total: file.size });
    try {
      const r = await sendFile('/api/upload/image', file, { signal: sig, onProgress: (loaded, total) => setSt((s) => ({ ...s, loaded, total: total || s.total })) });
      setThumb({ url: r.image_url, width: r.width, height: r.height, id: r.upload_id });
      setSt({ phase: 'idle' });
    } catch (e) {
      setSt({ phase: 'idle', problem: isAbort(e) ? '' : e.message });
    }
  };
  const problem = st.problem || error;
  const hint = `${IMAGE_KIND.what}, up to 10 MB. Shown on cards and in search.`;
  return html`<div class="field wide">
    <label for="up-thumb">Thumbnail image</label>
    <input id="up-thumb" name="thumbnail_url" type="file" accept=".jpg,.jpeg,.png,.webp" disabled=${st.phase === 'uploading'}
      aria-invalid=${problem ? 'true' : undefined} aria-describedby=${describedBy('up-thumb', hint, problem)}
      onChange=${(e) => { begin(e.target.files[0]); e.target.value = ''; }} />
    <${FieldNotes} id="up-thumb" hint=${hint} error=${problem} />
    ${st.phase === 'uploading' && html`<${UploadProgress} id="up-thumb-progress" name=${st.name} loaded=${st.loaded} total=${st.total}
      onCancel=${ctl.cancel} cancelLabel="Cancel thumbnail upload" />`}
    ${thumb && html`<div class="thumb-preview">
      <img src=${thumb.url} width=${thumb.width} height=${thumb.height} alt="Thumbnail" loading="lazy" decoding="async" />
      <button type="button" class="secondary" onClick=${() => setThumb(null)}>Remove thumbnail</button>
    </div>`}
  </div>`;
}

function Previews({ previews, setPreviews, error, signal }) {
  const ctl = useUploadController(signal);
  const [st, setSt] = useState({ phase: 'idle' });
  const begin = async (list) => {
    const files = Array.from(list || []);
    if (!files.length) return;
    const room = MAX_PREVIEWS - previews.length;
    if (files.length > room) return setSt({ phase: 'idle', problem: `At most ${MAX_PREVIEWS} preview images; ${room} more can be added.` });
    for (const f of files) {
      const problem = fileProblem(f, IMAGE_KIND);
      if (problem) return setSt({ phase: 'idle', problem });
    }
    const sig = ctl.start();
    try {
      for (let i = 0; i < files.length; i++) {
        const f = files[i];
        const name = files.length > 1 ? `${f.name} (${i + 1} of ${files.length})` : f.name;
        setSt({ phase: 'uploading', name, loaded: 0, total: f.size });
        const r = await sendFile('/api/upload/image', f, { signal: sig, onProgress: (loaded, total) => setSt((s) => ({ ...s, loaded, total: total || s.total })) });
        setPreviews((p) => [...p, { url: r.image_url, width: r.width, height: r.height }]);
      }
      setSt({ phase: 'idle' });
    } catch (e) {
      setSt({ phase: 'idle', problem: isAbort(e) ? '' : e.message });
    }
  };
  const problem = st.problem || error;
  const hint = `Up to ${MAX_PREVIEWS} images (${IMAGE_KIND.what}, up to 10 MB each).`;
  return html`<div class="field wide">
    <label for="up-previews">Preview images</label>
    <input id="up-previews" name="preview_images" type="file" multiple accept=".jpg,.jpeg,.png,.webp" disabled=${st.phase === 'uploading' || previews.length >= MAX_PREVIEWS}
      aria-invalid=${problem ? 'true' : undefined} aria-describedby=${describedBy('up-previews', hint, problem)}
      onChange=${(e) => { begin(e.target.files); e.target.value = ''; }} />
    <${FieldNotes} id="up-previews" hint=${hint} error=${problem} />
    ${st.phase === 'uploading' && html`<${UploadProgress} id="up-previews-progress" name=${st.name} loaded=${st.loaded} total=${st.total}
      onCancel=${ctl.cancel} cancelLabel="Cancel preview upload" />`}
    ${previews.length > 0 && html`<ul class="previews">${previews.map((p, i) => html`<li key=${p.url}>
      <img src=${p.url} width=${p.width} height=${p.height} alt=${`Preview ${i + 1}`} loading="lazy" decoding="async" />
      <button type="button" class="secondary" onClick=${() => setPreviews(previews.filter((x) => x !== p))}>Remove preview ${i + 1}</button>
    </li>`)}</ul>`}
  </div>`;
}

// ---- 3. details, submit, result ----

const STATUS_TEXT = { pending: 'Pending review', approved: 'Approved', rejected: 'Rejected' };

function Submitted({ model, onAgain }) {
  const ref = useRef(null);
  useEffect(() => { if (ref.current) ref.current.focus(); }, []);
  return html`<div class="submitted" role="status">
    <h2 ref=${ref} tabindex="-1">Model submitted</h2>
    <p><strong class="name">${model.title}</strong> was created. Status: <span class=${`status ${model.status}`}>${STATUS_TEXT[model.status] || model.status}</span>.</p>
    ${model.status === 'pending' && html`<p>An admin reviews every new model. It appears in the marketplace, at ${formatPrice(model.price, model.currency, model.is_free)}, once it is approved.</p>`}
    <p class="actions">
      <a class="button" href="/dashboard/inventory">Go to your inventory</a>
      <a href=${`/model/${model.id}`}>View the model page</a>
      <button type="button" class="secondary" onClick=${onAgain}>Upload another model</button>
    </p>
  </div>`;
}

const FIELD_OF = { upload_id: 'file', thumbnail_url: 'thumbnail', preview_images: 'previews' };

function UploadFlow({ signal, onAgain }) {
  const categories = useCategories(signal);
  const [file, setFile] = useState({ phase: 'idle' });
  const [thumb, setThumb] = useState(null);
  const [previews, setPreviews] = useState([]);
  const [errors, setErrors] = useState({});
  const [failure, setFailure] = useState(null);
  const [busy, setBusy] = useState(false);
  const [created, setCreated] = useState(null);
  const [scan, setScan] = useState(null);
  const unsafe = file.phase === 'done' && scan && scan.verdict === 'unsafe';

  const onSubmit = async (e) => {
    e.preventDefault();
    const form = e.target;
    const body = readModelForm(form);
    const found = checkModel(body);
    if (file.phase !== 'done') found.upload_id = [file.phase === 'idle' ? 'Upload the model file first.' : 'Wait for the model file to finish uploading.'];
    else if (unsafe) found.upload_id = [unsafeReason(scan)];
    setFailure(null);
    if (Object.keys(found).length) {
      setErrors(found);
      focusFirstError(form);
      return;
    }
    body.upload_id = file.result.upload_id;
    if (thumb) body.thumbnail_url = thumb.url;
    if (previews.length) body.preview_images = previews.map((p) => p.url);
    setBusy(true);
    setErrors({});
    try {
      const model = await api('/api/models', { method: 'POST', body, signal });
      setCreated(model);
    } catch (err) {
      if (isAbort(err)) return;
      setErrors(err.field_errors || {});
      setFailure(err);
      focusFirstError(form);
    } finally {
      if (!signal.aborted) setBusy(false);
    }
  };

  // Editing a field clears its error; a new model file clears the file's.
  const clearError = (e) => {
    const name = e.target.name;
    if (name && errors[name]) setErrors(({ [name]: _, ...rest }) => rest);
  };
  useEffect(() => {
    if (file.phase !== 'idle' && errors.upload_id) setErrors(({ upload_id: _, ...rest }) => rest);
  }, [file.phase]);

  if (created) return html`<${Submitted} model=${created} onAgain=${onAgain} />`;
  const mapped = {};
  for (const [k, v] of Object.entries(errors)) mapped[FIELD_OF[k] || k] = fieldMessage(v);
  return html`<form class="upload" noValidate onSubmit=${onSubmit} onInput=${clearError} onChange=${clearError}>
    <fieldset>
      <legend>1. Model file</legend>
      <${ModelFile} state=${file} setState=${setFile} error=${mapped.file} signal=${signal} />
      ${file.phase === 'done' && html`<${SafetyPanel} uploadId=${file.result.upload_id} signal=${signal} onScan=${setScan} />`}
    </fieldset>
    <fieldset>
      <legend>2. Images</legend>
      <div class="form-grid">
        <${Thumbnail} thumb=${thumb} setThumb=${setThumb} error=${mapped.thumbnail} signal=${signal} />
        <${Previews} previews=${previews} setPreviews=${setPreviews} error=${mapped.previews} signal=${signal} />
      </div>
    </fieldset>
    <fieldset>
      <legend>3. Details</legend>
      ${categories.loading ? html`<${Loading} label="Loading categories…" />`
        : html`<${ModelFields} prefix="up" errors=${errors} categories=${categories} />`}
      ${file.phase === 'done' && html`<${TagSuggestions} uploadId=${file.result.upload_id} imageUploadId=${thumb && thumb.id} signal=${signal} />`}
    </fieldset>
    ${failure && html`<div class="state error" role="alert"><p>${failure.message}</p></div>`}
    <p class="actions"><button type="submit" disabled=${busy || unsafe} aria-describedby=${unsafe ? 'up-unsafe' : undefined}>${busy ? 'Submitting…' : 'Submit model'}</button></p>
    ${unsafe && html`<p id="up-unsafe" class="hint field-error">${unsafeReason(scan)}</p>`}
  </form>`;
}

// Moves focus to the first control marked invalid, after the render.
export function focusFirstError(form) {
  setTimeout(() => {
    const bad = form.querySelector('[aria-invalid="true"]');
    if (bad) bad.focus();
  }, 0);
}

export function UploadPage({ signal }) {
  const { user } = useSession();
  const [round, setRound] = useState(0);
  if (!user) return html`<section class="page narrow creator"><${Loading} /></section>`;
  if (user.user_type !== 'creator') {
    return html`<section class="page narrow creator">
      <h1>Upload a model</h1>
      <p>Only creator accounts can sell models on HWC3D. Yours is a buyer account.</p>
      <p>You can switch it to a creator account in <a href="/dashboard/settings">your settings</a>, then come back here.</p>
    </section>`;
  }
  return html`<section class="page creator upload-page">
    <h1>Upload a model</h1>
    <p class="lead">Upload the file, add images and details, and submit it for review.</p>
    <${UploadFlow} key=${round} signal=${signal} onAgain=${() => { setRound(round + 1); window.scrollTo(0, 0); }} />
  </section>`;
}
