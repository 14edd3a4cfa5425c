// viewer.js: the 3D viewer of /model/:id and /view/:id, Google's
// <model-viewer> on the model's GLB or glTF file
// (GET /api/models/{id}/viewer-file).  Its 1 MB script is imported the
// first time a viewer is shown, never by other pages.  Around it: a
// loading bar, camera reset, auto-rotate, lighting presets and exposure,
// a material variant switcher (only when the model has variants),
// fullscreen, and a plain error state.  Other formats are shown once the
// server has converted them to GLB (conversion_status "done"); until then,
// or when the conversion failed, the thumbnail and a note.
import { useEffect, useRef, useState } from 'preact/hooks';
import { html } from './ui.js';

const SCRIPT = '/vendor/model-viewer@4.4.0/dist/model-viewer.min.js';

// name -> model-viewer attributes; exposure is the slider's start value.
export const LIGHTING = {
  neutral: { label: 'Neutral', env: 'neutral', exposure: 1, shadow: 1, softness: 1 },
  studio: { label: 'Studio (legacy)', env: 'legacy', exposure: 1, shadow: 0.6, softness: 0.8 },
  bright: { label: 'Bright', env: 'neutral', exposure: 1.6, shadow: 0.4, softness: 1 },
  dramatic: { label: 'Dramatic', env: 'legacy', exposure: 0.7, shadow: 2, softness: 0.2 },
};
const HOME = { orbit: '0deg 75deg 105%', target: 'auto auto auto', fov: 'auto' };

let loading = null;

// Resolves once <model-viewer> is defined; a failed import may be retried.
export function loadModelViewer() {
  if (!loading) {
    loading = import(SCRIPT).then(() => customElements.whenDefined('model-viewer'));
    loading.catch(() => { loading = null; });
  }
  return loading;
}

// True when the browser can show this model's file in 3D.
export function canView(model) {
  return String(model.file_format || '').toUpperCase() === 'GLB' || model.conversion_status === 'done';
}

export function viewerUrl(model) {
  return `/api/models/${encodeURIComponent(model.id)}/viewer-file`;
}

function Poster({ model, children }) {
  return html`<div class="viewer-poster">
    ${model.thumbnail_url
      ? html`<img src=${model.thumbnail_url} alt=${`Preview of ${model.title}`} width="640" height="480" loading="lazy" decoding="async" />`
      : html`<div class="thumb-missing big" aria-hidden="true">3D</div>`}
    ${children}
  </div>`;
}

function Toolbar({ el, variants, fullscreen, onFullscreen }) {
  const [rotate, setRotate] = useState(false);
  const [preset, setPreset] = useState('neutral');
  const [exposure, setExposure] = useState(LIGHTING.neutral.exposure);
  const [variant, setVariant] = useState('');
  const apply = (name) => {
    const p = LIGHTING[name];
    setPreset(name);
    setExposure(p.exposure);
    el.environmentImage = p.env;
    el.exposure = p.exposure;
    el.shadowIntensity = p.shadow;
    el.shadowSoftness = p.softness;
  };
  const reset = () => {
    el.cameraOrbit = HOME.orbit;
    el.cameraTarget = HOME.target;
    el.fieldOfView = HOME.fov;
    if (el.resetTurntableRotation) el.resetTurntableRotation(0);
  };
  const toggleRotate = () => {
    el.autoRotate = !rotate;
    setRotate(!rotate);
  };
  const onExposure = (e) => {
    const v = Number(e.target.value);
    setExposure(v);
    el.exposure = v;
  };
  const onVariant = (e) => {
    setVariant(e.target.value);
    el.variantName = e.target.value || null;
  };
  return html`<div class="viewer-tools">
    <button type="button" onClick=${reset}>Reset camera</button>
    <button type="button" aria-pressed=${rotate ? 'true' : 'false'} onClick=${toggleRotate}>Auto-rotate</button>
    <div class="viewer-field">
      <label for="viewer-lighting">Lighting</label>
      <select id="viewer-lighting" value=${preset} onChange=${(e) => apply(e.target.value)}>
        ${Object.entries(LIGHTING).map(([k, p]) => html`<option value=${k} selected=${k === preset}>${p.label}</option>`)}
      </select>
    </div>
    <div class="viewer-field">
      <label for="viewer-exposure">Exposure</label>
      <input id="viewer-exposure" type="range" min="0.2" max="2.5" step="0.1" value=${exposure} onInput=${onExposure} />
    </div>
    ${variants.length > 0 && html`<div class="viewer-field">
      <label for="viewer-variant">Material variant</label>
      <select id="viewer-variant" value=${variant} onChange=${onVariant}>
        <option value="">Default</option>
        ${variants.map((v) => html`<option value=${v} selected=${v === variant}>${v}</option>`)}
      </select>
    </div>`}
    <button type="button" onClick=${onFullscreen}>${fullscreen ? 'Exit fullscreen' : 'Fullscreen'}</button>
  </div>`;
}

// Subscribes to model-viewer's events on the element; {state, progress, variants}.
function useViewerEvents(ref, ready, src) {
  const [state, setState] = useState('loading');
  const [progress, setProgress] = useState(0);
  const [variants, setVariants] = useState([]);
  useEffect(() => {
    const el = ref.current;
    if (!ready || !el) return undefined;
    setState('loading');
    setProgress(0);
    const onProgress = (e) => setProgress(Math.round(100 * ((e.detail && e.detail.totalProgress) || 0)));
    const onLoad = () => {
      setState('loaded');
      setProgress(100);
      setVariants(Array.from(el.availableVariants || []));
    };
    const onError = () => setState('error');
    el.addEventListener('progress', onProgress);
    el.addEventListener('load', onLoad);
    el.addEventListener('error', onError);
    if (el.loaded) onLoad();
    return () => {
      el.removeEventListener('progress', onProgress);
      el.removeEventListener('load', onLoad);
      el.removeEventListener('error', onError);
    };
  }, [ready, src]);
  return { state, progress, variants };
}

function useFullscreen(ref) {
  const [on, setOn] = useState(false);
  useEffect(() => {
    const sync = () => setOn(document.fullscreenElement === ref.current);
    document.addEventListener('fullscreenchange', sync);
    return () => document.removeEventListener('fullscreenchange', sync);
  }, []);
  const toggle = () => {
    if (document.fullscreenElement) document.exitFullscreen().catch(() => {});
    else if (ref.current && ref.current.requestFullscreen) ref.current.requestFullscreen().catch(() => {});
  };
  return [on, toggle];
}

function Stage({ model, src }) {
  const box = useRef(null);
  const mv = useRef(null);
  const [ready, setReady] = useState(false);
  const [scriptError, setScriptError] = useState(false);
  const [attempt, setAttempt] = useState(0);
  const { state, progress, variants } = useViewerEvents(mv, ready, `${src}#${attempt}`);
  const [fullscreen, toggleFullscreen] = useFullscreen(box);
  useEffect(() => {
    let live = true;
    loadModelViewer().then(() => { if (live) setReady(true); }, () => { if (live) setScriptError(true); });
    return () => { live = false; };
  }, [attempt]);
  const retry = () => {
    setScriptError(false);
    setAttempt(attempt + 1);
  };
  if (scriptError) {
    return html`<${Poster} model=${model}>
      <div class="viewer-note viewer-error" role="alert">The 3D viewer could not be loaded.${' '}
        <button type="button" onClick=${retry}>Try again</button></div>
    <//>`;
  }
  const p = LIGHTING.neutral;
  return html`<div class=${`viewer${fullscreen ? ' is-fullscreen' : ''}`} ref=${box}>
    <div class="viewer-stage">
      ${ready
        ? html`<model-viewer key=${attempt} ref=${mv} src=${src} poster=${model.thumbnail_url || undefined}
            alt=${`3D model of ${model.title}`} camera-controls touch-action="pan-y" interaction-prompt="none"
            environment-image=${p.env} exposure=${p.exposure} shadow-intensity=${p.shadow}
            shadow-softness=${p.softness} tone-mapping="neutral">
            <div slot="progress-bar"></div>
          </model-viewer>`
        : html`<${Poster} model=${model} />`}
      ${state === 'loading' && html`<div class="viewer-progress">
        <label for="viewer-progress">Loading 3D model</label>
        <progress id="viewer-progress" max="100" value=${progress}>${progress}%</progress>
      </div>`}
      ${state === 'error' && html`<div class="viewer-note viewer-error" role="alert">
        The 3D model could not be loaded.${' '}<button type="button" onClick=${retry}>Try again</button>
      </div>`}
    </div>
    ${ready && state === 'loaded' && html`<${Toolbar} el=${mv.current} variants=${variants}
      fullscreen=${fullscreen} onFullscreen=${toggleFullscreen} />`}
  </div>`;
}

// <Viewer model=${m} />: a model document (GET /api/models/{id} or /public).
// `src` replaces the file's URL (the admin console passes a blob: URL of a
// pending model's file, fetched with its token).
export function Viewer({ model, src }) {
  if (!canView(model)) {
    const note = model.conversion_status === 'failed'
      ? 'The 3D preview is not available: this model could not be converted.'
      : 'The 3D preview is being prepared; reload the page in a moment.';
    return html`<${Poster} model=${model}>
      <p class="viewer-note">${note}</p>
    <//>`;
  }
  return html`<${Stage} model=${model} src=${src || viewerUrl(model)} />`;
}
