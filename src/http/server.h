/*
 * server.h: the HTTP server (libmicrohttpd, epoll, thread pool).
 *
 * server_run() serves the routes until SIGINT or SIGTERM, then stops taking
 * connections, lets the requests in flight finish (up to SHUTDOWN_TIMEOUT
 * seconds) and returns.  The dispatcher decides 404/405/401/403/413/415/429
 * from the route table before a body is read, reads JSON bodies into memory
 * (capped), and only then calls the handler.  Only main.c needs this
 * header: handlers see the request through request.h and reply.h.
 */
#ifndef HWC_SERVER_H
#define HWC_SERVER_H

#include "router.h"

/* Blocks SIGINT and SIGTERM in the calling thread, so in every thread it
 * starts afterwards: server_run's sigwait is then the only place they go.
 * Call it before the first thread (libvips, workers) exists; a thread
 * left with them unblocked would take the signal's default action and
 * kill the process with nothing logged. */
void server_block_signals(void);

int server_run(router_t *router);

#endif
