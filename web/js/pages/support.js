// support.js: the support chat (/support, guide section 9).  The caller's
// tickets with their status (GET /api/support/tickets), a "New ticket" form
// (POST /api/support/tickets), and the open ticket's conversation
// (/support?ticket=ID: GET /api/support/tickets/{id}, POST …/messages) with
// attachments uploaded first through POST /api/upload/attachment.  Until the
// WebSocket hub lands, the list and the open conversation are polled every
// 10 s; a poll fetches only the messages after the last one shown.
import { useEffect, useRef, useState } from 'preact/hooks';
import * as client from '../api.js';
import { live } from '../live.js';
import { navigate } from '../nav.js';
import { useSession } from '../session.js';
import { html, useLoad, Loading, Empty, ErrorBox } from '../ui.js';
import { Field, FormError, useSubmit } from './auth.js';

const { api, isAbort } = client;
const POLL_MS = 10000;
const FILES_MAX = 5;
const FILE_MAX_BYTES = 25 * 1024 * 1024;
const FILE_NAMES = /\.(jpe?g|png|webp|pdf|txt|zip)$/i;
const ACCEPT = '.jpg,.jpeg,.png,.webp,.pdf,.txt,.zip';

const STATUS_TEXT = { active: 'Waiting for support', pending: 'Support replied', resolved: 'Resolved' };
const CATEGORIES = [['general', 'General'], ['account', 'Account'], ['billing', 'Billing and payments'],
  ['technical', 'Technical problem'], ['models', 'Models and downloads'], ['other', 'Other']];
const PRIORITIES = [['low', 'Low'], ['normal', 'Normal'], ['high', 'High'], ['urgent', 'Urgent']];

function when(iso) {
  if (!iso) return '';
  return new Date(iso).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}

function StatusBadge({ status }) {
  return html`<span class=${`ticket-status status-${status}`}>${STATUS_TEXT[status] || status}</span>`;
}

// Runs fn every POLL_MS while the page is shown and the tab visible.
function usePoll(fn, signal) {
  const saved = useRef(fn);
  saved.current = fn;
  useEffect(() => {
    const t = setInterval(() => { if (!document.hidden && !signal.aborted) saved.current(); }, POLL_MS);
    signal.addEventListener('abort', () => clearInterval(t), { once: true });
    return () => clearInterval(t);
  }, []);
}

// The files picked, checked here before anything is sent; "" when fine.
function fileProblem(files) {
  if (files.length > FILES_MAX) return `Attach at most ${FILES_MAX} files.`;
  for (const f of files) {
    if (!FILE_NAMES.test(f.name)) return `${f.name}: attach images (.jpg, .png, .webp), .pdf, .txt or .zip files.`;
    if (f.size > FILE_MAX_BYTES) return `${f.name} is larger than 25 MB.`;
  }
  return '';
}

// Uploads the files one by one; their upload ids.
async function uploadAll(files, signal) {
  const ids = [];
  for (const f of files) {
    const form = new FormData();
    form.append('file', f, f.name);
    const r = await client.upload('/api/upload/attachment', form, { signal });
    ids.push(r.upload_id);
  }
  return ids;
}

function pickedFiles(form, name) {
  const input = form.elements.namedItem(name);
  return input && input.files ? Array.from(input.files) : [];
}

// ---------------------------------------------------------------- the list

function TicketList({ current, signal }) {
  const [status, setStatus] = useState('all');
  const [data, setData] = useState(null);
  const [error, setError] = useState(null);
  const load = async () => {
    try {
      const d = await api('/api/support/tickets', { query: { status, limit: 100 }, signal });
      setData(d);
      setError(null);
    } catch (e) {
      if (!isAbort(e)) setError(e);
    }
  };
  useEffect(() => { setData(null); load(); }, [status]);
  usePoll(load, signal);
  return html`<aside class="support-list" aria-labelledby="support-list-title">
    <div class="support-list-head">
      <h2 id="support-list-title">Your tickets</h2>
      <div class="field">
        <label for="support-filter">Show</label>
        <select id="support-filter" value=${status} onChange=${(e) => setStatus(e.target.value)}>
          <option value="all">All</option>
          <option value="active">Waiting for support</option>
          <option value="pending">Support replied</option>
          <option value="resolved">Resolved</option>
        </select>
      </div>
    </div>
    ${error && html`<${ErrorBox} error=${error} onRetry=${load} />`}
    ${!error && !data && html`<${Loading} label="Loading tickets…" />`}
    ${data && data.items.length === 0 && html`<${Empty}>${status === 'all' ? 'No tickets yet.' : 'No tickets with this status.'}<//>`}
    ${data && data.items.length > 0 && html`<ul class="ticket-items">
      ${data.items.map((t) => html`<li key=${t.id}>
        <a class=${`ticket-item${String(t.id) === current ? ' current' : ''}`} href=${`/support?ticket=${t.id}`}
          aria-current=${String(t.id) === current ? 'page' : undefined}>
          <span class="ticket-subject">${t.subject}</span>
          <${StatusBadge} status=${t.status} />
          ${t.last_message && html`<span class="ticket-preview">${t.last_message.is_staff ? 'Support: ' : 'You: '}${t.last_message.message}</span>`}
          <small class="hint-muted">#${t.id} · ${when(t.last_message_at)}</small>
        </a>
      </li>`)}
    </ul>`}
  </aside>`;
}

// ------------------------------------------------------------ a new ticket

function NewTicketForm({ signal }) {
  const [problem, setProblem] = useState('');
  const f = useSubmit(async (data, form) => {
    const files = pickedFiles(form, 'files');
    const bad = fileProblem(files);
    if (bad) {
      setProblem(bad);
      return false;
    }
    setProblem('');
    const missing = {};
    if (data.get('subject').trim().length < 3) missing.subject = ['Give a subject of at least 3 characters.'];
    if (!data.get('message').trim() && files.length === 0) missing.message = ['Write a message, or attach a file.'];
    if (Object.keys(missing).length) throw { message: 'Check the fields marked below.', field_errors: missing };
    const attachment_ids = await uploadAll(files, signal);
    const t = await api('/api/support/tickets', {
      method: 'POST', signal,
      body: {
        subject: data.get('subject').trim(), category: data.get('category'), priority: data.get('priority'),
        message: data.get('message'), attachment_ids,
      },
    });
    navigate(`/support?ticket=${t.id}`);
    return true;
  });
  const shown = ['subject', 'category', 'priority', 'message', 'attachment_ids'];
  return html`<form class="stack support-new" onSubmit=${f.onSubmit} novalidate aria-labelledby="support-new-title">
    <h2 id="support-new-title">New ticket</h2>
    <${FormError} error=${f.error} wait=${f.wait} shown=${shown} />
    <${Field} id="ticket-subject" label="Subject" name="subject" required minlength="3" maxlength="200"
      hint="A short summary, 3 to 200 characters" errors=${f.fields.subject} />
    <div class="two">
      <${Field} id="ticket-category" as="select" label="Category" name="category" errors=${f.fields.category}>
        ${CATEGORIES.map(([v, t]) => html`<option value=${v}>${t}</option>`)}
      <//>
      <${Field} id="ticket-priority" as="select" label="Priority" name="priority" errors=${f.fields.priority}>
        ${PRIORITIES.map(([v, t]) => html`<option value=${v} selected=${v === 'normal'}>${t}</option>`)}
      <//>
    </div>
    <${Field} id="ticket-message" as="textarea" label="Message" name="message" rows="6" maxlength="5000" required
      hint="What happened, and what you expected (up to 5,000 characters)" errors=${f.fields.message} />
    <${Field} id="ticket-files" label="Attachments" name="files" type="file" multiple accept=${ACCEPT}
      hint="Up to 5 files: images, .pdf, .txt or .zip, 25 MB each"
      errors=${problem ? [problem] : f.fields.attachment_ids} />
    <div class="actions">
      <button type="submit" disabled=${f.busy || f.wait > 0}>${f.busy ? 'Sending…' : 'Create ticket'}</button>
      <a href="/support">Cancel</a>
    </div>
  </form>`;
}

// ---------------------------------------------------------- a conversation

function Message({ m, me }) {
  const mine = m.sender && me && m.sender.id === me.id && !m.is_staff;
  const who = mine ? 'You' : m.is_staff ? `Support${m.sender ? ` (${m.sender.username})` : ''}` : (m.sender ? m.sender.username : 'User');
  return html`<li class=${`support-msg${m.is_staff ? ' staff' : ''}${mine ? ' mine' : ''}`}>
    <p class="support-msg-head"><strong>${who}</strong>${m.via === 'email' ? ' · by email' : ''}
      <time datetime=${m.created_at}> · ${when(m.created_at)}</time></p>
    ${m.message && html`<p class="support-msg-body">${m.message}</p>`}
    ${m.attachments.length > 0 && html`<ul class="support-files" aria-label="Attachments">
      ${m.attachments.map((a) => html`<li key=${a.id}>
        <a href=${a.url} download=${a.filename}>${a.filename}</a>
        <small class="hint-muted"> ${a.file_format}, ${Math.max(1, Math.round(a.file_size / 1024))} KB</small>
      </li>`)}
    </ul>`}
  </li>`;
}

function ReplyForm({ ticket, onSent, onTyping, signal }) {
  const lastTyping = useRef(0);
  // at most one typing indicator every 3 s while the user types
  const typed = () => {
    if (!onTyping || Date.now() - lastTyping.current < 3000) return;
    lastTyping.current = Date.now();
    onTyping();
  };
  const [problem, setProblem] = useState('');
  const f = useSubmit(async (data, form) => {
    const files = pickedFiles(form, 'files');
    const bad = fileProblem(files);
    if (bad) {
      setProblem(bad);
      return false;
    }
    setProblem('');
    const attachment_ids = await uploadAll(files, signal);
    const m = await api(`/api/support/tickets/${ticket.id}/messages`, {
      method: 'POST', signal, body: { message: data.get('message'), attachment_ids },
    });
    form.reset();
    onSent(m);
    return false;
  });
  return html`<form class="stack support-reply" onSubmit=${f.onSubmit} novalidate aria-label="Reply">
    <${FormError} error=${f.error} wait=${f.wait} shown=${['message', 'attachment_ids']} />
    <${Field} id="reply-message" as="textarea" label="Your message" name="message" rows="3" maxlength="5000" onInput=${typed}
      hint=${ticket.status === 'resolved' ? 'Writing again reopens this ticket.' : undefined} errors=${f.fields.message} />
    <div class="support-reply-row">
      <${Field} id="reply-files" class="grow" label="Attach files" name="files" type="file" multiple accept=${ACCEPT}
        errors=${problem ? [problem] : f.fields.attachment_ids} />
      <button type="submit" disabled=${f.busy || f.wait > 0}>${f.busy ? 'Sending…' : 'Send'}</button>
    </div>
  </form>`;
}

function Conversation({ id, signal }) {
  const { user } = useSession();
  const { data, error, loading, reload } = useLoad((s) => api(`/api/support/tickets/${encodeURIComponent(id)}`, { signal: s }), signal);
  const [ticket, setTicket] = useState(null);
  const [messages, setMessages] = useState([]);
  const listRef = useRef(null);
  useEffect(() => {
    if (!data) return;
    setTicket(data);
    setMessages(data.messages);
  }, [data]);
  const add = (more) => setMessages((old) => {
    const seen = new Set(old.map((m) => m.id));
    return old.concat(more.filter((m) => !seen.has(m.id)));
  });
  const catchUp = async () => {
    if (!ticket) return;
    const last = messages.length ? messages[messages.length - 1].id : undefined;
    try {
      const d = await api(`/api/support/tickets/${ticket.id}`, { query: { after_id: last }, signal });
      setTicket(d);
      add(d.messages);
    } catch (e) {
      if (!isAbort(e)) { /* the next poll tries again */ }
    }
  };
  usePoll(catchUp, signal);
  // live: the ticket's /ws/support/{id} (new messages, status changes, the
  // other side typing); on every (re)connection, what came meanwhile
  const [typing, setTyping] = useState(null);
  const catchUpRef = useRef(catchUp);
  catchUpRef.current = catchUp;
  const socket = useRef(null);
  useEffect(() => {
    if (!ticket) return undefined;
    let quiet = null;
    const sock = live(`/ws/support/${ticket.id}`, (f) => {
      if (f.type === 'typing_indicator') {
        clearTimeout(quiet);
        setTyping(f.data && f.data.is_typing ? f.data.username || 'Someone' : null);
        quiet = setTimeout(() => setTyping(null), 6000);
      } else if (f.type === 'message_received' || f.type === 'ticket_status_changed') {
        setTyping(null);
        catchUpRef.current();
      }
    }, { onOpen: () => catchUpRef.current() });
    socket.current = sock;
    return () => { clearTimeout(quiet); sock.close(); socket.current = null; };
  }, [ticket && ticket.id]);
  useEffect(() => {
    const el = listRef.current;
    if (el) el.scrollTop = el.scrollHeight;
  }, [messages.length]);
  if (loading) return html`<${Loading} label="Loading the conversation…" />`;
  if (error) {
    if (error.status === 404) return html`<${Empty}>This ticket does not exist, or it is not yours. <a href="/support">Back to your tickets</a><//>`;
    return html`<${ErrorBox} error=${error} onRetry=${reload} />`;
  }
  if (!ticket) return null;
  return html`<section class="support-chat" aria-labelledby="support-chat-title">
    <header class="support-chat-head">
      <h2 id="support-chat-title">${ticket.subject}</h2>
      <p><${StatusBadge} status=${ticket.status} />
        <span class="hint-muted"> #${ticket.id} · ${ticket.category} · ${ticket.priority} priority
          ${ticket.assigned_to ? ` · handled by ${ticket.assigned_to.username}` : ''}</span></p>
    </header>
    ${ticket.has_more && messages.length === ticket.messages.length && html`<p class="hint-muted">Older messages are not shown.</p>`}
    <ol class="support-msgs" ref=${listRef} aria-label="Conversation" aria-live="polite" tabindex="0">
      ${messages.map((m) => html`<${Message} key=${m.id} m=${m} me=${user} />`)}
    </ol>
    <p class="hint-muted typing" aria-live="polite">${typing ? `${typing} is typing…` : ''}</p>
    <${ReplyForm} ticket=${ticket} signal=${signal} onSent=${(m) => { add([m]); catchUp(); }}
      onTyping=${() => socket.current && socket.current.send({ type: 'typing_indicator', data: { is_typing: true } })} />
  </section>`;
}

// ---------------------------------------------------------------- the page

export function SupportPage({ query, signal }) {
  const id = query.get('ticket');
  const creating = query.get('new') === '1';
  return html`<section class="page support">
    <div class="support-title">
      <h1>Support</h1>
      ${!creating && html`<a class="button" href="/support?new=1">New ticket</a>`}
    </div>
    <div class="support-layout">
      <${TicketList} current=${id} signal=${signal} />
      <div class="support-main">
        ${creating && html`<${NewTicketForm} signal=${signal} />`}
        ${!creating && id && html`<${Conversation} id=${id} signal=${signal} />`}
        ${!creating && !id && html`<${Empty}>Choose a ticket to read its conversation, or open a new one with
          “New ticket”. We answer within one working day.<//>`}
      </div>
    </div>
  </section>`;
}
