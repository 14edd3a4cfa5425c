/*
 * static.h: the web client and the API reference (static.c).  Called by
 * the dispatcher for GET/HEAD outside /api/ and /ws/.
 */
#ifndef HWC_STATIC_H
#define HWC_STATIC_H

#include <stdbool.h>
#include <stddef.h>
#include "request.h"

/* Serves path: a client file, a page's shell, /vendor/, /docs,
 * robots.txt or a sitemap.  False when nothing matches (the caller
 * answers 404); true when answered, or deferred to the worker pool. */
bool static_serve(req_t *req, const char *path);

/* Builds the asset table now (assets.h): slow, never on a poll thread.
 * Optional: without it the first static request builds it on a worker. */
void static_init(void);

/* A body in memory, with what static_reply needs to send it. */
struct static_body {
	int status;
	const char *type;
	const unsigned char *data; /* copied by static_reply */
	size_t len;
	const unsigned char *gz;   /* the same gzip-compressed, or NULL */
	size_t gzlen;
	const char *etag, *gz_etag; /* strong ETags of each, or NULL */
	const char *cache;          /* Cache-Control */
	const char *csp;            /* Content-Security-Policy */
};

/* Sends b: a 304 when If-None-Match names its ETag, the gzip copy when
 * Accept-Encoding allows it (with Vary: Accept-Encoding), a 206 for one
 * byte range of the uncompressed bytes (a Range asks for bytes of the
 * identity encoding, never gzip).  The caller's buffers may be freed once
 * it returns. */
void static_reply(req_t *req, const struct static_body *b);

/* True when the request's Accept-Encoding allows gzip. */
bool static_accepts_gzip(req_t *req);

#endif
