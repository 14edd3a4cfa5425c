// live.js: the client's WebSocket channels (/ws/notifications,
// /ws/support/{id}, /ws/community/{id}).
//
// live(path, onFrame, {onOpen, onDown}) opens the channel with a fresh
// single-use ticket (POST /api/ws/ticket, which refreshes an expired access
// token through api.js) and hands each {"type", "data"} frame to onFrame.
// When the socket drops it reconnects with backoff (1 s, doubling to 30 s,
// with jitter); onOpen runs on every (re)connection, so the page can fetch
// what it missed meanwhile, and onDown when it is lost, so the page can
// fall back to polling.  A 4403 (not allowed on this channel) is final.
// Returns {send(obj), close()}.
import { api } from './api.js';

export function live(path, onFrame, { onOpen, onDown } = {}) {
  let ws = null;
  let closed = false;
  let delay = 1000;
  let timer = null;

  const retry = () => {
    if (closed) return;
    timer = setTimeout(connect, delay + Math.random() * 500);
    delay = Math.min(delay * 2, 30000);
  };

  async function connect() {
    if (closed) return;
    let ticket;
    try {
      ticket = (await api('/api/ws/ticket', { method: 'POST' })).ticket;
    } catch {
      retry();
      return;
    }
    if (closed) return;
    const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
    const socket = new WebSocket(`${scheme}//${location.host}${path}?ticket=${encodeURIComponent(ticket)}`);
    ws = socket;
    socket.onopen = () => {
      delay = 1000;
      if (onOpen) onOpen();
    };
    socket.onmessage = (e) => {
      let frame = null;
      try { frame = JSON.parse(e.data); } catch { frame = null; }
      if (frame && typeof frame.type === 'string' && frame.type !== 'pong') onFrame(frame);
    };
    socket.onclose = (e) => {
      if (ws === socket) ws = null;
      if (closed) return;
      if (onDown) onDown();
      if (e.code !== 4403) retry();
    };
  }

  connect();
  return {
    send(obj) {
      if (ws && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(obj));
    },
    close() {
      closed = true;
      clearTimeout(timer);
      if (ws) ws.close(1000);
      ws = null;
    },
  };
}
