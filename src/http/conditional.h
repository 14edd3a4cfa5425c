/*
 * conditional.h: the request headers that decide which bytes of a static
 * file go out (conditional.c): Range, If-None-Match and Accept-Encoding.
 *
 * Pure functions over header values as the server received them (C
 * strings; NULL when the header is absent): no req_t, no allocation, no
 * state, so static.c, the unit tests and tests/fuzz/fuzz_conditional.c call
 * the very same code.  Thread-safe.
 */
#ifndef HWC_CONDITIONAL_H
#define HWC_CONDITIONAL_H

#include <stdbool.h>
#include <stdint.h>

enum http_range {
	HTTP_RANGE_UNSATISFIABLE = -1, /* answer 416 with "bytes * /size" */
	HTTP_RANGE_NONE = 0,           /* send the whole representation */
	HTTP_RANGE_OK = 1,             /* send [*from, *to] with 206 */
};

/* One range of size bytes: "bytes=a-b", "bytes=a-" or "bytes=-n" (the
 * last n bytes).  HTTP_RANGE_OK sets from <= to < size.  HTTP_RANGE_NONE
 * for no header, another unit, junk, spaces, a number that overflows, b < a,
 * and several ranges (we serve one range only, and a client asking for
 * several gets the whole file, which RFC 9110 allows).
 * HTTP_RANGE_UNSATISFIABLE when the start is at or past the end, for
 * "bytes=-0", and for any range of an empty file.  from and to are
 * written only on HTTP_RANGE_OK. */
enum http_range http_range_parse(const char *range, uint64_t size, uint64_t *from, uint64_t *to);

/* If-None-Match names etag or etag2 (either may be NULL): "*", or a
 * comma-separated list whose members compare weakly ("W/" ignored), with
 * spaces and tabs around them.  The ETags given are strong ones, as the
 * server makes them ("\"...\"").  False for NULL. */
bool http_etag_matches(const char *if_none_match, const char *etag, const char *etag2);

/* Accept-Encoding allows gzip (RFC 9110 12.5.3): the first member naming
 * "gzip" or its alias "x-gzip" (any case) decides, else the first "*"; a
 * q parameter of zero (";q=0", ";Q=0.000", among other parameters)
 * refuses.  False for NULL, "" and lists naming neither ("identity",
 * "br"). */
bool http_accepts_gzip(const char *accept_encoding);

#endif
