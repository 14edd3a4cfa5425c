/*
 * router.h: the route table and path matching.
 *
 * Every endpoint is one route_t: method, pattern, handler, access level,
 * rate-limit class, body kind and limit.  Patterns are literal segments and
 * parameters: "/api/models/{id:int}" (a positive 64-bit integer) or
 * "/api/auth/oauth/{provider}" (any one segment).  A literal segment beats a
 * parameter, so "/api/models/featured" wins over "/api/models/{id:int}".
 *
 * The router is built once at start-up and read concurrently afterwards.
 */
#ifndef HWC_ROUTER_H
#define HWC_ROUTER_H

#include <stddef.h>
#include <stdint.h>
#include "../core/config.h"

struct req;
typedef int (*handler_fn)(struct req *req);

typedef enum { M_GET, M_POST, M_PUT, M_PATCH, M_DELETE, M_COUNT } method_t;

typedef enum {
	ACCESS_PUBLIC,   /* no token looked at */
	ACCESS_OPTIONAL, /* a token, when sent, must be valid; req->user may be NULL */
	ACCESS_USER,     /* a valid token of a live, unbanned user */
	ACCESS_VERIFIED, /* ... whose email is verified */
	ACCESS_ADMIN,    /* ... with the admin role */
} access_t;

typedef enum { BODY_NONE, BODY_JSON, BODY_MULTIPART, BODY_RAW } body_kind_t;

typedef struct route {
	method_t method;
	const char *pattern;
	handler_fn handler;
	access_t access;
	enum rl_class rl;
	body_kind_t body;
	size_t body_limit; /* 0: the default for the body kind */
	unsigned flags;    /* ROUTE_* */
	const char *summary;
} route_t;

enum {
	ROUTE_NO_DB = 1, /* runs without a database connection (health, metrics) */
};

#define MAX_PATH_PARAMS 8
#define MAX_PATH_SEGMENTS 24

enum match_status { MATCH_OK, MATCH_NO_PATH, MATCH_NO_METHOD, MATCH_BAD_PARAM };

typedef struct match {
	enum match_status status;
	const route_t *route;
	int route_index;
	unsigned allowed; /* bit per method_t, for 405 and CORS preflight */
	int nparams;
	const char *names[MAX_PATH_PARAMS];
	const char *values[MAX_PATH_PARAMS];
	int64_t ints[MAX_PATH_PARAMS];
	const char *bad_param; /* MATCH_BAD_PARAM: which {x:int} was not a number */
} match_t;

typedef struct router router_t;

router_t *router_new(void);
void router_free(router_t *r);
/* Adds n routes; aborts on a malformed pattern or a duplicate (a bug). */
void router_add(router_t *r, const route_t *routes, size_t n);
/* Splits path in place (it must be writable) and matches it. */
void router_match(const router_t *r, method_t m, char *path, match_t *out);
size_t router_count(const router_t *r);
const route_t *router_get(const router_t *r, size_t i);

const char *method_name(method_t m);
/* -1 for an unknown method. */
int method_parse(const char *s);

#endif
