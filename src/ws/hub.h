/*
 * hub.h: the WebSocket hub, one thread that owns every upgraded socket
 * (epoll, wslay framing), and the glue the HTTP server needs to hand
 * sockets over.  Features use ws.h and events.h, not this.
 *
 * Life cycle (server.c): hub_start() before the daemon serves; hub_stop()
 * after it stops taking requests and before MHD_stop_daemon: every socket
 * is sent a 1001 close and handed back to MHD (MHD_upgrade_action CLOSE),
 * as MHD requires.  hub_deliver and hub_adopt are thread safe and never
 * block on a socket.
 */
#ifndef HWC_WS_HUB_H
#define HWC_WS_HUB_H

#include <microhttpd.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "ws.h"

struct req;

/* An upgraded socket and who opened it (copied by hub_adopt). */
typedef struct hub_socket {
	MHD_socket fd;
	struct MHD_UpgradeResponseHandle *urh;
	const char *extra_in; /* bytes MHD read past the request: the first frames */
	size_t extra_in_len;
	int close_code;       /* 0: serve it; 4401/4403: close with that code at once */
	const char *reason;   /* the close reason with close_code */
	int64_t user_id;
	bool is_admin;
	const char *username;
	const char *kind;     /* "notifications", "support", "community" */
	int64_t id;
	const char *channel;
} hub_socket_t;

bool hub_start(void);
void hub_stop(void);

/* Takes the socket; false when the hub is not running (the caller then
 * closes it through MHD). */
bool hub_adopt(const hub_socket_t *s);

/* Sends the text frame to every subscriber of channel on this instance
 * except the socket whose id is skip (0: none).  Copies what it needs.
 * False (dropped) when the hub is not running or its queue is full. */
bool hub_deliver(const char *channel, const char *frame, size_t len, uint64_t skip);

/* Open sockets on this instance. */
size_t hub_count(void);

/* ---- upgrade.c ---- */

/* Is this a WebSocket endpoint's path (/ws/...)? */
bool ws_path(const char *path);
/* Answers a request for a /ws/ path: a 101 upgrade, or an HTTP error
 * (400 bad handshake, 403 Origin, 404, 405, 426 version, 503 stopping).
 * Credentials and the channel's owner are checked here; their failures
 * are WebSocket closes (4401, 4403) after the upgrade, as browsers see
 * nothing of an HTTP error. */
int ws_serve(struct req *req);

/* The registered kinds (upgrade.c), for the hub's message dispatch. */
ws_message_fn ws_handler_of(const char *kind);

/* ---- the worker that runs kinds' message handlers (hub.c) ---- */
bool ws_worker_submit(const ws_message_t *m);

#endif
