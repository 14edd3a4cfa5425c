/*
 * hub.c: one thread multiplexes every upgraded WebSocket with epoll; wslay
 * does the framing (hub.h).
 *
 * Other threads talk to the hub through one command queue (adopt a socket,
 * deliver a frame to a channel) and an eventfd that wakes it.  Everything
 * else (the sockets, the channel table, wslay contexts) belongs to the hub
 * thread alone, so nothing here takes a lock but the queue's.
 *
 * The traps of ARCHITECTURE.md, in order: MHD's extra_in bytes are read
 * before the socket; TCP_NODELAY on every socket; a socket leaves epoll
 * before MHD_upgrade_action(CLOSE) gives it back (never close()); every
 * socket is given back before MHD_stop_daemon (hub_stop); wslay's message
 * limit is WS_MAX_MESSAGE, not its 2 GiB default.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>
#include <wslay/wslay.h>
#include "hub.h"
#include "parse.h"
#include "../core/config.h"
#include "../core/log.h"
#include "../core/num.h"
#include "../core/util.h"
#include "../svc/events.h"
#include "../svc/metrics.h"

#define CHAN_BUCKETS 4096
#define MAX_QUEUED_DELIVERIES 65536
#define CLOSE_GRACE_MS 2000     /* a closing peer has this long to answer our close */
#define TICK_MS 500
#define IN_BURST 30             /* client messages: a burst, then IN_RATE a second */
#define IN_RATE 10
#define WORKER_QUEUE 256

struct chan;

typedef struct ws_conn {
	uint64_t id;
	int fd;
	struct MHD_UpgradeResponseHandle *urh;
	wslay_event_context_ptr ctx;
	uint8_t *extra;
	size_t extra_len, extra_off;
	int64_t user_id;
	bool is_admin;
	char *username, *kind, *channel;
	int64_t oid;
	struct chan *chan;
	struct ws_conn *cprev, *cnext; /* in its channel */
	struct ws_conn *prev, *next;   /* in the hub */
	int64_t last_seen_ms, last_ping_ms;
	int64_t close_deadline_ms;     /* set once we queued a close */
	int close_code;                /* refused at the upgrade: close with it at once */
	char *reason;
	uint32_t events;               /* registered with epoll */
	double tokens;
	int64_t tokens_ms;
	bool dead, reaped;
} ws_conn_t;

struct chan {
	char *name;
	ws_conn_t *head;
	size_t n;
	struct chan *next;
};

enum cmd_kind { CMD_ADOPT, CMD_DELIVER };

struct cmd {
	struct cmd *next;
	enum cmd_kind kind;
	ws_conn_t *conn;
	char *channel;
	char *frame;
	size_t len;
	uint64_t skip;
};

static pthread_mutex_t q_lock = PTHREAD_MUTEX_INITIALIZER;
static struct cmd *q_head, *q_tail;
static size_t q_deliveries;
static bool running;      /* under q_lock: commands are accepted */
static int stop_requested;
static int wake_fd = -1, ep_fd = -1;
static pthread_t hub_thread;
static uint64_t next_conn_id;
static size_t n_open;

/* hub-thread state */
static ws_conn_t *conns;
static struct chan *chans[CHAN_BUCKETS];
static int64_t ping_interval_ms = 30000;
static size_t send_queue_cap = 256 * 1024;

static int64_t now_mono_ms(void)
{
	return mono_us() / 1000;
}

/* ---- channels ---- */

static uint64_t hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ULL;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

static struct chan *chan_find(const char *name, bool create)
{
	size_t b = hash_str(name) % CHAN_BUCKETS;
	for (struct chan *c = chans[b]; c; c = c->next)
		if (!strcmp(c->name, name))
			return c;
	if (!create)
		return NULL;
	struct chan *c = xcalloc(1, sizeof(*c));
	c->name = xstrdup(name);
	c->next = chans[b];
	chans[b] = c;
	return c;
}

static void chan_leave(ws_conn_t *c)
{
	struct chan *ch = c->chan;
	if (!ch)
		return;
	if (c->cprev)
		c->cprev->cnext = c->cnext;
	else
		ch->head = c->cnext;
	if (c->cnext)
		c->cnext->cprev = c->cprev;
	c->chan = NULL;
	if (--ch->n)
		return;
	size_t b = hash_str(ch->name) % CHAN_BUCKETS;
	for (struct chan **pp = &chans[b]; *pp; pp = &(*pp)->next) {
		if (*pp == ch) {
			*pp = ch->next;
			break;
		}
	}
	free(ch->name);
	free(ch);
}

/* ---- sockets ---- */

static void conn_discard(ws_conn_t *c)
{
	free(c->extra);
	free(c->username);
	free(c->kind);
	free(c->channel);
	free(c->reason);
	free(c);
}


/* A finished socket leaves epoll, its channel and the hub's list at once
 * (reap), but its memory stays until the current batch of epoll events
 * has been handled (bury), since a later event of the batch may point at
 * it.  Then it goes back to MHD: out of epoll first, then
 * MHD_upgrade_action(CLOSE), never close() (ARCHITECTURE.md). */
static ws_conn_t *graveyard;

static void reap(ws_conn_t *c)
{
	if (c->reaped)
		return;
	c->reaped = true;
	epoll_ctl(ep_fd, EPOLL_CTL_DEL, c->fd, NULL);
	chan_leave(c);
	if (c->prev)
		c->prev->next = c->next;
	else
		conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	c->next = graveyard;
	graveyard = c;
}

static void bury(void)
{
	while (graveyard) {
		ws_conn_t *c = graveyard;
		graveyard = c->next;
		wslay_event_context_free(c->ctx);
		MHD_upgrade_action(c->urh, MHD_UPGRADE_ACTION_CLOSE);
		__atomic_sub_fetch(&n_open, 1, __ATOMIC_RELAXED);
		metrics_gauge_add("hwc3d_websockets_open", -1);
		conn_discard(c);
	}
}

static ssize_t on_recv(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, int flags, void *user)
{
	UNUSED(flags);
	ws_conn_t *c = user;
	if (c->extra_off < c->extra_len) { /* what MHD read past the request comes first */
		size_t n = MIN(len, c->extra_len - c->extra_off);
		memcpy(buf, c->extra + c->extra_off, n);
		c->extra_off += n;
		return (ssize_t)n;
	}
	ssize_t r;
	do
		r = recv(c->fd, buf, len, 0);
	while (r < 0 && errno == EINTR);
	if (r > 0) {
		c->last_seen_ms = now_mono_ms();
		return r;
	}
	wslay_event_set_error(ctx, r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) ? WSLAY_ERR_WOULDBLOCK
										  : WSLAY_ERR_CALLBACK_FAILURE);
	return -1;
}

static ssize_t on_send(wslay_event_context_ptr ctx, const uint8_t *data, size_t len, int flags, void *user)
{
	ws_conn_t *c = user;
	ssize_t r;
	do
		r = send(c->fd, data, len, MSG_NOSIGNAL | ((flags & WSLAY_MSG_MORE) ? MSG_MORE : 0));
	while (r < 0 && errno == EINTR);
	if (r >= 0)
		return r;
	wslay_event_set_error(ctx, errno == EAGAIN || errno == EWOULDBLOCK ? WSLAY_ERR_WOULDBLOCK
									 : WSLAY_ERR_CALLBACK_FAILURE);
	return -1;
}

static void queue_text(ws_conn_t *c, const char *text, size_t len)
{
	struct wslay_event_msg m = { WSLAY_TEXT_FRAME, (const uint8_t *)text, len };
	wslay_event_queue_msg(c->ctx, &m);
}

static void queue_close(ws_conn_t *c, uint16_t code, const char *reason)
{
	if (c->close_deadline_ms)
		return;
	wslay_event_queue_close(c->ctx, code, (const uint8_t *)reason, reason ? strlen(reason) : 0);
	c->close_deadline_ms = now_mono_ms() + CLOSE_GRACE_MS;
}

/* May this client message go through?  A token bucket per socket. */
static bool take_token(ws_conn_t *c)
{
	int64_t now = now_mono_ms();
	c->tokens = MIN((double)IN_BURST, c->tokens + (double)(now - c->tokens_ms) * IN_RATE / 1000.0);
	c->tokens_ms = now;
	if (c->tokens < 1.0)
		return false;
	c->tokens -= 1.0;
	return true;
}

static void on_text(ws_conn_t *c, const uint8_t *msg, size_t len)
{
	ws_client_msg_t m;
	switch (ws_msg_parse(msg, len, &m)) {
	case WS_MSG_BAD: {
		static const char bad[] = "{\"type\":\"error\",\"data\":{\"detail\":\"Expected a JSON object with a string \\\"type\\\"\"}}";
		queue_text(c, bad, sizeof(bad) - 1);
		break;
	}
	case WS_MSG_PING: {
		static const char pong[] = "{\"type\":\"pong\",\"data\":{}}";
		queue_text(c, pong, sizeof(pong) - 1);
		break;
	}
	case WS_MSG_TYPING:
		if (strcmp(c->kind, "notifications"))
			events_publish_skip(c->channel, "typing_indicator",
					    json_pack("{s:I, s:s, s:b}", "user_id", (json_int_t)c->user_id, "username",
						      c->username, "is_typing", m.is_typing),
					    c->id);
		break;
	case WS_MSG_OTHER:
		if (ws_handler_of(c->kind)) {
			ws_message_t wm = { c->user_id, c->is_admin, c->kind, c->oid, c->channel, m.type, m.json };
			if (!ws_worker_submit(&wm)) {
				static const char busy[] = "{\"type\":\"error\",\"data\":{\"detail\":\"Busy: send it again shortly\"}}";
				queue_text(c, busy, sizeof(busy) - 1);
			}
		}
		break;
	}
	json_decref(m.json);
}

static void on_msg(wslay_event_context_ptr ctx, const struct wslay_event_on_msg_recv_arg *arg, void *user)
{
	UNUSED(ctx);
	ws_conn_t *c = user;
	if (c->close_deadline_ms)
		return;
	const char *reason = NULL;
	int code;
	switch (arg->opcode) {
	case WSLAY_TEXT_FRAME:
		/* RFC 6455 8.1: text is UTF-8, or the connection fails with 1007. */
		code = ws_text_check(arg->msg, arg->msg_length, &reason);
		if (code) {
			queue_close(c, (uint16_t)code, reason);
			return;
		}
		if (take_token(c))
			on_text(c, arg->msg, arg->msg_length);
		break;
	case WSLAY_BINARY_FRAME:
		queue_close(c, WSLAY_CODE_UNSUPPORTED_DATA, "Text frames only");
		break;
	default: /* pings are answered by wslay; a pong only proves life (last_seen) */
		break;
	}
}

static const struct wslay_event_callbacks callbacks = {
	.recv_callback = on_recv,
	.send_callback = on_send,
	.on_msg_recv_callback = on_msg,
};

/* After any I/O: done (both sides finished, or the grace is over), or
 * waiting for the events wslay wants. */
static void settle(ws_conn_t *c)
{
	if (c->reaped)
		return;
	bool rd = !c->dead && wslay_event_want_read(c->ctx), wr = !c->dead && wslay_event_want_write(c->ctx);
	if (!rd && !wr) {
		reap(c);
		return;
	}
	uint32_t ev = (rd ? EPOLLIN : 0) | (wr ? EPOLLOUT : 0) | EPOLLRDHUP;
	if (ev != c->events) {
		struct epoll_event e = { .events = ev, .data.ptr = c };
		epoll_ctl(ep_fd, EPOLL_CTL_MOD, c->fd, &e);
		c->events = ev;
	}
}

static void pump(ws_conn_t *c, bool readable)
{
	if (c->reaped)
		return;
	if (readable && wslay_event_want_read(c->ctx) && wslay_event_recv(c->ctx) != 0)
		c->dead = true;
	if (!c->dead && wslay_event_want_write(c->ctx) && wslay_event_send(c->ctx) != 0)
		c->dead = true;
	settle(c);
}

static void adopt(ws_conn_t *c)
{
	int one = 1;
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)); /* Nagle: 4.4 s for 100 echoes */
	/* The kernel's send buffer is part of what a slow reader may pin:
	 * as large as the queue, not autotuned up to tcp_wmem's 4 MB. */
	int sndbuf = (int)MAX(send_queue_cap, (size_t)16384);
	setsockopt(c->fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
	if (wslay_event_context_server_init(&c->ctx, &callbacks, c) != 0) {
		MHD_upgrade_action(c->urh, MHD_UPGRADE_ACTION_CLOSE);
		conn_discard(c);
		return;
	}
	wslay_event_config_set_max_recv_msg_length(c->ctx, WS_MAX_MESSAGE);
	c->last_seen_ms = c->last_ping_ms = c->tokens_ms = now_mono_ms();
	c->tokens = IN_BURST;
	c->next = conns;
	if (conns)
		conns->prev = c;
	conns = c;
	__atomic_add_fetch(&n_open, 1, __ATOMIC_RELAXED);
	metrics_gauge_add("hwc3d_websockets_open", 1);
	c->events = EPOLLIN | EPOLLRDHUP;
	struct epoll_event e = { .events = c->events, .data.ptr = c };
	if (epoll_ctl(ep_fd, EPOLL_CTL_ADD, c->fd, &e) != 0) {
		log_warn("websocket: epoll_ctl: %s", strerror(errno));
		c->dead = true;
		settle(c);
		return;
	}
	if (c->close_code) {
		queue_close(c, (uint16_t)c->close_code, c->reason);
	} else {
		struct chan *ch = chan_find(c->channel, true);
		c->chan = ch;
		c->cnext = ch->head;
		if (ch->head)
			ch->head->cprev = c;
		ch->head = c;
		ch->n++;
	}
	pump(c, c->extra_len > 0); /* frames already in extra_in get no epoll event */
}

static void deliver(const char *channel, const char *frame, size_t len, uint64_t skip)
{
	struct chan *ch = chan_find(channel, false);
	if (!ch)
		return;
	ws_conn_t *next;
	for (ws_conn_t *c = ch->head; c; c = next) {
		next = c->cnext;
		if (c->id == skip || c->close_deadline_ms)
			continue;
		/* A reader that does not keep up is dropped, never waited for. */
		if (wslay_event_get_queued_msg_length(c->ctx) + len > send_queue_cap) {
			log_info("websocket: dropped a slow reader (user %lld, %s, %zu bytes queued)",
				 (long long)c->user_id, c->channel, wslay_event_get_queued_msg_length(c->ctx));
			c->dead = true;
			settle(c);
			continue;
		}
		queue_text(c, frame, len);
		pump(c, false);
	}
}

/* Heartbeats and overdue closes, every TICK_MS. */
static void tick(void)
{
	int64_t now = now_mono_ms();
	ws_conn_t *next;
	for (ws_conn_t *c = conns; c; c = next) {
		next = c->next;
		if (c->close_deadline_ms) {
			if (now > c->close_deadline_ms) {
				c->dead = true;
				settle(c);
			}
			continue;
		}
		if (now - c->last_seen_ms > 2 * ping_interval_ms) {
			queue_close(c, WSLAY_CODE_GOING_AWAY, "No answer to ping");
			c->dead = true; /* a dead peer reads nothing: do not wait for it */
			settle(c);
			continue;
		}
		if (now - c->last_seen_ms >= ping_interval_ms && now - c->last_ping_ms >= ping_interval_ms) {
			struct wslay_event_msg m = { WSLAY_PING, NULL, 0 };
			wslay_event_queue_msg(c->ctx, &m);
			c->last_ping_ms = now;
			pump(c, false);
		}
	}
}

/* ---- the command queue ---- */

static void cmd_push(struct cmd *k)
{
	k->next = NULL;
	if (q_tail)
		q_tail->next = k;
	else
		q_head = k;
	q_tail = k;
	uint64_t one = 1;
	ssize_t w = write(wake_fd, &one, sizeof(one));
	UNUSED(w);
}

static void run_commands(void)
{
	pthread_mutex_lock(&q_lock);
	struct cmd *k = q_head;
	q_head = q_tail = NULL;
	q_deliveries = 0;
	pthread_mutex_unlock(&q_lock);
	while (k) {
		struct cmd *next = k->next;
		if (k->kind == CMD_ADOPT) {
			adopt(k->conn);
		} else {
			deliver(k->channel, k->frame, k->len, k->skip);
			free(k->channel);
			free(k->frame);
		}
		free(k);
		k = next;
	}
}

bool hub_adopt(const hub_socket_t *s)
{
	ws_conn_t *c = xcalloc(1, sizeof(*c));
	c->id = __atomic_add_fetch(&next_conn_id, 1, __ATOMIC_RELAXED);
	c->fd = s->fd;
	c->urh = s->urh;
	if (s->extra_in_len) {
		c->extra = xmalloc(s->extra_in_len);
		memcpy(c->extra, s->extra_in, s->extra_in_len);
		c->extra_len = s->extra_in_len;
	}
	c->user_id = s->user_id;
	c->is_admin = s->is_admin;
	c->username = xstrdup(s->username ? s->username : "");
	c->kind = xstrdup(s->kind);
	c->channel = xstrdup(s->channel);
	c->oid = s->id;
	c->close_code = s->close_code;
	c->reason = s->reason ? xstrdup(s->reason) : NULL;
	struct cmd *k = xcalloc(1, sizeof(*k));
	k->kind = CMD_ADOPT;
	k->conn = c;
	pthread_mutex_lock(&q_lock);
	bool ok = running;
	if (ok)
		cmd_push(k);
	pthread_mutex_unlock(&q_lock);
	if (!ok) {
		conn_discard(c);
		free(k);
	}
	return ok;
}

bool hub_deliver(const char *channel, const char *frame, size_t len, uint64_t skip)
{
	pthread_mutex_lock(&q_lock);
	if (!running || q_deliveries >= MAX_QUEUED_DELIVERIES) {
		bool was_running = running;
		pthread_mutex_unlock(&q_lock);
		if (was_running)
			log_warn("websocket: hub queue full, an event for %s was dropped", channel);
		return false;
	}
	struct cmd *k = xcalloc(1, sizeof(*k));
	k->kind = CMD_DELIVER;
	k->channel = xstrdup(channel);
	k->frame = xmalloc(len);
	memcpy(k->frame, frame, len);
	k->len = len;
	k->skip = skip;
	q_deliveries++;
	cmd_push(k);
	pthread_mutex_unlock(&q_lock);
	return true;
}

size_t hub_count(void)
{
	return __atomic_load_n(&n_open, __ATOMIC_RELAXED);
}

/* ---- the hub thread ---- */

static void *hub_main(void *arg)
{
	UNUSED(arg);
	struct epoll_event evs[256];
	int64_t next_tick = now_mono_ms() + TICK_MS;
	for (;;) {
		int n = epoll_wait(ep_fd, evs, (int)ARRAY_LEN(evs), TICK_MS);
		for (int i = 0; i < n; i++) {
			if (evs[i].data.ptr == &wake_fd) {
				uint64_t v;
				ssize_t r = read(wake_fd, &v, sizeof(v));
				UNUSED(r);
				run_commands();
				continue;
			}
			ws_conn_t *c = evs[i].data.ptr;
			/* An error or hang-up is read too: recv reports it. */
			pump(c, (evs[i].events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0);
		}
		bury();
		if (__atomic_load_n(&stop_requested, __ATOMIC_ACQUIRE))
			break;
		int64_t now = now_mono_ms();
		if (now >= next_tick) {
			tick();
			bury();
			next_tick = now + TICK_MS;
		}
	}
	/* Stopping: commands still queued, then a 1001 to every socket, a
	 * short wait for the close frames to leave, and every socket goes
	 * back to MHD. */
	run_commands();
	bury();
	for (ws_conn_t *c = conns; c; c = c->next) {
		queue_close(c, WSLAY_CODE_GOING_AWAY, "Server shutting down");
		if (wslay_event_send(c->ctx) != 0)
			c->dead = true;
	}
	int64_t deadline = now_mono_ms() + 500;
	while (conns && now_mono_ms() < deadline) {
		ws_conn_t *next;
		for (ws_conn_t *c = conns; c; c = next) {
			next = c->next;
			if (c->dead || !wslay_event_want_write(c->ctx) || wslay_event_send(c->ctx) != 0)
				reap(c);
		}
		bury();
		if (conns)
			usleep(10000);
	}
	while (conns)
		reap(conns);
	bury();
	return NULL;
}

static int64_t setting_int(const char *name, int64_t def, int64_t lo, int64_t hi)
{
	const char *v = config_get(name);
	int64_t x;
	if (!v)
		return def;
	if (!parse_i64(v, &x) || x < lo || x > hi) {
		log_warn("%s=%s is not a number in [%lld, %lld]; using %lld", name, v, (long long)lo, (long long)hi,
			 (long long)def);
		return def;
	}
	return x;
}

/* ---- the worker for kinds' message handlers ---- */

struct job {
	struct job *next;
	ws_message_t m;
	char *kind, *channel, *type;
};

static pthread_mutex_t w_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t w_cond = PTHREAD_COND_INITIALIZER;
static struct job *w_head, *w_tail;
static size_t w_len;
static bool w_stop, w_running;
static pthread_t w_thread;

bool ws_worker_submit(const ws_message_t *m)
{
	pthread_mutex_lock(&w_lock);
	if (!w_running || w_stop || w_len >= WORKER_QUEUE) {
		pthread_mutex_unlock(&w_lock);
		return false;
	}
	struct job *j = xcalloc(1, sizeof(*j));
	j->m = *m;
	j->kind = xstrdup(m->kind);
	j->channel = xstrdup(m->channel);
	j->type = xstrdup(m->type);
	j->m.kind = j->kind;
	j->m.channel = j->channel;
	j->m.type = j->type;
	j->m.msg = json_incref(m->msg);
	if (w_tail)
		w_tail->next = j;
	else
		w_head = j;
	w_tail = j;
	w_len++;
	pthread_cond_signal(&w_cond);
	pthread_mutex_unlock(&w_lock);
	return true;
}

static void job_free(struct job *j)
{
	json_decref(j->m.msg);
	free(j->kind);
	free(j->channel);
	free(j->type);
	free(j);
}

static void *worker_main(void *arg)
{
	UNUSED(arg);
	pthread_mutex_lock(&w_lock);
	for (;;) {
		while (!w_head && !w_stop)
			pthread_cond_wait(&w_cond, &w_lock);
		if (w_stop)
			break;
		struct job *j = w_head;
		w_head = j->next;
		if (!w_head)
			w_tail = NULL;
		w_len--;
		pthread_mutex_unlock(&w_lock);
		ws_message_fn fn = ws_handler_of(j->m.kind);
		db_t *db = db_thread();
		if (fn && db)
			fn(db, &j->m);
		job_free(j);
		pthread_mutex_lock(&w_lock);
	}
	while (w_head) {
		struct job *j = w_head;
		w_head = j->next;
		job_free(j);
	}
	w_tail = NULL;
	pthread_mutex_unlock(&w_lock);
	db_thread_release();
	return NULL;
}

/* ---- start and stop ---- */

bool hub_start(void)
{
	ping_interval_ms = setting_int("WS_PING_INTERVAL_S", 30, 1, 3600) * 1000;
	send_queue_cap = (size_t)setting_int("WS_SEND_QUEUE_KB", 256, 1, 65536) * 1024;
	ep_fd = epoll_create1(EPOLL_CLOEXEC);
	wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (ep_fd < 0 || wake_fd < 0)
		goto fail;
	struct epoll_event e = { .events = EPOLLIN, .data.ptr = &wake_fd };
	if (epoll_ctl(ep_fd, EPOLL_CTL_ADD, wake_fd, &e) != 0)
		goto fail;
	stop_requested = 0;
	if (pthread_create(&hub_thread, NULL, hub_main, NULL) != 0)
		goto fail;
	w_stop = false;
	w_running = pthread_create(&w_thread, NULL, worker_main, NULL) == 0;
	pthread_mutex_lock(&q_lock);
	running = true;
	pthread_mutex_unlock(&q_lock);
	return true;
fail:
	log_error("websocket hub: %s", strerror(errno));
	if (ep_fd >= 0)
		close(ep_fd);
	if (wake_fd >= 0)
		close(wake_fd);
	ep_fd = wake_fd = -1;
	return false;
}

void hub_stop(void)
{
	pthread_mutex_lock(&q_lock);
	bool was = running;
	running = false; /* no more sockets or frames are taken */
	pthread_mutex_unlock(&q_lock);
	if (!was)
		return;
	__atomic_store_n(&stop_requested, 1, __ATOMIC_RELEASE);
	uint64_t one = 1;
	ssize_t w = write(wake_fd, &one, sizeof(one));
	UNUSED(w);
	pthread_join(hub_thread, NULL);
	if (w_running) {
		pthread_mutex_lock(&w_lock);
		w_stop = true;
		pthread_cond_signal(&w_cond);
		pthread_mutex_unlock(&w_lock);
		pthread_join(w_thread, NULL);
		w_running = false;
	}
	close(ep_fd);
	close(wake_fd);
	ep_fd = wake_fd = -1;
	for (size_t b = 0; b < CHAN_BUCKETS; b++)
		HWC_ASSERT(!chans[b]);
}
