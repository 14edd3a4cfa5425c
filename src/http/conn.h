/*
 * conn.h: the connection guard, what libmicrohttpd 0.9.75 does not do for
 * slow and hostile clients.
 *
 * MHD only knows an idle timeout, which every byte resets: a client that
 * sends one header byte every 50 s holds its connection forever, and a few
 * hundred of them hold every slot.  The guard keeps a registry of open
 * connections (fed by MHD's connection notifications) and a watchdog thread
 * that cuts:
 *   - a connection whose request headers are not complete HEADER_TIMEOUT
 *     seconds after it started waiting for them (opened, or its previous
 *     response sent: an idle keep-alive connection is closed then too);
 *   - a request body slower than BODY_MIN_RATE bytes/s on average, after a
 *     grace of HEADER_TIMEOUT seconds.
 *
 * It also closes connections the way nginx does ("lingering close"): when
 * the server closes a connection whose client is still sending (an early
 * 400/413/414/431, a refused body), closing at once would make the kernel
 * answer the unread bytes with a reset, and the client would lose the
 * answer it was sent.  Such sockets are handed to a linger thread that has
 * already shut down the sending side, reads and drops what still comes for
 * a bounded time, then closes.
 *
 * Thread safety: conn_notify runs on MHD's poll threads; the phase setters
 * are called by the poll thread that owns the connection; the watchdog and
 * linger threads only touch sockets under the registry lock, which MHD's
 * close notification also takes, so a socket is never shut down after its
 * number has been given back.
 */
#ifndef HWC_CONN_H
#define HWC_CONN_H

#include <microhttpd.h>
#include <stdint.h>

typedef struct conn_ctx conn_ctx_t;

/* Starts the watchdog and linger threads; false when they cannot start. */
bool conn_guard_start(void);
/* Stops both threads and closes what still lingers.  Call after
 * MHD_stop_daemon. */
void conn_guard_stop(void);

/* MHD_OPTION_NOTIFY_CONNECTION callback. */
void conn_notify(void *cls, struct MHD_Connection *c, void **socket_context,
		 enum MHD_ConnectionNotificationCode code);

/* The guard's record of a connection (NULL for one it never saw). */
conn_ctx_t *conn_of(struct MHD_Connection *c);

/* The request's headers are complete; a body of unknown size may follow. */
void conn_request_begun(conn_ctx_t *cx, bool has_body);
/* More body bytes arrived. */
void conn_body_progress(conn_ctx_t *cx, uint64_t bytes);
/* The body is in (or there was none): the server is working on the answer. */
void conn_request_busy(conn_ctx_t *cx);
/* The response has been sent: the connection now waits for the next
 * request's headers. */
void conn_request_done(conn_ctx_t *cx);
/* Ask for a lingering close of this connection when it ends. */
void conn_linger(conn_ctx_t *cx);

/* True once conn_refuse_raw answered this connection. */
bool conn_refused(conn_ctx_t *cx);

/* Writes a complete HTTP response straight to a connection's socket and
 * shuts down the sending side; used where MHD cannot answer (a request
 * target refused before MHD parses it).  The connection lingers. */
void conn_refuse_raw(struct MHD_Connection *c, int status, const char *reason, const char *json_body);

#endif
