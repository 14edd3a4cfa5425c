// messages.js: direct messages (/dashboard/messages).
//
// - The conversations (GET /api/messages) with their unread counts, newest
//   activity first, and the open one (?c=<conversation id>): its history
//   (GET /api/messages/{id}), paged back with "Load older" (?before=), and a
//   composer (POST /api/messages; Enter sends, Shift+Enter is a new line).
// - The newest message received is marked read when shown
//   (PUT /api/messages/{message id}/read: it and the earlier ones).
// - ?to=<user id> (the "Message" button of a profile) opens the
//   conversation with that user, or a new one that the first message
//   creates.
// - Narrow screens show the list or the conversation, with a way back.
// - Live: subscribeMessages() is the one place new messages come from.
//   Until the WebSocket hub lands it polls every 10 s ({type: 'tick'});
//   then it will open /ws/notifications and hand on its
//   {type: 'message_received', data: {conversation_id, message}} frames
//   (keeping a tick after each reconnect to fetch what was missed).
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, isAbort } from '../api.js';
import { onNotification } from '../bell.js';
import { useSession } from '../session.js';
import { html, Loading, Empty, ErrorBox } from '../ui.js';
import { DashboardNav } from './dashboard.js';
import { Avatar } from './profile.js';

const POLL_MS = 10000;
const HISTORY_LIMIT = 30;
const LIST_LIMIT = 25; // per "More conversations"; the list shows at most 100
const MAX_CHARS = 5000;

// ------------------------------------------------------------ live updates

// Calls onEvent({type: 'tick'}) every POLL_MS while the tab is visible,
// until signal aborts.  The WebSocket subscription replaces this body.
function subscribeMessages(onEvent, signal) {
  // live: the hub's message_received frames, on the header bell's socket
  const off = onNotification((frame) => { if (frame.type === 'message_received') onEvent(frame); });
  // and a slow poll, for a socket that is down or a tab that slept
  const timer = setInterval(() => { if (!document.hidden) onEvent({ type: 'tick' }); }, POLL_MS);
  const onVisible = () => { if (!document.hidden) onEvent({ type: 'tick' }); };
  document.addEventListener('visibilitychange', onVisible);
  signal.addEventListener('abort', () => {
    off();
    clearInterval(timer);
    document.removeEventListener('visibilitychange', onVisible);
  }, { once: true });
}

// ------------------------------------------------------------ helpers

function nameOf(u) {
  return (u && (u.full_name || u.username)) || 'Unknown user';
}

function when(iso) {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  const today = new Date().toDateString() === d.toDateString();
  return new Intl.DateTimeFormat(undefined, today ? { timeStyle: 'short' } : { dateStyle: 'medium', timeStyle: 'short' })
    .format(d);
}

// Messages a and b merged by id, oldest first, without duplicates.
function merge(a, b) {
  const byId = new Map();
  for (const m of a) byId.set(m.id, m);
  for (const m of b) byId.set(m.id, m);
  return [...byId.values()].sort((x, y) => x.id - y.id);
}

function setUrl(params) {
  const url = new URL(location.href);
  url.search = '';
  for (const [k, v] of Object.entries(params)) if (v) url.searchParams.set(k, String(v));
  history.replaceState(null, '', url);
}

// ------------------------------------------------------------ the list

function ConversationItem({ c, me, selected, onOpen }) {
  const last = c.last_message;
  const preview = last ? `${last.sender_id === me ? 'You: ' : ''}${last.content}` : 'No messages yet';
  return html`<li>
    <button type="button" class=${`dm-item${c.unread_count ? ' unread' : ''}`} aria-current=${selected ? 'true' : undefined}
      onClick=${() => onOpen(c)}>
      <${Avatar} url=${c.other_user.avatar_url} name=${nameOf(c.other_user)} size=${40} />
      <span class="dm-item-text">
        <span class="dm-item-name">${nameOf(c.other_user)}</span>
        <span class="dm-item-preview">${preview}</span>
      </span>
      <span class="dm-item-side">
        <span class="dm-item-time">${when(c.updated_at)}</span>
        ${c.unread_count > 0 && html`<span class="badge">${c.unread_count}<span class="sr-only"> unread</span></span>`}
      </span>
    </button>
  </li>`;
}

function ConversationList({ list, me, openId, onOpen, onMore, onRetry }) {
  let body;
  if (list.loading && !list.items) body = html`<${Loading} label="Loading conversations…" />`;
  else if (list.error && !list.items) body = html`<${ErrorBox} error=${list.error} onRetry=${onRetry} />`;
  else if (!list.items.length) {
    body = html`<${Empty}>No conversations yet. Open a creator's profile and choose “Message” to start one.<//>`;
  } else {
    body = html`<ul class="dm-items">
      ${list.items.map((c) => html`<${ConversationItem} key=${c.id} c=${c} me=${me} selected=${c.id === openId} onOpen=${onOpen} />`)}
    </ul>
    ${list.more && html`<button type="button" class="secondary dm-more" onClick=${onMore}>More conversations</button>`}`;
  }
  return html`<section class="dm-list" aria-labelledby="dm-list-title">
    <h2 id="dm-list-title">Conversations${list.unread > 0 && html` <span class="badge">${list.unread}<span class="sr-only"> unread</span></span>`}</h2>
    ${body}
  </section>`;
}

// ------------------------------------------------------------ the conversation

function MessageItem({ m, me }) {
  const mine = m.sender_id === me;
  return html`<li class=${`dm-msg${mine ? ' mine' : ''}`}>
    <span class="sr-only">${mine ? 'You' : 'They'} wrote:</span>
    <p class="dm-msg-text">${m.content}</p>
    <span class="dm-msg-meta">${when(m.created_at)}${mine && m.is_read ? ' · Read' : ''}</span>
  </li>`;
}

function Composer({ disabled, note, onSend }) {
  const [text, setText] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const submit = async (e) => {
    if (e) e.preventDefault();
    const content = text.trim();
    if (!content || busy || disabled) return;
    setBusy(true);
    setError(null);
    try {
      await onSend(content);
      setText('');
    } catch (err) {
      if (!isAbort(err)) setError(err);
    } finally {
      setBusy(false);
    }
  };
  const onKeyDown = (e) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) submit(e);
  };
  const fieldError = error && error.field_errors && (error.field_errors.content || [])[0];
  const otherError = error && !fieldError ? error.message : '';
  return html`<form class="dm-composer" onSubmit=${submit} noValidate>
    ${note && html`<p class="note" role="status">${note}</p>`}
    <label for="dm-text">Message</label>
    <div class="dm-composer-row">
      <textarea id="dm-text" rows="2" maxLength=${MAX_CHARS} value=${text} disabled=${disabled}
        aria-invalid=${fieldError ? 'true' : undefined}
        aria-describedby=${fieldError ? 'dm-text-error' : 'dm-text-hint'}
        onInput=${(e) => setText(e.currentTarget.value)} onKeyDown=${onKeyDown}></textarea>
      <button type="submit" disabled=${disabled || busy || !text.trim()}>Send</button>
    </div>
    ${fieldError
      ? html`<p id="dm-text-error" class="field-error">${fieldError}</p>`
      : html`<p id="dm-text-hint" class="field-hint">Enter sends, Shift+Enter starts a new line.</p>`}
    ${otherError && html`<p class="field-error" role="alert">${otherError}</p>`}
  </form>`;
}

// The open conversation: convId (null for a new one with peer), its
// history, and the composer.  tick and pushed come from the live feed.
function Thread({ convId, peer, me, tick, pushed, signal, onSent, onRead, onBack, onBlocked }) {
  const [state, setState] = useState({ loading: !!convId, error: null, items: [], more: false, before: null, conv: null });
  const [older, setOlder] = useState(false);
  const [blockBusy, setBlockBusy] = useState(false);
  const [blockError, setBlockError] = useState('');
  const listRef = useRef(null);
  const stickBottom = useRef(true);
  const current = useRef(convId);
  current.current = convId;

  const load = async (initial) => {
    if (!convId) return;
    try {
      const page = await api(`/api/messages/${convId}`, { query: { limit: HISTORY_LIMIT }, signal });
      if (current.current !== convId) return;
      setState((s) => initial
        ? { loading: false, error: null, items: page.items, more: page.has_more, before: page.next_before, conv: page.conversation }
        : { ...s, items: merge(s.items, page.items), conv: page.conversation });
    } catch (error) {
      if (!isAbort(error) && current.current === convId && initial)
        setState((s) => ({ ...s, loading: false, error }));
    }
  };

  useEffect(() => {
    stickBottom.current = true;
    setState({ loading: !!convId, error: null, items: [], more: false, before: null, conv: null });
    load(true);
  }, [convId]);
  useEffect(() => { if (tick) load(false); }, [tick]);
  useEffect(() => {
    if (pushed && pushed.conversation_id === convId)
      setState((s) => ({ ...s, items: merge(s.items, [pushed]) }));
  }, [pushed]);

  // Keep the newest message in view unless the reader scrolled up.
  useEffect(() => {
    const el = listRef.current;
    if (el && stickBottom.current) el.scrollTop = el.scrollHeight;
  }, [state.items.length]);

  // Mark the newest received message read (it and the earlier ones).
  useEffect(() => {
    const unread = state.items.filter((m) => m.recipient_id === me && !m.is_read);
    if (!unread.length) return;
    const newest = unread[unread.length - 1];
    api(`/api/messages/${newest.id}/read`, { method: 'PUT', signal }).then((r) => {
      setState((s) => ({ ...s, items: s.items.map((m) => (m.recipient_id === me && m.id <= newest.id ? { ...m, is_read: true } : m)) }));
      onRead(r);
    }, () => {});
  }, [state.items]);

  const loadOlder = async () => {
    setOlder(true);
    const el = listRef.current;
    const fromBottom = el ? el.scrollHeight - el.scrollTop : 0;
    try {
      const page = await api(`/api/messages/${convId}`, { query: { limit: HISTORY_LIMIT, before: state.before }, signal });
      stickBottom.current = false;
      setState((s) => ({ ...s, items: merge(page.items, s.items), more: page.has_more, before: page.next_before }));
      requestAnimationFrame(() => { if (el) el.scrollTop = el.scrollHeight - fromBottom; });
    } catch (error) {
      if (!isAbort(error)) setState((s) => ({ ...s, error }));
    } finally {
      setOlder(false);
    }
  };

  const send = async (content) => {
    const body = convId ? { conversation_id: convId, content } : { recipient_id: peer.id, content };
    const m = await api('/api/messages', { method: 'POST', body, signal });
    stickBottom.current = true;
    if (convId) setState((s) => ({ ...s, items: merge(s.items, [m]) }));
    onSent(m);
  };

  const other = (state.conv && state.conv.other_user) || peer;
  const blocked = !!(state.conv && state.conv.is_blocked);
  const toggleBlock = async () => {
    setBlockBusy(true);
    setBlockError('');
    try {
      const r = await api(`/api/users/${other.id}/block`, { method: blocked ? 'DELETE' : 'POST', signal });
      setState((s) => ({ ...s, conv: s.conv && { ...s.conv, is_blocked: r.is_blocked } }));
      onBlocked(convId, r.is_blocked);
    } catch (error) {
      if (!isAbort(error)) setBlockError(error.message);
    } finally {
      setBlockBusy(false);
    }
  };

  const onScroll = () => {
    const el = listRef.current;
    if (el) stickBottom.current = el.scrollHeight - el.scrollTop - el.clientHeight < 40;
  };

  let body;
  if (state.loading) body = html`<${Loading} label="Loading messages…" />`;
  else if (state.error && !state.items.length) {
    body = html`<${ErrorBox} error=${state.error} onRetry=${() => load(true)} />`;
  } else {
    body = html`<div class="dm-scroll" ref=${listRef} onScroll=${onScroll} tabIndex="0" aria-label="Message history">
      ${state.more && html`<p class="dm-older"><button type="button" class="secondary" disabled=${older} onClick=${loadOlder}>
        ${older ? 'Loading…' : 'Load older'}</button></p>`}
      ${state.items.length
        ? html`<ol class="dm-messages" aria-live="polite" aria-relevant="additions">
            ${state.items.map((m) => html`<${MessageItem} key=${m.id} m=${m} me=${me} />`)}
          </ol>`
        : html`<${Empty}>No messages yet. Say hello!<//>`}
    </div>`;
  }
  const inactive = state.conv && state.conv.other_user && state.conv.other_user.is_active === false;
  const note = inactive ? 'This account is no longer active: it cannot receive messages.'
    : blocked ? 'You have blocked this user. Unblock them to send a message.' : '';
  return html`<section class="dm-thread" aria-labelledby="dm-thread-title">
    <header class="dm-thread-head">
      <button type="button" class="link dm-back" onClick=${onBack}>← Back to conversations</button>
      <div class="dm-peer">
        ${other && html`<${Avatar} url=${other.avatar_url} name=${nameOf(other)} size=${40} />`}
        <div class="dm-peer-text">
          <h2 id="dm-thread-title">${other ? nameOf(other) : 'Conversation'}</h2>
          ${other && other.username && html`<a class="handle" href=${`/u/${encodeURIComponent(other.username)}`}>@${other.username}</a>`}
        </div>
        ${convId && other && html`<button type="button" class="secondary dm-block" disabled=${blockBusy} onClick=${toggleBlock}>
          ${blocked ? 'Unblock' : 'Block'}</button>`}
      </div>
      ${blockError && html`<p class="field-error" role="alert">${blockError}</p>`}
    </header>
    ${body}
    <${Composer} key=${convId || `to-${peer && peer.id}`} disabled=${!!inactive || blocked || (!convId && !peer)} note=${note} onSend=${send} />
  </section>`;
}

// ------------------------------------------------------------ the page

export function MessagesPage({ query, signal }) {
  const { user } = useSession();
  const me = user ? user.id : null;
  const startConv = parseInt(query.get('c') || '', 10) || null;
  const startTo = parseInt(query.get('to') || '', 10) || null;
  const [list, setList] = useState({ loading: true, error: null, items: null, more: false, page: 1, unread: 0 });
  const [openId, setOpenId] = useState(startConv);
  const [peer, setPeer] = useState(null);       // a new conversation's other user
  const [peerError, setPeerError] = useState(null);
  const [tick, setTick] = useState(0);
  const [pushed, setPushed] = useState(null);

  // Page 1 (and any pages already shown) of the list, again.
  const loadList = async (pages = list.page) => {
    try {
      const limit = Math.min(100, LIST_LIMIT * pages);
      const body = await api('/api/messages', { query: { page: 1, limit }, signal });
      setList({
        loading: false, error: null, items: body.items, page: pages, unread: body.unread_count,
        more: limit < 100 && body.total > body.items.length,
      });
      return body.items;
    } catch (error) {
      if (!isAbort(error)) setList((l) => ({ ...l, loading: false, error }));
      return null;
    }
  };

  useEffect(() => {
    loadList(1).then((items) => {
      if (!items || !startTo || startConv || startTo === me) return;
      const found = items.find((c) => c.other_user.id === startTo);
      if (found) {
        setOpenId(found.id);
        setUrl({ c: found.id });
        return;
      }
      api(`/api/users/${startTo}`, { signal }).then(setPeer, (e) => { if (!isAbort(e)) setPeerError(e); });
    });
    subscribeMessages((event) => {
      if (event.type === 'message_received') setPushed(event.data.message);
      setTick((t) => t + 1);
    }, signal);
  }, []);
  useEffect(() => { if (tick) loadList(); }, [tick]);

  const open = (c) => {
    setPeer(null);
    setPeerError(null);
    setOpenId(c.id);
    setUrl({ c: c.id });
  };
  const back = () => {
    setOpenId(null);
    setPeer(null);
    setPeerError(null);
    setUrl({});
    requestAnimationFrame(() => {
      const el = document.querySelector('.dm-item[aria-current="true"], .dm-item');
      if (el) el.focus();
    });
  };
  const onSent = (m) => {
    if (!openId) {
      setPeer(null);
      setOpenId(m.conversation_id);
      setUrl({ c: m.conversation_id });
    }
    loadList();
  };
  const onRead = (r) => {
    setList((l) => ({
      ...l, unread: r.total_unread_count,
      items: l.items && l.items.map((c) => (c.id === r.conversation_id ? { ...c, unread_count: r.unread_count } : c)),
    }));
  };
  const onBlocked = (convId, isBlocked) => {
    setList((l) => ({ ...l, items: l.items && l.items.map((c) => (c.id === convId ? { ...c, is_blocked: isBlocked } : c)) }));
  };

  const showing = openId || peer || peerError;
  let thread;
  if (peerError) {
    thread = html`<section class="dm-thread" aria-labelledby="dm-thread-title">
      <button type="button" class="link dm-back" onClick=${back}>← Back to conversations</button>
      <h2 id="dm-thread-title">New conversation</h2>
      <${ErrorBox} error=${peerError.status === 404 ? { message: 'This user cannot be found.' } : peerError} />
    </section>`;
  } else if (openId || peer) {
    thread = html`<${Thread} convId=${openId} peer=${peer} me=${me} tick=${tick} pushed=${pushed} signal=${signal}
      onSent=${onSent} onRead=${onRead} onBack=${back} onBlocked=${onBlocked} />`;
  } else {
    thread = html`<section class="dm-thread dm-none" aria-label="No conversation open">
      <p class="note">Choose a conversation to read it.</p>
    </section>`;
  }
  return html`<section class="page dm-page">
    <h1>Messages</h1>
    <${DashboardNav} current="/dashboard/messages" />
    <div class=${`dm${showing ? ' dm-open' : ''}`}>
      <${ConversationList} list=${list} me=${me} openId=${openId} onOpen=${open} onRetry=${() => loadList(1)}
        onMore=${() => loadList(list.page + 1)} />
      ${thread}
    </div>
  </section>`;
}
