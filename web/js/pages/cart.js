// cart.js: buying.  The cart (/cart), the checkout (/checkout) and its
// result (/checkout/complete), plus the download and licence pieces that
// the financials page shares.
//
// - GET /api/cart lists every item; one that can no longer be bought has
//   is_available false and is not in the total.  The checkout names the
//   available models (model_ids), so it buys exactly what the buyer saw.
// - /checkout?model=ID buys that one model ("Buy now"), cart untouched.
// - GET /api/checkout/payment-methods says what to offer: the test
//   processor's test cards, a Stripe card form (Stripe.js, loaded from
//   js.stripe.com only then) or PayPal's buttons (PayPal's SDK, only then).
// - Each attempt carries an Idempotency-Key, kept while the same request is
//   retried after an unknown outcome (network error, 409 in flight, 503),
//   so that the buyer is charged once.
// - The checkout's answer is kept in sessionStorage under its transaction
//   id: /checkout/complete?txn=… survives a reload, and falls back to
//   GET /api/users/me/purchases.
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, isAbort } from '../api.js';
import { navigate } from '../nav.js';
import { setCartCount, refreshCartCount } from '../session.js';
import { html, useLoad, formatMoney, formatPrice, Loading, Empty, ErrorBox } from '../ui.js';

const RESULT_PREFIX = 'hwc3d.checkout.';
const ATTEMPT_KEY = 'hwc3d.checkout.attempt';

// ------------------------------------------------------------ shared pieces

function Thumb({ src, size = 'small' }) {
  return src
    ? html`<img class=${`thumb ${size}`} src=${src} alt="" width="96" height="72" loading="lazy" decoding="async" />`
    : html`<div class=${`thumb thumb-missing ${size}`} aria-hidden="true">3D</div>`;
}

// A link this close to its end counts as expired: it may lapse in transit.
const EARLY_MS = 5000;

function expired(at) {
  return !at || Date.parse(at) - Date.now() < EARLY_MS;
}

// Saves url as a file, as a click on an <a download> would.
function startDownload(url) {
  const a = document.createElement('a');
  a.href = url;
  a.download = '';
  a.rel = 'noopener';
  document.body.appendChild(a);
  a.click();
  a.remove();
}

// A signed download link while it is valid; after it expires, a button
// that asks for a fresh one (GET /api/models/{id}/download) and starts it.
export function DownloadLink({ modelId, title, url, expiresAt }) {
  const [link, setLink] = useState({ url, expiresAt });
  const [state, setState] = useState({ busy: false, error: null });
  const [, setTick] = useState(0);
  useEffect(() => {
    if (!link.url || expired(link.expiresAt)) return undefined;
    const ms = Math.min(Date.parse(link.expiresAt) - EARLY_MS - Date.now(), 2 ** 31 - 1);
    const t = setTimeout(() => setTick((n) => n + 1), Math.max(ms, 0));
    return () => clearTimeout(t);
  }, [link.url, link.expiresAt]);
  const label = `Download ${title}`;
  if (link.url && !expired(link.expiresAt)) {
    return html`<a class="button download" href=${link.url} download aria-label=${label}>Download</a>`;
  }
  const fresh = async () => {
    setState({ busy: true, error: null });
    try {
      const d = await api(`/api/models/${modelId}/download`);
      setLink({ url: d.download_url, expiresAt: d.expires_at });
      setState({ busy: false, error: null });
      startDownload(d.download_url);
    } catch (error) {
      setState({ busy: false, error });
    }
  };
  return html`<span class="download-fresh">
    <button type="button" class="download" onClick=${fresh} disabled=${state.busy} aria-label=${label}>
      ${state.busy ? 'Preparing…' : 'Download'}
    </button>
    ${state.error && html`<span class="field-error" role="alert">${state.error.message}</span>`}
  </span>`;
}

function formatDate(iso) {
  if (!iso) return '—';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}

const LICENSE_NAMES = {
  standard: 'Standard licence', extended: 'Extended licence', editorial: 'Editorial licence',
  cc0: 'CC0 (public domain)', 'cc-by': 'CC BY 4.0', 'cc-by-sa': 'CC BY-SA 4.0',
};

function Certificate({ cert, onClose }) {
  const json = JSON.stringify(cert, null, 2);
  const file = `data:application/json;charset=utf-8,${encodeURIComponent(json)}`;
  const rows = [
    ['Certificate', cert.certificate_id],
    ['Model', `${cert.model.title} (#${cert.model.id})`],
    ['Licence', LICENSE_NAMES[cert.license.type] || cert.license.type],
    ['Licensee', `${cert.licensee.full_name ? `${cert.licensee.full_name} ` : ''}@${cert.licensee.username}`],
    ['Creator', `@${cert.creator.username}`],
    ['Transaction', cert.transaction_id],
    ['Purchased', formatDate(cert.purchased_at)],
    ['Price', formatPrice(cert.price, cert.currency)],
    ['Issued', formatDate(cert.issued_at)],
  ];
  return html`<section class="certificate" aria-label=${`Licence certificate ${cert.certificate_id}`}>
    <h3>${cert.platform} licence certificate</h3>
    <dl>${rows.map(([k, v]) => html`<div><dt>${k}</dt><dd>${v}</dd></div>`)}</dl>
    <p class="terms"><strong>Terms: </strong>${cert.license.terms}</p>
    <p class="signature"><span>Signature (HMAC-SHA256 of ${cert.signed_fields}):</span> <code>${cert.signature}</code></p>
    <p class="actions">
      <a class="button secondary" href=${file} download=${`${cert.certificate_id}.json`}>Save certificate (JSON)</a>
      <button type="button" class="secondary" onClick=${() => window.print()}>Print</button>
      <button type="button" class="link" onClick=${onClose}>Hide certificate</button>
    </p>
  </section>`;
}

// One purchase: its model, a download link and the licence certificate
// (GET …/purchases/{id}/license, shown below the row when asked for).
// The purchase id is needed for the licence; without it only the download
// is offered.
export function PurchaseItem({ modelId, title, thumb, price, currency, meta, purchaseId, refunded, url, expiresAt }) {
  const [lic, setLic] = useState({ open: false, busy: false, cert: null, error: null });
  const toggle = async () => {
    if (lic.open || lic.cert) {
      setLic({ ...lic, open: !lic.open });
      return;
    }
    setLic({ ...lic, busy: true, error: null });
    try {
      const cert = await api(`/api/users/me/purchases/${purchaseId}/license`);
      setLic({ open: true, busy: false, cert, error: null });
    } catch (error) {
      setLic({ open: false, busy: false, cert: null, error });
    }
  };
  return html`<li class="purchase">
    <${Thumb} src=${thumb} />
    <div class="purchase-text">
      <a class="cart-item-title" href=${`/model/${modelId}`}>${title}</a>
      <span class="price">${formatMoney(price, currency)}</span>
      ${meta && html`<span class="note">${meta}</span>`}
    </div>
    <div class="purchase-actions">
      ${refunded
        ? html`<span class="tag warn">Refunded</span>`
        : html`<${DownloadLink} modelId=${modelId} title=${title} url=${url} expiresAt=${expiresAt} />`}
      ${!refunded && purchaseId && html`<button type="button" class="secondary" aria-expanded=${lic.open} aria-busy=${lic.busy}
        onClick=${toggle} disabled=${lic.busy} aria-label=${`Licence certificate for ${title}`}>
        Licence certificate
      </button>`}
    </div>
    ${lic.error && html`<p class="field-error purchase-wide" role="alert">${lic.error.message}</p>`}
    ${lic.open && lic.cert && html`<${Certificate} cert=${lic.cert} onClose=${toggle} />`}
  </li>`;
}

// ---------------------------------------------------------------- the cart

function CartItem({ item, onRemove, busy }) {
  const m = item.model || {};
  const title = m.title || `Model #${item.model_id}`;
  return html`<li class=${`cart-item${item.is_available ? '' : ' unavailable'}`}>
    <${Thumb} src=${m.thumbnail_url} />
    <div class="cart-item-text">
      <a class="cart-item-title" href=${`/model/${item.model_id}`}>${title}</a>
      ${m.creator && html`<span class="by">by ${m.creator.full_name || m.creator.username}</span>`}
      ${!item.is_available && html`<span class="tag warn">No longer available: not included in the total</span>`}
    </div>
    <span class=${`price${item.is_available ? '' : ' struck'}`}>${formatPrice(item.price, m.currency || 'USD')}</span>
    <button type="button" class="link remove" disabled=${busy} onClick=${() => onRemove(item)}
      aria-label=${`Remove ${title} from the cart`}>Remove</button>
  </li>`;
}

export function CartPage({ signal }) {
  const load = useLoad((sig) => api('/api/cart', { signal: sig }), signal);
  const [cart, setCart] = useState(null);
  const [busy, setBusy] = useState(null);
  const [error, setError] = useState(null);
  const [notice, setNotice] = useState('');
  useEffect(() => {
    if (load.data) {
      setCart(load.data);
      setCartCount(load.data.items.length);
    }
  }, [load.data]);

  if (load.loading) return html`<section class="page"><h1>Your cart</h1><${Loading} label="Loading your cart…" /></section>`;
  if (load.error) return html`<section class="page"><h1>Your cart</h1><${ErrorBox} error=${load.error} onRetry=${load.reload} /></section>`;
  const c = cart || load.data;

  const remove = async (item) => {
    setBusy(item.model_id);
    setError(null);
    try {
      const next = await api(`/api/cart/${item.model_id}`, { method: 'DELETE', signal });
      setCart(next);
      setCartCount(next.items.length);
      setNotice(`${(item.model && item.model.title) || 'The model'} was removed from your cart.`);
    } catch (e) {
      if (isAbort(e)) return;
      if (e.status === 404) load.reload();
      setError(e);
    } finally {
      setBusy(null);
    }
  };

  const items = c.items || [];
  const unavailable = items.length - (c.available_count ?? items.filter((i) => i.is_available).length);
  return html`<section class="page cart">
    <h1>Your cart</h1>
    <p class="sr-only" role="status" aria-live="polite">${notice}</p>
    ${error && html`<${ErrorBox} error=${error} />`}
    ${items.length === 0
      ? html`<${Empty}>Your cart is empty. <a href="/marketplace">Browse the marketplace</a> to find models.<//>`
      : html`<div class="cart-layout">
        <ul class="cart-items" aria-label="Items in your cart">
          ${items.map((it) => html`<${CartItem} key=${it.model_id} item=${it} onRemove=${remove} busy=${busy === it.model_id} />`)}
        </ul>
        <aside class="cart-summary" aria-label="Cart summary">
          <p class="summary-line"><span>${c.available_count} ${c.available_count === 1 ? 'model' : 'models'} to buy</span></p>
          ${unavailable > 0 && html`<p class="hint">${unavailable} ${unavailable === 1 ? 'item is' : 'items are'} no longer available and will not be bought.</p>`}
          <p class="summary-line total"><span>Total</span> <strong>${formatMoney(c.total_amount, c.currency)}</strong></p>
          ${c.available_count > 0
            ? html`<a class="button wide" href="/checkout">Proceed to checkout</a>`
            : html`<p class="hint">Nothing in your cart can be bought right now.</p>`}
          <p><a href="/marketplace">Continue shopping</a></p>
        </aside>
      </div>`}
  </section>`;
}

// ----------------------------------------------------------- the checkout

// Loads a third-party script once (Stripe.js, PayPal's SDK).
const scripts = new Map();
function loadScript(src) {
  if (!scripts.has(src)) {
    scripts.set(src, new Promise((resolve, reject) => {
      const s = document.createElement('script');
      s.src = src;
      s.async = true;
      s.onload = () => resolve();
      s.onerror = () => {
        scripts.delete(src);
        s.remove();
        reject(new Error('The payment form could not be loaded. Check your connection and try again.'));
      };
      document.head.appendChild(s);
    }));
  }
  return scripts.get(src);
}

// The Idempotency-Key of an attempt: the same while the same request is
// retried after an unknown outcome, a new one for a new request or after
// a definite answer.  Kept in sessionStorage so a reload mid-attempt keeps
// it too.
function attemptKey(fingerprint) {
  try {
    const saved = JSON.parse(sessionStorage.getItem(ATTEMPT_KEY) || 'null');
    if (saved && saved.fingerprint === fingerprint && saved.key) return saved.key;
  } catch { /* nothing saved */ }
  const key = crypto.randomUUID();
  try { sessionStorage.setItem(ATTEMPT_KEY, JSON.stringify({ fingerprint, key })); } catch { /* private mode */ }
  return key;
}

function endAttempt() {
  try { sessionStorage.removeItem(ATTEMPT_KEY); } catch { /* private mode */ }
}

function saveResult(result) {
  try { sessionStorage.setItem(RESULT_PREFIX + result.transaction_id, JSON.stringify(result)); } catch { /* private mode */ }
}

function readResult(txn) {
  try { return JSON.parse(sessionStorage.getItem(RESULT_PREFIX + txn) || 'null'); } catch { return null; }
}

function FieldError({ id, text }) {
  return text ? html`<p class="field-error" id=${id}>${text}</p>` : null;
}

function TestCards({ tokens, value, onChange, error }) {
  return html`<fieldset class="choices" aria-describedby=${error ? 'co-card-error' : 'co-test-note'}>
    <legend>Test card</legend>
    <p class="note" id="co-test-note">Payments here go to the built-in test processor: no real card is charged.</p>
    ${tokens.map((t) => html`<label class="choice">
      <input type="radio" name="test-card" value=${t.token} checked=${value === t.token}
        onChange=${() => onChange(t.token)} />
      <span>${t.label}</span>
    </label>`)}
    <${FieldError} id="co-card-error" text=${error} />
  </fieldset>`;
}

// Stripe Elements' card field, mounted once Stripe.js has loaded; the
// parent gets {stripe, card} through onReady.
function StripeCard({ publishableKey, onReady, error }) {
  const mount = useRef(null);
  const [state, setState] = useState({ loading: true, error: null, message: '' });
  const [attempt, setAttempt] = useState(0);
  useEffect(() => {
    let card = null;
    setState({ loading: true, error: null, message: '' });
    let gone = false;
    loadScript('https://js.stripe.com/v3/').then(() => {
      if (gone || !mount.current) return;
      const stripe = window.Stripe(publishableKey);
      card = stripe.elements().create('card', { hidePostalCode: false });
      card.mount(mount.current);
      card.on('change', (e) => setState((s) => ({ ...s, message: e.error ? e.error.message : '' })));
      setState({ loading: false, error: null, message: '' });
      onReady({ stripe, card });
    }, (e) => { if (!gone) setState({ loading: false, error: e, message: '' }); });
    return () => {
      gone = true;
      if (card) card.destroy();
      onReady(null);
    };
  }, [publishableKey, attempt]);
  const msg = error || state.message;
  return html`<div class="field">
    <label id="co-card-label">Card details</label>
    ${state.loading && html`<${Loading} label="Loading the secure card form…" />`}
    ${state.error && html`<${ErrorBox} error=${state.error} onRetry=${() => setAttempt(attempt + 1)} />`}
    <div id="co-card" class="stripe-card" ref=${mount} role="group" aria-labelledby="co-card-label" hidden=${Boolean(state.error)}
      aria-describedby=${msg ? 'co-card-error' : undefined}></div>
    <${FieldError} id="co-card-error" text=${msg} />
  </div>`;
}

// PayPal's buttons: the order is created in the buyer's PayPal window for
// the total shown, and its approved id is checked out (paypal_order_id);
// the server checks the amount and captures it.
function PayPalButtons({ clientId, total, currency, onApproved, disabled }) {
  const mount = useRef(null);
  const latest = useRef(onApproved);
  latest.current = onApproved;
  const [state, setState] = useState({ loading: true, error: null });
  useEffect(() => {
    let gone = false;
    let buttons = null;
    const src = `https://www.paypal.com/sdk/js?client-id=${encodeURIComponent(clientId)}&currency=${encodeURIComponent(currency)}&intent=capture&components=buttons`;
    loadScript(src).then(() => {
      if (gone || !mount.current) return;
      buttons = window.paypal.Buttons({
        createOrder: (data, actions) => actions.order.create({
          intent: 'CAPTURE',
          purchase_units: [{ amount: { currency_code: currency, value: Number(total).toFixed(2) } }],
        }),
        onApprove: (data) => latest.current(data.orderID),
        onError: () => setState({ loading: false, error: new Error('PayPal could not start the payment. Nothing was charged; try again or pay by card.') }),
      });
      buttons.render(mount.current).then(() => { if (!gone) setState({ loading: false, error: null }); },
        (e) => { if (!gone) setState({ loading: false, error: e }); });
    }, (e) => { if (!gone) setState({ loading: false, error: e }); });
    return () => {
      gone = true;
      if (buttons && buttons.close) buttons.close().catch(() => {});
    };
  }, [clientId, total, currency]);
  return html`<div class=${`paypal${disabled ? ' busy' : ''}`}>
    ${state.loading && html`<${Loading} label="Loading PayPal…" />`}
    ${state.error && html`<${ErrorBox} error=${state.error} />`}
    <div ref=${mount}></div>
  </div>`;
}

function OrderSummary({ cart }) {
  const buying = cart.items.filter((i) => i.is_available);
  const left = cart.items.filter((i) => !i.is_available);
  return html`<aside class="cart-summary" aria-labelledby="co-summary">
    <h2 id="co-summary">Order summary</h2>
    <ul class="summary-items">
      ${buying.map((i) => html`<li key=${i.model_id}>
        <span class="summary-title">${(i.model && i.model.title) || `Model #${i.model_id}`}</span>
        <span class="price">${formatPrice(i.price, (i.model && i.model.currency) || cart.currency)}</span>
      </li>`)}
    </ul>
    ${left.length > 0 && html`<p class="hint">Not included (no longer available): ${left.map((i) => (i.model && i.model.title) || `#${i.model_id}`).join(', ')}.</p>`}
    <p class="summary-line total"><span>Total</span> <strong>${formatPrice(cart.total_amount, cart.currency)}</strong></p>
    <p class="note">Prices are confirmed by the server when you pay. <a href="/cart">View cart</a></p>
  </aside>`;
}

function declinedText(error) {
  return `${error.message} Nothing was charged and nothing was bought; your cart is unchanged.`;
}

// One outcome of a POST /api/checkout, for the attempt's key: is the answer
// final (a new request must get a new key) or unknown (retry with it)?
function isUnknownOutcome(e) {
  return !e.status || e.status === 409 || e.status === 503 || e.status >= 500;
}

function CheckoutForm({ cart, methods, signal }) {
  const card = methods.card || { provider: 'test', available: false };
  const paypal = methods.paypal && methods.paypal.available ? methods.paypal : null;
  const tokens = card.test_tokens || [];
  const cardUsable = card.available && (card.provider === 'test' || card.publishable_key);
  const [method, setMethod] = useState(cardUsable ? 'card' : paypal ? 'paypal' : 'card');
  const [testToken, setTestToken] = useState(tokens.length ? tokens[0].token : '');
  const [state, setState] = useState({ busy: false, declined: null, error: null, fields: {}, retry: null });
  const stripeRef = useRef(null);
  const [stripeReady, setStripeReady] = useState(false);
  const ids = cart.items.filter((i) => i.is_available).map((i) => i.model_id);

  const submit = async (details, paymentMethod) => {
    const body = { model_ids: ids, payment_method: paymentMethod, payment_details: details };
    const fingerprint = JSON.stringify(body);
    const key = attemptKey(fingerprint);
    setState({ busy: true, declined: null, error: null, fields: {}, retry: null });
    try {
      const result = await api('/api/checkout', { method: 'POST', body, signal, headers: { 'Idempotency-Key': key } });
      endAttempt();
      saveResult(result);
      refreshCartCount();
      navigate(`/checkout/complete?txn=${encodeURIComponent(result.transaction_id)}`);
    } catch (e) {
      if (isAbort(e)) return;
      const unknown = isUnknownOutcome(e);
      if (!unknown) endAttempt();
      if (e.status === 402) {
        setState({ busy: false, declined: e, error: null, fields: {}, retry: null });
      } else {
        const shown = e.status ? e : new Error('The answer to your payment did not arrive (a connection problem). '
          + 'Try again: the same attempt is sent again, so you cannot be charged twice.');
        setState({
          busy: false, declined: null, error: shown, fields: e.field_errors || {},
          retry: unknown ? () => submit(details, paymentMethod) : null,
        });
      }
    }
  };

  const onSubmit = async (e) => {
    e.preventDefault();
    if (state.busy) return;
    if (method === 'card' && card.provider === 'test') {
      if (!testToken) {
        setState({ ...state, fields: { 'payment_details.card_token': 'Choose a test card.' } });
        return;
      }
      submit({ card_token: testToken }, 'card');
    } else if (method === 'card') {
      const s = stripeRef.current;
      if (!s) return;
      setState({ ...state, busy: true, declined: null, error: null, fields: {} });
      const { paymentMethod, error } = await s.stripe.createPaymentMethod({ type: 'card', card: s.card });
      if (error) {
        setState({ busy: false, declined: null, error: null, fields: { 'payment_details.card_token': error.message }, retry: null });
        return;
      }
      submit({ card_token: paymentMethod.id }, 'card');
    }
  };

  const fields = state.fields;
  const cardError = fields['payment_details.card_token'] || fields.payment_details;
  const otherFields = Object.entries(fields).filter(([k]) => !k.startsWith('payment_details'));
  return html`<form class="checkout-form" onSubmit=${onSubmit} aria-labelledby="co-pay" novalidate>
    <h2 id="co-pay">Payment</h2>
    ${state.declined && html`<div class="state error declined" role="alert">
      <p><strong>Payment declined.</strong> ${declinedText(state.declined)}</p>
      <p>Choose another card or payment method and try again.</p>
    </div>`}
    ${state.error && html`<div class="state error" role="alert">
      <p>${state.error.message}</p>
      ${otherFields.length > 0 && html`<ul>${otherFields.map(([k, v]) => html`<li>${k === 'model_ids' ? '' : `${k}: `}${v}</li>`)}</ul>`}
      ${state.retry && html`<button type="button" onClick=${state.retry}>Try again</button>`}
    </div>`}
    ${paypal && html`<fieldset class="choices">
      <legend>Payment method</legend>
      <label class="choice"><input type="radio" name="pay-method" value="card" checked=${method === 'card'}
        disabled=${!cardUsable} onChange=${() => setMethod('card')} /><span>Card</span></label>
      <label class="choice"><input type="radio" name="pay-method" value="paypal" checked=${method === 'paypal'}
        onChange=${() => setMethod('paypal')} /><span>PayPal</span></label>
    </fieldset>`}
    ${method === 'card' && !cardUsable && html`<p class="state error" role="alert">Card payments are not available right now.</p>`}
    ${method === 'card' && cardUsable && card.provider === 'test'
      && html`<${TestCards} tokens=${tokens} value=${testToken} onChange=${setTestToken} error=${cardError} />`}
    ${method === 'card' && cardUsable && card.provider === 'stripe'
      && html`<${StripeCard} publishableKey=${card.publishable_key} error=${cardError}
        onReady=${(s) => { stripeRef.current = s; setStripeReady(Boolean(s)); }} />`}
    ${method === 'card' && cardUsable && html`<button type="submit" class="wide"
      disabled=${state.busy || (card.provider === 'stripe' && !stripeReady)}>
      ${state.busy ? 'Processing payment…' : `Pay ${formatPrice(cart.total_amount, cart.currency)}`}
    </button>`}
    ${method === 'paypal' && paypal && html`
      ${fields['payment_details.paypal_order_id'] && html`<p class="field-error">${fields['payment_details.paypal_order_id']}</p>`}
      <${PayPalButtons} clientId=${paypal.client_id} total=${cart.total_amount} currency=${cart.currency}
        disabled=${state.busy} onApproved=${(orderId) => submit({ paypal_order_id: orderId }, 'paypal')} />`}
    <p class="sr-only" role="status" aria-live="polite">${state.busy ? 'Processing your payment…' : ''}</p>
  </form>`;
}

// "Buy now" (/checkout?model=ID): that one model, as a cart of one; the
// server checks that it can be bought.
async function buyNowCart(id, signal) {
  const m = await api(`/api/models/${encodeURIComponent(id)}`, { signal });
  return {
    items: [{ model_id: m.id, model: m, price: m.price, is_available: !m.is_free && Number(m.price) > 0 }],
    total_amount: m.is_free ? 0 : m.price, currency: m.currency || 'USD',
  };
}

export function CheckoutPage({ query, signal }) {
  const one = query.get('model');
  const load = useLoad((sig) => Promise.all([
    one ? buyNowCart(one, sig) : api('/api/cart', { signal: sig }),
    api('/api/checkout/payment-methods', { signal: sig }),
  ]), signal);
  let body;
  if (load.loading) body = html`<${Loading} label="Loading your order…" />`;
  else if (load.error) body = html`<${ErrorBox} error=${load.error} onRetry=${load.reload} />`;
  else {
    const [cart, methods] = load.data;
    if (!cart.items.some((i) => i.is_available)) {
      body = html`<${Empty}>There is nothing to buy: your cart is empty${cart.items.length ? ' or its models are no longer available' : ''}.${' '}
        <a href="/marketplace">Browse the marketplace</a>.<//>`;
    } else {
      body = html`<div class="cart-layout checkout">
        <${CheckoutForm} cart=${cart} methods=${methods} signal=${signal} />
        <${OrderSummary} cart=${cart} />
      </div>`;
    }
  }
  return html`<section class="page">
    <h1>Checkout</h1>
    ${body}
  </section>`;
}

// ------------------------------------------------------ checkout complete

// The order from sessionStorage, or else rebuilt from the purchases; the
// purchases are read either way, for their ids (the licence) and links.
async function loadCompletion(txn, signal) {
  const saved = txn ? readResult(txn) : null;
  const list = await api('/api/users/me/purchases', { query: { limit: 100 }, signal });
  const mine = (list.items || []).filter((p) => !txn || p.transaction_id === txn);
  if (saved) return { order: saved, purchases: mine };
  if (!mine.length) return { order: null, purchases: [] };
  const total = mine.reduce((sum, p) => sum + Number(p.price || 0), 0);
  return {
    order: {
      transaction_id: mine[0].transaction_id, total_amount: Math.round(total * 100) / 100,
      platform_fee: null, currency: mine[0].currency || 'USD', created_at: mine[0].purchased_at,
      purchases: mine.map((p) => ({ model_id: p.model_id, title: p.title, price: p.price,
        download_url: p.download_url, download_expires_at: p.download_expires_at })),
    },
    purchases: mine,
  };
}

function PurchaseRow({ p, bought, currency }) {
  const title = p.title || (bought && bought.title) || `Model #${p.model_id}`;
  return html`<${PurchaseItem} modelId=${p.model_id} title=${title} thumb=${bought && bought.thumbnail_url}
    price=${p.price} currency=${currency} purchaseId=${bought && bought.id}
    refunded=${bought && bought.status === 'refunded'}
    url=${(bought && bought.download_url) || p.download_url}
    expiresAt=${(bought && bought.download_expires_at) || p.download_expires_at} />`;
}

export function CheckoutCompletePage({ query, signal }) {
  const txn = query.get('txn') || '';
  const load = useLoad((sig) => loadCompletion(txn, sig), signal);
  if (load.loading) return html`<section class="page narrow"><h1>Thank you</h1><${Loading} label="Loading your purchase…" /></section>`;
  if (load.error) return html`<section class="page narrow"><h1>Thank you</h1><${ErrorBox} error=${load.error} onRetry=${load.reload} /></section>`;
  const { order, purchases } = load.data;
  if (!order) {
    return html`<section class="page narrow">
      <h1>No purchase to show</h1>
      <${Empty}>${txn ? `No purchase with the transaction ${txn} was found. ` : 'There is no checkout to show here. '}
        Your purchases are listed under <a href="/dashboard/financials">Financials</a>.<//>
    </section>`;
  }
  const byModel = new Map(purchases.map((p) => [p.model_id, p]));
  const currency = order.currency || 'USD';
  return html`<section class="page complete">
    <h1>Thank you for your purchase</h1>
    <p class="lead" role="status">Your payment went through. Your models are ready to download.</p>
    <dl class="stats order-facts">
      <div><dt>Transaction</dt><dd class="mono">${order.transaction_id}</dd></div>
      <div><dt>Total paid</dt><dd>${formatPrice(order.total_amount, currency)}</dd></div>
      ${order.platform_fee !== null && order.platform_fee !== undefined
        && html`<div><dt>Platform fee (included)</dt><dd>${formatMoney(order.platform_fee, currency)}</dd></div>`}
      <div><dt>Date</dt><dd>${formatDate(order.created_at)}</dd></div>
    </dl>
    <h2>Your models</h2>
    <ul class="purchases">
      ${(order.purchases || []).map((p) => html`<${PurchaseRow} key=${p.model_id} p=${p} bought=${byModel.get(p.model_id)} currency=${currency} />`)}
    </ul>
    <p class="note">Download links are valid for a short time; the Download button gets a fresh one when needed.
      A receipt was sent to your email address.</p>
    <p><a href="/marketplace">Continue shopping</a> · <a href="/dashboard/financials">All your purchases</a></p>
  </section>`;
}
