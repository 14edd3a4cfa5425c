#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>
#include "conn.h"
#include "../core/config.h"
#include "../core/log.h"
#include "../core/util.h"
#include "../svc/metrics.h"

/* Lingering close (nginx: lingering_time 30 s, lingering_timeout 5 s). */
#define LINGER_SLOTS 1024
#define LINGER_TOTAL_US (10 * 1000000LL)
#define LINGER_IDLE_US (2 * 1000000LL)
#define WATCHDOG_TICK_MS 250

struct conn_ctx {
	struct conn_ctx *prev, *next;
	int fd;
	/* Read by the watchdog while the owning poll thread writes them. */
	int64_t header_deadline_us; /* 0: not waiting for headers */
	int64_t body_start_us;      /* 0: not receiving a body */
	uint64_t body_bytes;
	bool linger;
	bool refused; /* answered straight on the socket: MHD must not answer */
};

static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;
static struct conn_ctx *reg_head;

static pthread_t watchdog_thread, linger_thread;
static bool threads_started;
static int stop_flag;
static pthread_mutex_t stop_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t stop_cond = PTHREAD_COND_INITIALIZER;

/* Sockets waiting for their lingering close, owned by the linger thread
 * once queued; the queue itself is guarded by linger_lock. */
struct lingering {
	int fd;
	int64_t end_us, idle_us;
};
static pthread_mutex_t linger_lock = PTHREAD_MUTEX_INITIALIZER;
static int linger_queue[LINGER_SLOTS];
static size_t linger_queued;
static int linger_wake = -1;

static int64_t load64(const int64_t *p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

static void store64(int64_t *p, int64_t v)
{
	__atomic_store_n(p, v, __ATOMIC_RELEASE);
}

static int64_t header_deadline(void)
{
	return mono_us() + (int64_t)cfg.header_timeout_s * 1000000;
}

/* ---- the phases of a connection, set by its poll thread ---- */

void conn_request_begun(conn_ctx_t *cx, bool has_body)
{
	if (!cx)
		return;
	store64(&cx->header_deadline_us, 0);
	__atomic_store_n(&cx->body_bytes, 0, __ATOMIC_RELAXED);
	store64(&cx->body_start_us, has_body ? mono_us() : 0);
}

void conn_body_progress(conn_ctx_t *cx, uint64_t bytes)
{
	if (cx)
		__atomic_add_fetch(&cx->body_bytes, bytes, __ATOMIC_RELAXED);
}

void conn_request_busy(conn_ctx_t *cx)
{
	if (cx)
		store64(&cx->body_start_us, 0);
}

void conn_request_done(conn_ctx_t *cx)
{
	if (!cx)
		return;
	store64(&cx->body_start_us, 0);
	store64(&cx->header_deadline_us, header_deadline());
}

void conn_linger(conn_ctx_t *cx)
{
	if (cx)
		cx->linger = true;
}

bool conn_refused(conn_ctx_t *cx)
{
	return cx && cx->refused;
}

conn_ctx_t *conn_of(struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	return ci ? ci->socket_context : NULL;
}

/* ---- lingering close ---- */

/* Takes ownership of fd: queued for the linger thread, or closed now when
 * the queue is full or the thread is not running. */
static void linger_add(int fd)
{
	bool queued = false;
	pthread_mutex_lock(&linger_lock);
	if (threads_started && linger_queued < LINGER_SLOTS) {
		linger_queue[linger_queued++] = fd;
		queued = true;
	}
	pthread_mutex_unlock(&linger_lock);
	if (!queued) {
		close(fd);
		return;
	}
	uint64_t one = 1;
	if (write(linger_wake, &one, sizeof(one)) < 0)
		log_debug("linger: wake-up failed: %s", strerror(errno));
}

static bool stopping(void)
{
	return __atomic_load_n(&stop_flag, __ATOMIC_ACQUIRE) != 0;
}

static void *linger_main(void *arg)
{
	UNUSED(arg);
	static struct lingering active[LINGER_SLOTS];
	static struct pollfd pfd[LINGER_SLOTS + 1];
	size_t n = 0;
	char sink[16384];
	while (!stopping()) {
		pthread_mutex_lock(&linger_lock);
		while (linger_queued && n < LINGER_SLOTS) {
			int fd = linger_queue[--linger_queued];
			int64_t now = mono_us();
			shutdown(fd, SHUT_WR);
			active[n++] = (struct lingering){ fd, now + LINGER_TOTAL_US, now + LINGER_IDLE_US };
			metrics_gauge_add("hwc3d_connections_lingering", 1);
		}
		pthread_mutex_unlock(&linger_lock);

		pfd[0] = (struct pollfd){ .fd = linger_wake, .events = POLLIN };
		for (size_t i = 0; i < n; i++)
			pfd[i + 1] = (struct pollfd){ .fd = active[i].fd, .events = POLLIN };
		int rc = poll(pfd, n + 1, WATCHDOG_TICK_MS);
		if (rc < 0 && errno != EINTR)
			break;
		if (pfd[0].revents & POLLIN) {
			uint64_t v;
			if (read(linger_wake, &v, sizeof(v)) < 0)
				log_debug("linger: wake-up read failed");
		}
		int64_t now = mono_us();
		for (size_t i = 0; i < n;) {
			bool done = now >= active[i].end_us || now >= active[i].idle_us;
			if (!done && (pfd[i + 1].revents & (POLLIN | POLLHUP | POLLERR))) {
				ssize_t r = recv(active[i].fd, sink, sizeof(sink), MSG_DONTWAIT);
				if (r > 0)
					active[i].idle_us = now + LINGER_IDLE_US;
				else if (r == 0 || (errno != EAGAIN && errno != EINTR))
					done = true;
			}
			if (done) {
				close(active[i].fd);
				metrics_gauge_add("hwc3d_connections_lingering", -1);
				active[i] = active[--n];
				pfd[i + 1] = pfd[n + 1]; /* keep revents with its socket */
			} else {
				i++;
			}
		}
	}
	for (size_t i = 0; i < n; i++) {
		close(active[i].fd);
		metrics_gauge_add("hwc3d_connections_lingering", -1);
	}
	return NULL;
}

/* ---- the registry and its watchdog ---- */

void conn_notify(void *cls, struct MHD_Connection *c, void **socket_context,
		 enum MHD_ConnectionNotificationCode code)
{
	UNUSED(cls);
	if (code == MHD_CONNECTION_NOTIFY_STARTED) {
		const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
		struct conn_ctx *cx = xcalloc(1, sizeof(*cx));
		cx->fd = ci ? ci->connect_fd : -1;
		cx->header_deadline_us = header_deadline();
		pthread_mutex_lock(&reg_lock);
		cx->next = reg_head;
		if (reg_head)
			reg_head->prev = cx;
		reg_head = cx;
		pthread_mutex_unlock(&reg_lock);
		metrics_gauge_add("hwc3d_connections_open", 1);
		*socket_context = cx;
		return;
	}
	struct conn_ctx *cx = *socket_context;
	if (!cx)
		return;
	*socket_context = NULL;
	/* MHD has shut down the sending side and closes the socket right
	 * after this call.  If the client is still sending, closing now
	 * would answer it with a reset: keep a duplicate and linger. */
	int pending = 0;
	if (cx->fd >= 0 && (cx->linger || (ioctl(cx->fd, FIONREAD, &pending) == 0 && pending > 0))) {
		int dup_fd = fcntl(cx->fd, F_DUPFD_CLOEXEC, 3);
		if (dup_fd >= 0)
			linger_add(dup_fd);
	}
	pthread_mutex_lock(&reg_lock);
	if (cx->prev)
		cx->prev->next = cx->next;
	else
		reg_head = cx->next;
	if (cx->next)
		cx->next->prev = cx->prev;
	pthread_mutex_unlock(&reg_lock);
	metrics_gauge_add("hwc3d_connections_open", -1);
	free(cx);
}

/* True when the connection has had its time: headers not complete by their
 * deadline, or a body below the minimum rate after the grace period. */
static bool overdue(struct conn_ctx *cx, int64_t now, const char **why)
{
	int64_t hd = load64(&cx->header_deadline_us);
	if (hd && now > hd) {
		*why = "request headers not complete in time";
		return true;
	}
	int64_t bs = load64(&cx->body_start_us);
	if (bs && cfg.body_min_rate) {
		uint64_t got = __atomic_load_n(&cx->body_bytes, __ATOMIC_RELAXED);
		int64_t allowed_us = (int64_t)cfg.header_timeout_s * 1000000 +
				     (int64_t)(got / cfg.body_min_rate) * 1000000;
		if (now - bs > allowed_us) {
			*why = "request body slower than BODY_MIN_RATE";
			return true;
		}
	}
	return false;
}

static void *watchdog_main(void *arg)
{
	UNUSED(arg);
	pthread_mutex_lock(&stop_lock);
	while (!stop_flag) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += WATCHDOG_TICK_MS * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&stop_cond, &stop_lock, &ts);
		if (stop_flag)
			break;
		pthread_mutex_unlock(&stop_lock);

		int64_t now = mono_us();
		int cut = 0;
		const char *why = NULL;
		pthread_mutex_lock(&reg_lock);
		for (struct conn_ctx *cx = reg_head; cx; cx = cx->next) {
			if (cx->fd < 0 || !overdue(cx, now, &why))
				continue;
			/* MHD sees the end of the stream on its next poll and
			 * closes the connection itself. */
			shutdown(cx->fd, SHUT_RDWR);
			store64(&cx->header_deadline_us, 0);
			store64(&cx->body_start_us, 0);
			cut++;
		}
		pthread_mutex_unlock(&reg_lock);
		if (cut)
			log_info("closed %d slow connection%s (%s)", cut, cut == 1 ? "" : "s", why);
		pthread_mutex_lock(&stop_lock);
	}
	pthread_mutex_unlock(&stop_lock);
	return NULL;
}

bool conn_guard_start(void)
{
	linger_wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (linger_wake < 0)
		return false;
	stop_flag = 0;
	if (pthread_create(&watchdog_thread, NULL, watchdog_main, NULL))
		return false;
	if (pthread_create(&linger_thread, NULL, linger_main, NULL)) {
		pthread_mutex_lock(&stop_lock);
		__atomic_store_n(&stop_flag, 1, __ATOMIC_RELEASE);
		pthread_cond_signal(&stop_cond);
		pthread_mutex_unlock(&stop_lock);
		pthread_join(watchdog_thread, NULL);
		return false;
	}
	pthread_mutex_lock(&linger_lock);
	threads_started = true;
	pthread_mutex_unlock(&linger_lock);
	return true;
}

void conn_guard_stop(void)
{
	pthread_mutex_lock(&linger_lock);
	bool started = threads_started;
	threads_started = false;
	pthread_mutex_unlock(&linger_lock);
	if (!started)
		return;
	pthread_mutex_lock(&stop_lock);
	__atomic_store_n(&stop_flag, 1, __ATOMIC_RELEASE);
	pthread_cond_signal(&stop_cond);
	pthread_mutex_unlock(&stop_lock);
	uint64_t one = 1;
	if (write(linger_wake, &one, sizeof(one)) < 0)
		log_debug("linger: wake-up failed");
	pthread_join(watchdog_thread, NULL);
	pthread_join(linger_thread, NULL);
	pthread_mutex_lock(&linger_lock);
	while (linger_queued)
		close(linger_queue[--linger_queued]);
	pthread_mutex_unlock(&linger_lock);
	close(linger_wake);
	linger_wake = -1;
}

void conn_refuse_raw(struct MHD_Connection *c, int status, const char *reason, const char *json_body)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
	if (!ci)
		return;
	char buf[1024];
	int n = snprintf(buf, sizeof(buf),
			 "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\n"
			 "X-Content-Type-Options: nosniff\r\nCache-Control: no-store\r\n"
			 "Connection: close\r\nContent-Length: %zu\r\n\r\n%s",
			 status, reason, strlen(json_body), json_body);
	if (n > 0 && (size_t)n < sizeof(buf) &&
	    send(ci->connect_fd, buf, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
		log_debug("refusing a request: send failed: %s", strerror(errno));
	/* The answer is out: no more from us.  MHD still reads the request
	 * and is told to close it by the dispatcher; the close lingers. */
	shutdown(ci->connect_fd, SHUT_WR);
	conn_ctx_t *cx = conn_of(c);
	if (cx) {
		cx->refused = true;
		cx->linger = true;
	}
}
