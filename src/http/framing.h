/*
 * framing.h: strict HTTP/1.1 message framing, decided from the request's
 * header fields before any byte of the body is read.
 *
 * libmicrohttpd 0.9.75 is lenient where a proxy in front of us may not be:
 * it keeps "Content-Length :" as a field named "Content-Length " (and so
 * reads no body), takes the first of two Content-Length fields, lets
 * Transfer-Encoding silently win over Content-Length, and glues an
 * obs-fold continuation line onto the previous field's *name*.  Each of
 * those lets two parsers disagree on where a request ends, which is request
 * smuggling.  Every such request is refused here with 400 and the
 * connection is closed, so the bytes after it are never parsed.
 *
 * Pure functions over a list of fields: no MHD, no allocation, so the
 * fuzzer and the unit tests drive them directly.
 */
#ifndef HWC_FRAMING_H
#define HWC_FRAMING_H

#include <stddef.h>

/* Limits on the header section (each answered 431). */
#define HTTP_MAX_HEADERS 100
#define HTTP_MAX_FIELD_BYTES 8192
#define HTTP_MAX_HEADER_BYTES 16384

typedef struct http_field {
	const char *name;
	const char *value;
} http_field_t;

typedef struct framing_verdict {
	int status;          /* 0: fine; 400 or 431 */
	const char *detail;  /* a static sentence for the error body */
} framing_verdict_t;

/* Judges the header fields of one request, as the server received them. */
framing_verdict_t http_framing_check(const http_field_t *fields, size_t n);

/* True when s is a non-empty RFC 9110 token (the characters a field name
 * may hold). */
int http_is_token(const char *s);

#endif
