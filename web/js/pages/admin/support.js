// admin/support.js: the support desk (guide 13, /admin/support).
//
// /admin/support: tickets (GET /api/admin/support/tickets?status=&q=&
// assigned_to=&page=).  /admin/support/:id: one ticket with its live chat:
// GET /api/admin/support/tickets/{id} (later ?after_id= for what is new),
// replies as the staff (POST …/messages), the ticket's WebSocket channel
// /ws/support/{id} (new messages, status changes, typing; the same channel
// the user's /support page listens on), status (PUT …/status), assignment
// (PUT …/assign {admin_id}) and a mail to the user (POST …/email).
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, isAbort } from '../../api.js';
import { live } from '../../live.js';
import { useSession } from '../../session.js';
import { html, useLoad, Loading, ErrorBox } from '../../ui.js';
import { AdminLayout } from '../../admin/shell.js';
import {
  useAdminList, ListControls, DataTable, ListBody, StatusBadge, useAction, Outcome, when,
} from '../../admin/ui.js';
import { Field, FormError, useSubmit } from '../auth.js';

const STATUSES = [['all', 'All'], ['active', 'Waiting for us'], ['pending', 'Waiting for the user'], ['resolved', 'Resolved']];
const STATUS_TEXT = { active: 'Waiting for us', pending: 'Waiting for the user', resolved: 'Resolved' };
// the badge's colour: amber when it is our turn
const STATUS_LOOK = { active: 'open', pending: 'inactive', resolved: 'resolved' };
const POLL_MS = 10000;

function TicketStatus({ status }) {
  return html`<${StatusBadge} status=${STATUS_LOOK[status] || status} label=${STATUS_TEXT[status]} />`;
}

function Tickets({ query, signal }) {
  const { user } = useSession();
  const mine = query.get('assigned') === 'me';
  const list = useAdminList('/api/admin/support/tickets', query, {
    params: ['status', ['search', 'q']], fixed: mine && user ? { assigned_to: user.id } : {}, signal,
  });
  const columns = [
    { label: 'Ticket', class: 'wrap', cell: (t) => html`<a href=${`/admin/support/${t.id}`}>#${t.id} ${t.subject}</a>
      ${t.last_message && html`<br /><small class="hint-muted">${t.last_message.is_staff ? 'Staff: ' : 'User: '}${t.last_message.message}</small>`}` },
    { label: 'User', cell: (t) => (t.user ? `@${t.user.username}` : '') },
    { label: 'Status', cell: (t) => html`<${TicketStatus} status=${t.status} />` },
    { label: 'Priority', cell: (t) => t.priority },
    { label: 'Category', cell: (t) => t.category },
    { label: 'Assigned', cell: (t) => (t.assigned_to ? `@${t.assigned_to.username}` : '—') },
    { label: 'Last message', cell: (t) => when(t.last_message_at) },
  ];
  return html`<${ListControls} query=${query} idPrefix="tickets" search="Search subjects and users"
      filters=${[{ name: 'status', label: 'Status', options: STATUSES },
        { name: 'assigned', label: 'Assigned', options: [['all', 'Anyone'], ['me', 'To me']] }]} />
    <${ListBody} list=${list} query=${query} noun="tickets">
      ${(d) => html`<${DataTable} caption="Support tickets" columns=${columns} rows=${d.items} empty="No tickets here." />`}
    <//>`;
}

export function AdminSupportPage({ query, signal }) {
  return html`<${AdminLayout} title="Support">
    <${Tickets} query=${query} signal=${signal} />
  <//>`;
}

// ---------------------------------------------------------------- a ticket

function Message({ m }) {
  const who = m.is_staff ? `Staff${m.sender ? ` (@${m.sender.username})` : ''}` : (m.sender ? `@${m.sender.username}` : 'User');
  return html`<li class=${`support-msg${m.is_staff ? ' staff mine' : ''}`}>
    <p class="support-msg-head"><strong>${who}</strong>${m.via === 'email' ? ' · by email' : ''}
      <time datetime=${m.created_at}> · ${when(m.created_at)}</time></p>
    ${m.message && html`<p class="support-msg-body">${m.message}</p>`}
    ${m.attachments && m.attachments.length > 0 && html`<ul class="support-files" aria-label="Attachments">
      ${m.attachments.map((a) => html`<li key=${a.id}><a href=${a.url} download=${a.filename}>${a.filename}</a></li>`)}
    </ul>`}
  </li>`;
}

function Reply({ ticket, signal, onSent, onTyping }) {
  const last = useRef(0);
  const typed = () => {
    if (Date.now() - last.current < 3000) return;
    last.current = Date.now();
    onTyping();
  };
  const f = useSubmit(async (data, form) => {
    const message = data.get('message').trim();
    if (!message) throw { message: 'Write a reply first.', field_errors: { message: ['Write a reply first.'] } };
    const m = await api(`/api/admin/support/tickets/${ticket.id}/messages`, { method: 'POST', body: { message }, signal });
    form.reset();
    onSent(m);
    return false;
  });
  return html`<form class="stack support-reply" onSubmit=${f.onSubmit} novalidate aria-label="Reply">
    <${FormError} error=${f.error} wait=${f.wait} shown=${['message']} />
    <${Field} id="admin-reply" as="textarea" label="Reply as support" name="message" rows="3" maxlength="5000"
      onInput=${typed} errors=${f.fields.message} />
    <div class="actions"><button type="submit" disabled=${f.busy}>${f.busy ? 'Sending…' : 'Send reply'}</button></div>
  </form>`;
}

function EmailForm({ ticket, signal, onSent }) {
  const f = useSubmit(async (data, form) => {
    const body = { message: data.get('message') };
    const subject = data.get('subject').trim();
    if (subject) body.subject = subject;
    await api(`/api/admin/support/tickets/${ticket.id}/email`, { method: 'POST', body, signal });
    form.reset();
    onSent();
    return true;
  });
  return html`<details class="admin-email">
    <summary>Email the user</summary>
    <form class="stack" onSubmit=${f.onSubmit} novalidate>
      <${FormError} error=${f.error} wait=${f.wait} shown=${['subject', 'message']} />
      ${f.done && html`<p class="ok" role="status">The mail is queued for ${ticket.user ? ticket.user.email : 'the user'}.</p>`}
      <${Field} id="email-subject" label="Subject (optional)" name="subject" maxlength="200"
        hint=${`Default: about ticket #${ticket.id}`} errors=${f.fields.subject} />
      <${Field} id="email-message" as="textarea" label="Message" name="message" rows="4" maxlength="5000" required
        errors=${f.fields.message} />
      <div class="actions"><button type="submit" class="secondary" disabled=${f.busy}>${f.busy ? 'Sending…' : 'Send email'}</button></div>
    </form>
  </details>`;
}

function Ticket({ id, signal }) {
  const { user } = useSession();
  const load = useLoad((s) => api(`/api/admin/support/tickets/${encodeURIComponent(id)}`, { signal: s }), signal);
  const [ticket, setTicket] = useState(null);
  const [messages, setMessages] = useState([]);
  const [typing, setTyping] = useState(null);
  const act = useAction();
  const listRef = useRef(null);
  const socket = useRef(null);
  useEffect(() => {
    if (!load.data) return;
    setTicket(load.data);
    setMessages(load.data.messages);
  }, [load.data]);
  const add = (more) => setMessages((old) => {
    const seen = new Set(old.map((m) => m.id));
    return old.concat(more.filter((m) => !seen.has(m.id)));
  });
  const lastId = useRef(null);
  lastId.current = messages.length ? messages[messages.length - 1].id : undefined;
  const catchUp = async () => {
    try {
      const d = await api(`/api/admin/support/tickets/${encodeURIComponent(id)}`, { query: { after_id: lastId.current }, signal });
      setTicket(d);
      add(d.messages);
    } catch (e) {
      if (!isAbort(e)) { /* the next poll or frame tries again */ }
    }
  };
  const catchUpRef = useRef(catchUp);
  catchUpRef.current = catchUp;
  const ticketId = ticket && ticket.id;
  useEffect(() => {
    if (!ticketId) return undefined;
    let quiet = null;
    const sock = live(`/ws/support/${ticketId}`, (frame) => {
      if (frame.type === 'typing_indicator') {
        clearTimeout(quiet);
        const d = frame.data || {};
        if (user && d.user_id === user.id) return;
        setTyping(d.is_typing ? d.username || 'The user' : null);
        quiet = setTimeout(() => setTyping(null), 6000);
      } else if (frame.type === 'message_received' || frame.type === 'ticket_status_changed') {
        setTyping(null);
        catchUpRef.current();
      }
    }, { onOpen: () => catchUpRef.current() });
    socket.current = sock;
    // a slow poll as well, for when the socket is down
    const t = setInterval(() => { if (!document.hidden) catchUpRef.current(); }, POLL_MS);
    return () => { clearTimeout(quiet); clearInterval(t); sock.close(); socket.current = null; };
  }, [ticketId]);
  useEffect(() => {
    const el = listRef.current;
    if (el) el.scrollTop = el.scrollHeight;
  }, [messages.length]);
  if (load.loading) return html`<${Loading} label="Loading the ticket…" />`;
  if (load.error) return html`<${ErrorBox} error=${load.error} onRetry=${load.reload} />`;
  if (!ticket) return null;
  const setStatus = (status) => act.run(async () => {
    setTicket(await api(`/api/admin/support/tickets/${ticket.id}/status`, { method: 'PUT', body: { status }, signal }));
  }, `Status: ${STATUS_TEXT[status]}.`);
  const assign = (adminId) => act.run(async () => {
    setTicket(await api(`/api/admin/support/tickets/${ticket.id}/assign`, { method: 'PUT', body: { admin_id: adminId }, signal }));
  }, adminId ? 'Assigned to you.' : 'Unassigned.');
  const mineNow = ticket.assigned_to && user && ticket.assigned_to.id === user.id;
  return html`<div class="admin-ticket">
    <p><a href="/admin/support">← All tickets</a></p>
    <div class="admin-ticket-grid">
      <section class="support-chat" aria-labelledby="ticket-title">
        <header class="support-chat-head">
          <h2 id="ticket-title">#${ticket.id} ${ticket.subject}</h2>
          <p><${TicketStatus} status=${ticket.status} />
            <span class="hint-muted"> ${ticket.category} · ${ticket.priority} priority</span></p>
        </header>
        <ol class="support-msgs" ref=${listRef} aria-label="Conversation" aria-live="polite" tabindex="0">
          ${messages.map((m) => html`<${Message} key=${m.id} m=${m} />`)}
        </ol>
        <p class="hint-muted typing" aria-live="polite">${typing ? `${typing} is typing…` : ''}</p>
        <${Reply} ticket=${ticket} signal=${signal} onSent=${(m) => { add([m]); catchUp(); }}
          onTyping=${() => socket.current && socket.current.send({ type: 'typing_indicator', data: { is_typing: true } })} />
      </section>
      <aside class="admin-ticket-side" aria-label="Ticket">
        <dl class="specs">
          <div><dt>User</dt><dd>${ticket.user ? html`@${ticket.user.username}<br /><small>${ticket.user.email}</small>` : '—'}</dd></div>
          <div><dt>Opened</dt><dd>${when(ticket.created_at)}</dd></div>
          <div><dt>Assigned to</dt><dd>${ticket.assigned_to ? `@${ticket.assigned_to.username}` : 'Nobody'}</dd></div>
        </dl>
        <div class="field">
          <label for="ticket-status">Status</label>
          <select id="ticket-status" value=${ticket.status} disabled=${act.busy} onChange=${(e) => setStatus(e.target.value)}>
            ${STATUSES.slice(1).map(([v, t]) => html`<option value=${v}>${t}</option>`)}
          </select>
        </div>
        <div class="actions">
          ${!mineNow && html`<button type="button" class="secondary" disabled=${act.busy} onClick=${() => assign(user.id)}>Assign to me</button>`}
          ${ticket.assigned_to && html`<button type="button" class="secondary" disabled=${act.busy} onClick=${() => assign(null)}>Unassign</button>`}
        </div>
        <${Outcome} outcome=${act.outcome} />
        <${EmailForm} ticket=${ticket} signal=${signal} onSent=${() => catchUp()} />
      </aside>
    </div>
  </div>`;
}

export function AdminTicketPage({ params, signal }) {
  return html`<${AdminLayout} title="Support ticket">
    <${Ticket} id=${params.id} signal=${signal} />
  <//>`;
}

