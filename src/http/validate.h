/*
 * validate.h: declarative checks for JSON bodies and query strings.
 *
 * A handler describes each field once; every failure is collected, and one
 * 422 with all field_errors is sent at the end:
 *
 *	valid_t v;
 *	v_init(&v, req, req_body(req));
 *	const char *name = v_str(&v, "name", V_REQUIRED, 1, 50);
 *	int64_t order = v_int(&v, "sort_order", 0, -1000, 1000, 0);
 *	if (!v_ok(&v))
 *		return v_reply(&v);
 *
 * Strings come back as arena copies, trimmed, NUL-free, length-checked in
 * characters.  Query parameters use the q_* forms with the same collector.
 */
#ifndef HWC_VALIDATE_H
#define HWC_VALIDATE_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include "request.h"

enum {
	V_REQUIRED = 1,  /* absent (or null) is an error */
	V_NULLABLE = 2,  /* an explicit null is accepted (v_is_null tells) */
	V_NO_TRIM = 4,   /* keep surrounding whitespace */
	V_MULTILINE = 8, /* allow newlines and tabs */
};

typedef struct valid {
	req_t *req;
	json_t *obj;
	json_t *errors; /* NULL until the first error */
} valid_t;

void v_init(valid_t *v, req_t *req, json_t *obj);
void v_error(valid_t *v, const char *field, const char *msg);
bool v_ok(const valid_t *v);
/* Sends the 422 (consumes the errors). */
int v_reply(valid_t *v);

bool v_present(valid_t *v, const char *field);
bool v_is_null(valid_t *v, const char *field);
const char *v_str(valid_t *v, const char *field, int flags, size_t min_chars, size_t max_chars);
int64_t v_int(valid_t *v, const char *field, int flags, int64_t lo, int64_t hi, int64_t def);
bool v_bool(valid_t *v, const char *field, int flags, bool def);
/* A money amount in dollars (number or string, at most 2 decimals) as cents. */
int64_t v_money(valid_t *v, const char *field, int flags, int64_t max_cents, int64_t def);
/* A slug: [a-z0-9]+(-[a-z0-9]+)* */
const char *v_slug(valid_t *v, const char *field, int flags, size_t max_chars);
/* An array of at most max_items strings of min_chars..max_chars characters
 * on one line (no control characters), as v_str reads each (trimmed).
 * Returns the number of items and sets *out to an arena array of them;
 * 0 with *out NULL when absent or after a field error.  V_REQUIRED makes
 * an absent array an error; null is always one. */
size_t v_str_array(valid_t *v, const char *field, int flags, size_t max_items, size_t min_chars,
		   size_t max_chars, const char ***out);
/* The longest URL a body may hold (images, links). */
#define URL_MAX_CHARS 500
/* An absolute http(s) URL with a host and no spaces, quotes or controls. */
bool url_is_http(const char *s);
/* A path on this site: "/..." but not "//host" nor "/\\host". */
bool url_is_local_path(const char *s);
/* One of the given values (NULL-terminated list). */
const char *v_enum(valid_t *v, const char *field, int flags, const char *const *allowed, const char *def);

/*
 * Query-string parameters.  Every helper bounds what it reads, so a handler
 * never sees an unbounded value:
 *  - a scalar parameter given more than once is a field error ("Must be
 *    given only once"): first-wins or last-wins would let a proxy and this
 *    server read two different requests;
 *  - a value is bounded in bytes after percent-decoding (never more than
 *    Q_VALUE_MAX_BYTES) as well as in characters;
 *  - a list is bounded in items, and each item in characters and bytes.
 * docs/openapi.yaml states each parameter's maxLength / maxItems.
 */
#define Q_VALUE_MAX_BYTES 4096 /* any one value */
#define Q_INT_MAX_BYTES 32     /* an integer or boolean value */
#define Q_LIST_MAX_ITEMS 64    /* the most items any list may allow */

int64_t q_int(valid_t *v, const char *name, int64_t lo, int64_t hi, int64_t def);
bool q_bool(valid_t *v, const char *name, int *out); /* *out = -1 when absent */
/* Text: valid UTF-8 without control characters, at most max_chars
 * characters and 4 * max_chars bytes (and Q_VALUE_MAX_BYTES). */
const char *q_str(valid_t *v, const char *name, size_t max_chars);
/* The same with an explicit byte cap (itself capped at Q_VALUE_MAX_BYTES). */
const char *q_strn(valid_t *v, const char *name, size_t max_chars, size_t max_bytes);
/* A list: comma-separated items; the parameter may also be repeated
 * (?tags=a&tags=b is ?tags=a,b).  Items are trimmed of spaces, empty ones
 * skipped.  More than max_items items (max_items <= Q_LIST_MAX_ITEMS), or
 * an item over max_chars characters or max_bytes bytes, is a field error.
 * Returns the number of items (0 when absent or after an error) and sets
 * *out to an arena array of them. */
size_t q_list(valid_t *v, const char *name, size_t max_items, size_t max_chars, size_t max_bytes,
	      const char ***out);

/* One of the given values (NULL-terminated list), def when absent or
 * empty; NULL after a field error ("Must be one of: a, b, c"). */
const char *q_enum(valid_t *v, const char *name, const char *const *allowed, const char *def);
/* A money amount in dollars ("10", "9.5", "9.99": at most two decimals,
 * no sign) as cents; def when absent or empty. */
int64_t q_money(valid_t *v, const char *name, int64_t def);

/*
 * Ranges (CONTRACT.md "Ranges"): "min-max" with either end open ("10-",
 * "-20", "10-20"), both ends non-negative.  "-" alone, a sign, a second
 * "-", spaces, min above max, or more than Q_RANGE_MAX_BYTES bytes is a
 * field error.  An absent or empty parameter, or an open end, leaves
 * lo / hi at -1.  Returns true when the parameter was given and valid.
 */
#define Q_RANGE_MAX_BYTES 41 /* two 20-byte ends and the "-" */
typedef struct q_range {
	int64_t lo, hi; /* -1: open */
} q_range_t;

enum q_range_kind {
	Q_RANGE_INT,   /* whole numbers 0..INT64_MAX */
	Q_RANGE_MONEY, /* dollar amounts as q_money, in cents */
};
bool q_range(valid_t *v, const char *name, enum q_range_kind kind, q_range_t *out);
/* The parser behind q_range: false when s is not a range of kind (min
 * above max included). */
bool range_parse(const char *s, enum q_range_kind kind, q_range_t *out);

/* Pagination (guide section 22): page >= 1, limit 1..100 (above is clamped). */
typedef struct page {
	int64_t page, limit, offset;
} page_t;

#define PAGE_MAX_LIMIT 100
#define PAGE_DEFAULT_LIMIT 20

void q_page(valid_t *v, page_t *p);
/* Every row of r through fn into a JSON array; r is consumed.  NULL when
 * the query failed while stepping. */
json_t *rows_to_array(db_rows_t *r, json_t *(*fn)(db_rows_t *r));
/* The same for documents that depend on the caller: fn(req, row). */
json_t *rows_to_array_req(req_t *req, db_rows_t *r, json_t *(*fn)(req_t *req, db_rows_t *r));

/* {"items", "total", "page", "limit", "pages"}; items is stolen. */
json_t *page_envelope(json_t *items, int64_t total, const page_t *p);

/* True when the JSON text nests objects/arrays deeper than max (counted
 * outside strings); jansson's own limit (2048) is far too deep. */
bool json_depth_exceeds(const char *s, size_t n, int max);

/* True when s is well-formed UTF-8 (no overlongs, surrogates). */
bool utf8_valid(const char *s);
/* "%s%" for LIKE ... ESCAPE '\' with s's own %, _ and \ escaped. */
char *like_contains(arena_t *a, const char *s);

/* json_dumps into the arena ("" if it cannot be serialised). */
char *arena_json_dumps(arena_t *a, const json_t *j, size_t flags);

/* s lowercased beyond ASCII too (E-acute becomes e-acute); an arena copy. */
char *utf8_lower(arena_t *a, const char *s);

/* Number of UTF-8 characters in s. */
size_t utf8_chars(const char *s);
/* A millisecond timestamp as an ISO 8601 string (null for 0/absent). */
json_t *json_time(int64_t ms);

#endif
