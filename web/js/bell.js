// bell.js: the notification bell in the header, and the one store of the
// caller's notifications that the bell and the social dashboard share.
//
// The store holds the unread count and the latest notifications
// (GET /api/notifications).  Until the WebSocket hub serves
// /ws/notifications it is refreshed by polling, every POLL_MS and when the
// tab comes back into view.  Every new notification is handed to the
// onNotification(cb) subscribers as a frame {type, data}, the shape of the
// hub's frames, so that a live source can replace the poller without the
// subscribers noticing: it calls setPolling(false) once connected, then
// receiveFrame(frame) for each frame (which also refreshes the count), and
// setPolling(true) when it loses the connection.
import { useEffect, useRef, useState } from 'preact/hooks';
import { api } from './api.js';
import { live } from './live.js';
import { useSession } from './session.js';
import { html, formatCount } from './ui.js';

const POLL_MS = 60000;
const LATEST = 8;

let state = { unread: 0, items: [], loaded: false, error: null };
const views = new Set();
const subscribers = new Set();
let userId = null;
let newest = 0;
let polling = true;
let timer = null;

function update(changes) {
  state = { ...state, ...changes };
  for (const fn of views) fn(state);
}

// {unread, items, loaded, error}; re-renders the caller when it changes.
export function useNotifications() {
  const [s, setS] = useState(state);
  useEffect(() => {
    views.add(setS);
    setS(state);
    return () => views.delete(setS);
  }, []);
  return s;
}

// cb({type, data}) for each new notification (data: the notification, or
// the event's data once frames come from the hub).  Returns the unsubscribe.
export function onNotification(cb) {
  subscribers.add(cb);
  return () => subscribers.delete(cb);
}

function deliver(frame) {
  for (const cb of subscribers) {
    try { cb(frame); } catch { /* one subscriber's bug is not the others' */ }
  }
}

// Reads the latest notifications and the unread count; the ones newer
// than those seen before go to the subscribers (not on the first read).
export async function refreshNotifications({ quiet = false } = {}) {
  if (userId === null) return;
  const who = userId;
  try {
    const b = await api('/api/notifications', { query: { limit: LATEST } });
    if (who !== userId) return;
    const fresh = newest && !quiet ? b.notifications.filter((n) => n.id > newest) : [];
    for (const n of b.notifications) newest = Math.max(newest, n.id);
    update({ unread: b.unread_count, items: b.notifications, loaded: true, error: null });
    for (const n of fresh.reverse()) deliver({ type: n.type, data: n });
  } catch (error) {
    if (who === userId) update({ loaded: true, error });
  }
}

// For a live source (the hub's /ws/notifications): one frame.  Frames that
// are not notifications (a direct message, typing) go to the subscribers
// only.
export function receiveFrame(frame) {
  deliver(frame);
  if (frame.type !== 'message_received' && frame.type !== 'typing_indicator') refreshNotifications({ quiet: true });
}

// The signed-in tab's /ws/notifications: while it is up, no polling; on
// every (re)connection the list is read again (what came meanwhile).
let socket = null;

function connectLive() {
  socket = live('/ws/notifications', receiveFrame, {
    onOpen: () => { setPolling(false); refreshNotifications(); },
    onDown: () => setPolling(true),
  });
}

function schedule() {
  clearInterval(timer);
  timer = userId !== null && polling ? setInterval(refreshNotifications, POLL_MS) : null;
}

// A live source calls setPolling(false) while it is connected.
export function setPolling(on) {
  polling = on;
  schedule();
}

function onVisible() {
  if (document.visibilityState === 'visible' && polling) refreshNotifications();
}

function start(id) {
  if (userId === id) return;
  userId = id;
  newest = 0;
  update({ unread: 0, items: [], loaded: false, error: null });
  schedule();
  document.addEventListener('visibilitychange', onVisible);
  refreshNotifications();
  connectLive();
}

function stop() {
  if (socket) socket.close();
  socket = null;
  polling = true;
  userId = null;
  schedule();
  document.removeEventListener('visibilitychange', onVisible);
  update({ unread: 0, items: [], loaded: false, error: null });
}

// Marks one read (PUT /api/notifications/{id}/read); the store follows.
export async function markRead(id) {
  const r = await api(`/api/notifications/${id}/read`, { method: 'PUT' });
  update({ unread: r.unread_count, items: state.items.map((n) => (n.id === id ? { ...n, is_read: true } : n)) });
  return r;
}

// Marks every notification read, up to the newest one shown, so that one
// arriving meanwhile stays unread.
export async function markAllRead(upTo = newest) {
  const r = await api('/api/notifications/read-all', { method: 'PUT', query: { up_to_id: upTo || undefined } });
  update({ unread: r.unread_count, items: state.items.map((n) => (n.id <= upTo || !upTo ? { ...n, is_read: true } : n)) });
  return r;
}

export function timeAgo(iso) {
  const t = new Date(iso).getTime();
  if (Number.isNaN(t)) return '';
  const s = Math.max(0, Math.round((Date.now() - t) / 1000));
  const rtf = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });
  if (s < 60) return rtf.format(-s, 'second');
  if (s < 3600) return rtf.format(-Math.round(s / 60), 'minute');
  if (s < 86400) return rtf.format(-Math.round(s / 3600), 'hour');
  if (s < 86400 * 30) return rtf.format(-Math.round(s / 86400), 'day');
  return new Intl.DateTimeFormat(undefined, { dateStyle: 'medium' }).format(new Date(t));
}

export function unreadLabel(n) {
  return n ? `Notifications, ${formatCount(n)} unread` : 'Notifications, none unread';
}

function BellIcon() {
  return html`<svg aria-hidden="true" focusable="false" width="20" height="20" viewBox="0 0 24 24" fill="none"
    stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round">
    <path d="M18 8a6 6 0 0 0-12 0c0 7-3 9-3 9h18s-3-2-3-9" /><path d="M13.7 21a2 2 0 0 1-3.4 0" />
  </svg>`;
}

function Panel({ s, onClose }) {
  const [error, setError] = useState('');
  const all = async () => {
    setError('');
    try { await markAllRead(); } catch (e) { setError(e.message); }
  };
  const open = (n) => {
    if (!n.is_read) markRead(n.id).catch(() => {});
    onClose();
  };
  let body;
  if (!s.loaded) body = html`<p class="bell-state" role="status">Loading…</p>`;
  else if (s.error && !s.items.length) body = html`<p class="bell-state error" role="alert">${s.error.message}</p>`;
  else if (!s.items.length) body = html`<p class="bell-state">No notifications yet.</p>`;
  else {
    body = html`<ul class="bell-list">${s.items.map((n) => html`<li key=${n.id} class=${n.is_read ? 'read' : 'unread'}>
      <a href=${n.action_url || '/dashboard/social?tab=notifications'} onClick=${() => open(n)}>
        <span class="bell-title">${n.is_read ? '' : html`<span class="sr-only">Unread: </span>`}${n.title}</span>
        <span class="bell-message">${n.message}</span>
        <span class="bell-time">${timeAgo(n.created_at)}</span>
      </a>
    </li>`)}</ul>`;
  }
  return html`<div id="bell-panel" class="bell-panel" role="region" aria-label="Latest notifications">
    <div class="bell-head">
      <h2>Notifications</h2>
      <button type="button" class="link" onClick=${all} disabled=${!s.unread}>Mark all read</button>
    </div>
    ${error && html`<p class="bell-state error" role="alert">${error}</p>`}
    ${body}
    <p class="bell-foot"><a href="/dashboard/social?tab=notifications" onClick=${onClose}>See all notifications</a></p>
  </div>`;
}

// The header's bell: signed-in users only.
export function Bell() {
  const { user } = useSession();
  const s = useNotifications();
  const [open, setOpen] = useState(false);
  const box = useRef(null);
  const button = useRef(null);
  const id = user ? user.id : null;

  useEffect(() => {
    if (id === null) stop();
    else start(id);
  }, [id]);

  useEffect(() => {
    if (!open) return undefined;
    refreshNotifications();
    const outside = (e) => { if (box.current && !box.current.contains(e.target)) setOpen(false); };
    const key = (e) => {
      if (e.key !== 'Escape') return;
      setOpen(false);
      if (button.current) button.current.focus();
    };
    document.addEventListener('click', outside);
    document.addEventListener('keydown', key);
    return () => {
      document.removeEventListener('click', outside);
      document.removeEventListener('keydown', key);
    };
  }, [open]);

  if (!user) return null;
  const n = s.unread;
  return html`<div class="bell" ref=${box}>
    <button type="button" class="bell-button" ref=${button} aria-label=${unreadLabel(n)}
      aria-expanded=${open ? 'true' : 'false'} aria-controls=${open ? 'bell-panel' : undefined} onClick=${() => setOpen(!open)}>
      <${BellIcon} />
      ${n > 0 && html`<span class="badge" aria-hidden="true">${n > 99 ? '99+' : n}</span>`}
    </button>
    ${open && html`<${Panel} s=${s} onClose=${() => setOpen(false)} />`}
  </div>`;
}
