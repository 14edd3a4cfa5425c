// scan.js: on the upload page, the safety scan of the uploaded model and
// the suggested tags (issue 13).
//
// SafetyPanel runs POST /api/models/safety-scan once the model is uploaded
// and shows the verdict and each finding; an "unsafe" verdict blocks
// publishing (upload.js disables the submit button and says why, and the
// server refuses it anyway).  TagSuggestions asks POST /api/ai/generate-tags
// with the title and description typed so far and lets the creator add
// each suggested tag to the tags field (where it can still be edited) and
// take the suggested category.
import { useEffect, useState } from 'preact/hooks';
import { api, isAbort } from './api.js';
import { html, Loading } from './ui.js';

const SEVERITY_TEXT = { info: 'Info', low: 'Low', medium: 'Medium', high: 'High', critical: 'Critical' };
const CHECK_TEXT = {
  malware: 'Malware', format: 'File format', gltf_uri: 'External references', gltf_bounds: 'Buffer sizes',
  blend_script: 'Scripts', polyglot: 'Hidden files', geometry: 'Geometry', duplicate: 'Duplicates',
};
const VERDICT_TEXT = {
  safe: 'No safety problems found.',
  warning: 'Check the findings below: the model can be submitted, and moderators will see them.',
  unsafe: 'This model cannot be published.',
};

// The reason publishing is blocked, from a scan whose verdict is unsafe.
export function unsafeReason(scan) {
  const f = (scan.findings || []).find((x) => x.severity === 'critical');
  return `This model failed the safety scan${f ? `: ${f.message}` : ''}. Upload a clean file.`;
}

export function SafetyPanel({ uploadId, signal, onScan }) {
  const [st, setSt] = useState({ phase: 'scanning' });
  useEffect(() => {
    let live = true;
    setSt({ phase: 'scanning' });
    onScan && onScan(null);
    api('/api/models/safety-scan', { method: 'POST', body: { upload_id: uploadId }, signal })
      .then((scan) => {
        if (!live) return;
        setSt({ phase: 'done', scan });
        onScan && onScan(scan);
      })
      .catch((e) => { if (live && !isAbort(e)) setSt({ phase: 'failed', error: e }); });
    return () => { live = false; };
  }, [uploadId]);
  if (st.phase === 'scanning') return html`<${Loading} label="Running the safety scan…" />`;
  if (st.phase === 'failed') {
    return html`<div class="warnings" role="status"><p>The safety scan could not run (${st.error.message}); it runs again when you submit.</p></div>`;
  }
  const { scan } = st;
  const shown = scan.findings.filter((f) => f.severity !== 'info' || f.check === 'malware' || f.check === 'duplicate');
  const dup = scan.duplicate_of;
  return html`<section class=${`safety-scan verdict-${scan.verdict}`} aria-labelledby="up-scan-h">
    <h3 id="up-scan-h">Safety scan: <span class=${`status ${scan.verdict === 'unsafe' ? 'rejected' : scan.verdict === 'warning' ? 'pending' : 'approved'}`}>${scan.verdict}</span></h3>
    <p role=${scan.verdict === 'unsafe' ? 'alert' : 'status'} class=${scan.verdict === 'safe' ? 'ok' : ''}>${VERDICT_TEXT[scan.verdict]}</p>
    ${dup && html`<p class="warnings">This geometry matches <a href=${`/model/${dup.model_id}`}>${dup.title}</a> by
      <a href=${`/u/${encodeURIComponent(dup.creator.username)}`}>@${dup.creator.username}</a>
      (similarity ${Math.round(dup.similarity * 100)}%).</p>`}
    <ul class="findings">${shown.map((f, i) => html`<li key=${i}>
      <span class=${`tag sev-${f.severity}`}>${SEVERITY_TEXT[f.severity] || f.severity}</span>
      <strong>${CHECK_TEXT[f.check] || f.check}</strong>: ${f.message}
    </li>`)}</ul>
  </section>`;
}

// Adds tag to the form's comma-separated tags input (once).
function addTag(inputId, tag) {
  const input = document.getElementById(inputId);
  if (!input) return;
  const list = input.value.split(',').map((t) => t.trim()).filter(Boolean);
  if (!list.includes(tag)) list.push(tag);
  input.value = list.join(', ');
  input.dispatchEvent(new Event('input', { bubbles: true }));
}

function useCategory(selectId, id) {
  const sel = document.getElementById(selectId);
  if (!sel) return;
  sel.value = String(id);
  sel.dispatchEvent(new Event('change', { bubbles: true }));
}

const SOURCE_TEXT = { names: 'from names in the file', geometry: 'measured', colour: 'thumbnail colour',
  vocabulary: 'used on HWC3D', title: 'from the title', ai: 'AI suggestion' };

export function TagSuggestions({ uploadId, imageUploadId, signal, prefix = 'up' }) {
  const [st, setSt] = useState({ phase: 'idle' });
  const [added, setAdded] = useState([]);
  const suggest = async () => {
    const val = (k) => { const el = document.getElementById(`${prefix}-${k}`); return el ? el.value : ''; };
    setSt({ phase: 'loading' });
    const body = { upload_id: uploadId, title: val('title').slice(0, 200), description: val('description').slice(0, 5000) };
    if (imageUploadId) body.image_upload_id = imageUploadId;
    try {
      setSt({ phase: 'done', data: await api('/api/ai/generate-tags', { method: 'POST', body, signal }) });
    } catch (e) {
      if (!isAbort(e)) setSt({ phase: 'failed', error: e });
    }
  };
  useEffect(() => { setSt({ phase: 'idle' }); setAdded([]); }, [uploadId]);
  const data = st.data;
  return html`<section class="tag-suggestions" aria-labelledby=${`${prefix}-sugg-h`}>
    <h3 id=${`${prefix}-sugg-h`}>Suggested tags</h3>
    <p class="help">From the model's names, geometry and thumbnail, and your title and description. Add the ones that fit; you can edit the tags field afterwards.</p>
    <p><button type="button" class="secondary" onClick=${suggest} disabled=${st.phase === 'loading'}>
      ${st.phase === 'done' ? 'Suggest again' : 'Suggest tags'}</button></p>
    ${st.phase === 'loading' && html`<${Loading} label="Finding tags…" />`}
    ${st.phase === 'failed' && html`<p class="hint field-error" role="alert">${st.error.message}</p>`}
    ${data && html`<ul class="chips" aria-label="Suggested tags">${data.tags.map((t) => html`<li key=${t.tag}>
        <button type="button" class="chip" aria-pressed=${added.includes(t.tag) ? 'true' : 'false'}
          title=${`${SOURCE_TEXT[t.source] || t.source}, score ${Math.round(t.score * 100)}%`}
          onClick=${() => { addTag(`${prefix}-tags`, t.tag); setAdded([...added, t.tag]); }}>
          <span class="chip-text">${added.includes(t.tag) ? '✓ ' : '+ '}${t.tag}</span>
        </button></li>`)}</ul>
      ${data.tags.length === 0 && html`<p class="help">No suggestions for this model.</p>`}
      ${data.category && html`<p>Suggested category: <strong>${data.category.name}</strong>
        <button type="button" class="secondary" onClick=${() => useCategory(`${prefix}-category`, data.category.id)}>Use it</button></p>`}`}
  </section>`;
}
