/*
 * request.h: the request context every handler receives.
 *
 * A req_t lives in its own arena from the first byte of the request until the
 * response has been sent; everything hanging off it (strings, JSON, rows)
 * is released in one place by the server.  Handlers read parameters through
 * the accessors below and answer through reply.h, returning its result.
 *
 * The accessors (request.c) are the only code that reads the request from
 * libmicrohttpd; handlers, validators and the auth module never touch the
 * connection, and the dispatcher (server.c) is the only caller of
 * req_set_client_ip.
 */
#ifndef HWC_REQUEST_H
#define HWC_REQUEST_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include "../auth/auth.h"
#include "../core/arena.h"
#include "../core/strbuf.h"
#include "../db/db.h"
#include "router.h"

struct MHD_Connection;
struct MHD_Response;
struct conn_ctx;
struct pool_job;

#define REQ_EXTRA_HEADERS 8

/* The file part of a multipart/form-data body, streamed to a temp file
 * while counted and hashed (multipart.c).  The temp file is deleted when the
 * request ends unless a handler took it (set tmp_path to NULL). */
typedef struct upload_part {
	char *tmp_path;
	int fd;
	uint64_t size;
	char sha256[65];
	const char *filename; /* the client's name, sanitised (no path, no controls) */
	const char *field;
	void *hash;           /* SHA-256 state while receiving */
	bool too_large, failed, done;
	bool no_space;        /* failed for want of room (ENOSPC, EDQUOT): 503, not 500 */
	bool sealed;          /* another part of the same name began: it is not ours */
} upload_part_t;

typedef struct req {
	arena_t *arena;
	struct MHD_Connection *conn;
	struct conn_ctx *cx;    /* the connection guard's record (conn.h) */
	/* A request built without libmicrohttpd (conn is NULL: the fuzz
	 * harnesses in tests/fuzz, the unit tests) carries its query
	 * arguments, headers and cookies here instead, as NULL-terminated
	 * name, value, name, value, ... arrays; req_query, req_header and
	 * req_cookie look them up as MHD would (the first match, names
	 * compared without case). */
	const char *const *query_kv;
	const char *const *header_kv;
	const char *const *cookie_kv;
	db_t *db;               /* this thread's connection; NULL when unavailable */
	struct req_rows *rows;  /* the query results req_rows handed out */

	char request_id[40];
	char ip[64];
	const char *method;     /* as sent */
	method_t method_id;
	const char *path;       /* decoded path, as sent */
	const char *origin;     /* Origin header when allowed by CORS_ORIGINS */
	int64_t start_us;

	match_t match;
	const route_t *route;   /* NULL for static files and errors before routing */
	auth_user_t *user;      /* NULL when anonymous */

	/* body */
	strbuf_t body;          /* JSON or raw body as received */
	json_t *json;           /* parsed JSON body (owned, released with the arena) */
	uint64_t bytes_in;
	bool has_body;
	struct MHD_PostProcessor *pp; /* multipart bodies */
	upload_part_t *upload;        /* the first file part */
	json_t *form;                 /* the other (small) fields */

	/* the answer */
	int status;
	struct MHD_Response *resp;
	const char *hdr_names[REQ_EXTRA_HEADERS];
	const char *hdr_values[REQ_EXTRA_HEADERS];
	int nhdr;

	/* dispatcher state */
	int early_status;       /* decided before the body: answer it, skip the handler */
	int early_err;          /* err_t */
	const char *early_detail;
	json_t *early_fields;
	int retry_after;
	bool queued, is_static, counted;
	bool close_conn;        /* answer with Connection: close */
	bool own_cache_headers; /* the handler set Cache-Control and CSP itself */
	uint64_t cache_claim;   /* a response-cache key this request computes */
	struct pool_job *job;   /* slow work deferred to the pool (pool.h) */
} req_t;

/* What handlers return: the reply helpers return it after building the
 * response, so `return reply_json(...)` reads naturally. */
#define DONE 0

/* A request header, or NULL. */
const char *req_header(req_t *req, const char *name);
/* A cookie sent with the request (Cookie header, as MHD parses it), or NULL. */
const char *req_cookie(req_t *req, const char *name);
/* The credentials of "Authorization: Bearer <token>" for auth_identify:
 * NULL when no Authorization header (or an empty one) was sent, "" for
 * another scheme (a token that never verifies, so it answers 401). */
const char *req_bearer_token(req_t *req);
/* A query-string argument, or NULL. */
const char *req_query(req_t *req, const char *name);
/* Every occurrence of a query argument, in order: the first max values go
 * to vals (a value is NULL for a bare `?name`); returns how many there are
 * (which may exceed max).  validate.h's q_* helpers are built on it. */
size_t req_query_values(req_t *req, const char *name, const char **vals, size_t max);
/* Path parameters by name: text, or the parsed value of an {x:int}. */
const char *req_param(req_t *req, const char *name);
int64_t req_param_int(req_t *req, const char *name);
/* The JSON body (an object: the dispatcher checked). */
json_t *req_body(req_t *req);

/* Runs a query on req->db whose rows belong to the request: no db_done
 * needed.  The dispatcher releases them as soon as the handler (or a
 * pool_defer done step) returns, before the request sleeps or answers, and
 * the arena frees them at the latest (requests built without the
 * dispatcher).  db_done stays allowed, to release a lookup before a write
 * (see db_done in db.h).  NULL on error, as db_query. */
db_rows_t *req_rows(req_t *req, const char *sql, const db_param_t *params, int n);
#define RQ(req, sql, ...) req_rows((req), (sql), DB_PARAMS(__VA_ARGS__))
#define RQ0(req, sql) req_rows((req), (sql), NULL, 0)
/* Releases the statements of every req_rows result (the dispatcher). */
void req_rows_release(req_t *req);

/* Adds a response header; name and value must outlive the request
 * (literals or arena strings). */
void req_add_header(req_t *req, const char *name, const char *value);

/* The socket peer's address as text into buf (INET6_ADDRSTRLEN bytes
 * suffice), whatever X-Forwarded-For says; NULL when unknown. */
const char *req_peer_address(req_t *req, char *buf, size_t n);
/* The dispatcher, once per request: sets req->ip to the client's address,
 * the peer or, behind TRUSTED_PROXIES, the first untrusted hop of
 * X-Forwarded-For counted from the right. */
void req_set_client_ip(req_t *req);

#endif
