// view.js: the public viewer page (/view/:id), the page a shared link
// opens: the model large in 3D, with its title, creator and price, like
// and share, and a link to the model's page to buy it.
import { useEffect } from 'preact/hooks';
import { api } from '../api.js';
import { Viewer } from '../viewer.js';
import { html, formatPrice, Loading } from '../ui.js';
import { useModel, NotFound, LikeButton, ShareButton, counted } from './model.js';

export function ViewPage({ params, signal }) {
  const m = useModel(`/api/models/${encodeURIComponent(params.id)}/public`, signal);
  const id = m.data && m.data.id;
  useEffect(() => {
    if (id) api(`/api/models/${id}/view`, { method: 'POST', signal }).catch(() => {});
  }, [id]);
  if (m.loading) return html`<section class="page"><${Loading} label="Loading model…" /></section>`;
  if (m.error) return html`<${NotFound} error=${m.error} onRetry=${m.reload} />`;
  const d = m.data;
  document.title = `${d.title} in 3D · HWC3D`;
  return html`<article class="page public-view">
    <${Viewer} model=${d} />
    <div class="public-view-info">
      <div class="public-view-title">
        <h1>${d.title}</h1>
        ${d.creator && html`<p class="by">by <a href=${`/u/${encodeURIComponent(d.creator.username)}`}>${d.creator.full_name || d.creator.username}</a> (@${d.creator.username})</p>`}
        <p class="figures">${counted(d.views_count, 'view')} · ${counted(d.poly_count, 'polygon')}${d.file_format ? ` · ${d.file_format}` : ''}</p>
      </div>
      <div class="public-view-buy">
        <p class="price big">${formatPrice(d.price, d.currency, d.is_free)}</p>
        <a class="button" href=${`/model/${d.id}`}>${d.is_free ? 'Details and download' : 'Details and buy'}</a>
      </div>
    </div>
    <div class="social"><${LikeButton} model=${d} /><${ShareButton} model=${d} /></div>
  </article>`;
}
