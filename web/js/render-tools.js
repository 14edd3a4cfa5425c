// render-tools.js: server-side renders on the model page (/model/:id):
// the model's turntable video when it has one, a "Screenshot" button
// (POST /api/models/{id}/screenshot, anyone signed in; the owner may also
// keep it as a preview image) and an "Export video" button for the owner
// (POST /api/models/{id}/record-video, then GET /api/jobs/{id} polled for
// its progress).  Both use the 3D viewer's current camera orbit
// (<model-viewer>'s getCameraOrbit()) when the viewer is showing.
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, apiBlob, isAbort } from './api.js';
import { useSession } from './session.js';
import { html } from './ui.js';

const LIGHTS = [['studio', 'Studio'], ['outdoor', 'Outdoor'], ['dark', 'Dark']];
const POLL_MS = 700;

// The viewer's camera as the renderer's {yaw, pitch, distance}, or {} when
// no viewer is showing.  model-viewer's theta is our yaw; phi is measured
// from the top, our pitch from the horizon; its radius is compared with
// the distance at which the renderer frames the bounding sphere (half the
// diagonal of the model's box, field of view 35 degrees).
export function viewerCamera(root = document) {
  const el = root.querySelector('.model-media model-viewer');
  if (!el || typeof el.getCameraOrbit !== 'function') return {};
  const o = el.getCameraOrbit();
  const deg = (r) => (r * 180) / Math.PI;
  const cam = {
    yaw: Math.round(((deg(o.theta) % 360) + 540) % 360 - 180),
    pitch: Math.max(-89, Math.min(89, Math.round(90 - deg(o.phi)))),
  };
  if (typeof el.getDimensions === 'function') {
    const d = el.getDimensions();
    const r = Math.hypot(d.x, d.y, d.z) / 2;
    const framed = (r / Math.sin(Math.atan(Math.tan((35 * Math.PI) / 360)))) * 1.04;
    if (r > 0 && o.radius > 0) cam.distance = Math.max(0.5, Math.min(10, +(o.radius / framed).toFixed(2)));
  }
  return cam;
}

function Screenshot({ model, owner }) {
  const [s, setS] = useState({ busy: false, url: null, stored: null, error: null });
  const [light, setLight] = useState('studio');
  const abort = useRef(null);
  useEffect(() => () => {
    if (abort.current) abort.current.abort();
    if (s.url) URL.revokeObjectURL(s.url);
  }, []);
  const take = async (store) => {
    if (abort.current) abort.current.abort();
    abort.current = new AbortController();
    setS({ busy: true, url: null, stored: null, error: null });
    const body = { width: 1280, height: 960, lighting: light, ...viewerCamera(), ...(store ? { store: true } : {}) };
    try {
      const path = `/api/models/${model.id}/screenshot`;
      if (store) {
        const r = await api(path, { method: 'POST', body, signal: abort.current.signal });
        setS({ busy: false, url: r.url, stored: r.preview_images, error: null });
      } else {
        const blob = await apiBlob(path, { method: 'POST', body, signal: abort.current.signal });
        setS({ busy: false, url: URL.createObjectURL(blob), stored: null, error: null });
      }
    } catch (error) {
      if (!isAbort(error)) setS({ busy: false, url: null, stored: null, error });
    }
  };
  return html`<div class="render-tool">
    <label>Light <select value=${light} onChange=${(e) => setLight(e.target.value)}>
      ${LIGHTS.map(([v, l]) => html`<option value=${v}>${l}</option>`)}
    </select></label>
    <button type="button" disabled=${s.busy} onClick=${() => take(false)}>${s.busy ? 'Rendering…' : 'Screenshot'}</button>
    ${owner && html`<button type="button" class="secondary" disabled=${s.busy} onClick=${() => take(true)}>Add as preview image</button>`}
    ${s.url && html`<p class="render-result">
      <a href=${s.url} download=${`${model.title || 'model'}.png`} target="_blank" rel="noopener">
        <img src=${s.url} alt="Server-rendered screenshot" width="160" height="120" /></a>
      ${s.stored ? ' Added to the preview images.' : ' Click to open or save it.'}</p>`}
    ${s.error && html`<p class="inline-error" role="alert">${s.error.message}</p>`}
  </div>`;
}

function ExportVideo({ model, onDone }) {
  const [format, setFormat] = useState('webm');
  const [job, setJob] = useState(null); // {id, status, progress, error}
  const [error, setError] = useState(null);
  const timer = useRef(null);
  const abort = useRef(null);
  useEffect(() => () => {
    clearTimeout(timer.current);
    if (abort.current) abort.current.abort();
  }, []);
  const poll = (id) => {
    api(`/api/jobs/${id}`, { signal: abort.current.signal }).then((j) => {
      setJob(j);
      if (j.status === 'done') onDone(j.result && j.result.video_url);
      else if (j.status !== 'failed') timer.current = setTimeout(() => poll(id), POLL_MS);
    }, (e) => { if (!isAbort(e)) setError(e); });
  };
  const start = async () => {
    setError(null);
    abort.current = new AbortController();
    try {
      const r = await api(`/api/models/${model.id}/record-video`, {
        method: 'POST', signal: abort.current.signal,
        body: { duration_s: 5, width: 1280, height: 720, fps: 24, format, ...viewerCamera() },
      });
      setJob({ id: r.job_id, status: r.status, progress: 0 });
      poll(r.job_id);
    } catch (e) {
      if (!isAbort(e)) setError(e);
    }
  };
  const running = job && (job.status === 'queued' || job.status === 'running');
  return html`<div class="render-tool">
    <label>Format <select value=${format} onChange=${(e) => setFormat(e.target.value)} disabled=${running}>
      <option value="webm">WebM (VP9)</option><option value="mp4">MP4 (H.264)</option>
    </select></label>
    <button type="button" disabled=${running} onClick=${start}>${running ? 'Recording…' : 'Export video'}</button>
    ${job && html`<p class="render-progress">
      <progress max="100" value=${job.progress || 0} aria-label="Video progress"></progress>
      ${job.status === 'failed' ? ` Failed: ${job.error || 'unknown error'}`
        : job.status === 'done' ? ' Done.' : ` ${job.progress || 0}% ${job.stage || job.status}`}</p>`}
    ${error && html`<p class="inline-error" role="alert">${error.message}</p>`}
  </div>`;
}

// The turntable video and the render buttons of a model page.
export function RenderTools({ model }) {
  const { user } = useSession();
  const [video, setVideo] = useState(model.video_url || null);
  useEffect(() => setVideo(model.video_url || null), [model.id, model.video_url]);
  const owner = !!user && (user.role === 'admin' || (model.creator && user.id === model.creator.id));
  if (!video && !user) return null;
  return html`<section class="render-tools" aria-label="Renders">
    ${video && html`<video class="turntable" src=${video} controls loop muted playsinline preload="metadata"
      width="640" height="360" aria-label=${`Turntable video of ${model.title}`}></video>`}
    ${user && html`<div class="render-buttons">
      <${Screenshot} model=${model} owner=${owner} />
      ${owner && html`<${ExportVideo} model=${model} onDone=${(url) => url && setVideo(url)} />`}
    </div>`}
  </section>`;
}
