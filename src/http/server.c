#include <arpa/inet.h>
#include <microhttpd.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>
#include "server.h"
#include "conn.h"
#include "static.h"
#include "framing.h"
#include "reply.h"
#include "request.h"
#include "validate.h"
#include "multipart.h"
#include "pool.h"
#include "../auth/auth.h"
#include "../core/log.h"
#include "../core/num.h"
#include "../core/util.h"
#include "../svc/cache.h"
#include "../svc/metrics.h"
#include "../svc/notify.h"
#include "../svc/ratelimit.h"
#include "../svc/settings.h"
#include "../ws/hub.h"

/* Bodies on routes that take none are read and dropped up to this size. */
#define IGNORED_BODY_LIMIT 65536
/* Past its limit a body is read and dropped for this much more, so the
 * client gets its 413; a sender that goes on is disconnected. */
#define DISCARD_LIMIT ((uint64_t)8 << 20)
#define JSON_API_CSP "default-src 'none'; frame-ancestors 'none'"

static router_t *routes;
static int64_t in_flight;

/* ---- early decisions ---- */

static void early(req_t *req, err_t e, int status, const char *detail)
{
	if (req->early_status)
		return;
	req->early_status = status ? status : err_status(e);
	req->early_err = (int)e;
	req->early_detail = detail;
}

static bool origin_allowed(const char *origin)
{
	for (size_t i = 0; i < cfg.n_cors_origins; i++)
		if (!strcmp(cfg.cors_origins[i], origin))
			return true;
	return false;
}

static size_t body_limit(const route_t *rt)
{
	if (rt->body == BODY_MULTIPART)
		return rt->body_limit + MULTIPART_SLACK; /* the file limit is exact, in multipart.c */
	if (rt->body_limit)
		return rt->body_limit;
	return rt->body == BODY_NONE ? IGNORED_BODY_LIMIT : cfg.json_body_limit;
}

static bool content_type_is(const char *ct, const char *want)
{
	if (!ct)
		return false;
	while (*ct == ' ')
		ct++;
	size_t n = strlen(want);
	return !strncasecmp(ct, want, n) && (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ');
}

static bool rate_limit(req_t *req, enum rl_class cls)
{
	char key[96];
	if (req->user) {
		snprintf(key, sizeof(key), "u:%lld", (long long)req->user->id);
	} else {
		char pfx[64];
		ratelimit_client_prefix(req->ip, pfx, sizeof(pfx)); /* IPv6 by its /64 */
		snprintf(key, sizeof(key), "ip:%s", pfx);
	}
	int retry = 0;
	if (ratelimit_hit(cls, key, &retry))
		return true;
	req->retry_after = retry;
	early(req, ERR_RATE_LIMITED, 0,
	      arena_printf(req->arena, "Rate limit exceeded. Try again in %d seconds.", retry));
	return false;
}

/* Maintenance mode (svc/settings.h): the API answers 503 with
 * Retry-After to everyone but admins; the admin and auth routes, health
 * and metrics (no database) and the static client keep working, so an
 * admin can sign in and turn it off. */
#define MAINTENANCE_RETRY_S 300

static bool maintenance_blocks(req_t *req)
{
	const route_t *rt = req->route;
	if ((rt->flags & ROUTE_NO_DB) || !req->db || str_has_prefix(req->path, "/api/admin/") ||
	    str_has_prefix(req->path, "/api/auth/") || !str_has_prefix(req->path, "/api/"))
		return false;
	platform_settings_t s;
	settings_get(req->db, &s);
	if (!s.maintenance_mode)
		return false;
	if (!req->user && rt->access == ACCESS_PUBLIC && req_bearer_token(req))
		auth_identify(req->db, req->arena, req_bearer_token(req), &req->user);
	if (req->user && req->user->is_admin)
		return false;
	req->retry_after = MAINTENANCE_RETRY_S;
	early(req, ERR_UNAVAILABLE, 0, s.maintenance_message[0] ? arena_strdup(req->arena, s.maintenance_message)
				      : "The platform is down for maintenance; try again shortly");
	return true;
}

static void check_route(req_t *req, const char *content_length)
{
	const route_t *rt = req->route;
	if (!(rt->flags & ROUTE_NO_DB)) {
		req->db = db_thread();
		if (!req->db) {
			early(req, ERR_UNAVAILABLE, 0, "The database is unavailable; try again shortly");
			return;
		}
	}
	if (rt->access != ACCESS_PUBLIC) {
		switch (auth_identify(req->db, req->arena, req_bearer_token(req), &req->user)) {
		case AUTH_INVALID:
			early(req, ERR_UNAUTHORIZED, 0, "Invalid or expired access token");
			return;
		case AUTH_BANNED:
			early(req, ERR_FORBIDDEN, 0, "This account is banned");
			return;
		case AUTH_DB_ERROR:
			early(req, ERR_UNAVAILABLE, 0, "The database is unavailable; try again shortly");
			return;
		default:
			break;
		}
	}
	if (!rate_limit(req, rt->rl))
		return;
	if (rt->access >= ACCESS_USER && !req->user) {
		early(req, ERR_UNAUTHORIZED, 0, "Authentication required");
		return;
	}
	if (rt->access == ACCESS_VERIFIED && !req->user->is_email_verified) {
		early(req, ERR_EMAIL_NOT_VERIFIED, 0, "Verify your email address first");
		return;
	}
	if (rt->access == ACCESS_ADMIN && !req->user->is_admin) {
		early(req, ERR_FORBIDDEN, 0, "Administrator access required");
		return;
	}
	if (maintenance_blocks(req))
		return;
	if (content_length) {
		int64_t cl;
		if (!parse_i64(content_length, &cl) || cl < 0) {
			early(req, ERR_VALIDATION, 400, "Invalid Content-Length");
			return;
		}
		if ((uint64_t)cl > body_limit(rt)) {
			early(req, ERR_FILE_TOO_LARGE, 0,
			      arena_printf(req->arena, "Request body too large (limit %zu bytes)", body_limit(rt)));
			return;
		}
	}
	const char *ct = req_header(req, "Content-Type");
	if (rt->body == BODY_JSON && req->has_body && !content_type_is(ct, "application/json")) {
		early(req, ERR_UNSUPPORTED_MEDIA, 0, "Content-Type must be application/json");
	} else if (rt->body == BODY_MULTIPART) {
		if (!content_type_is(ct, "multipart/form-data"))
			early(req, ERR_UNSUPPORTED_MEDIA, 0, "Content-Type must be multipart/form-data");
		else if (!multipart_begin(req))
			early(req, ERR_VALIDATION, 400, "Malformed multipart/form-data (no boundary)");
	}
}

struct field_list {
	http_field_t *f;
	size_t n, cap;
	arena_t *arena;
};

static enum MHD_Result collect_field(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	UNUSED(kind);
	struct field_list *l = cls;
	if (l->n == l->cap) {
		if (l->cap > HTTP_MAX_HEADERS)
			return MHD_YES; /* counted, not kept: the check refuses it anyway */
		size_t cap = l->cap ? l->cap * 2 : 32;
		http_field_t *f = arena_alloc(l->arena, cap * sizeof(*f));
		if (l->n)
			memcpy(f, l->f, l->n * sizeof(*f));
		l->f = f;
		l->cap = cap;
	}
	l->f[l->n++] = (http_field_t){ key, value };
	return MHD_YES;
}

/* Refuses a request whose framing a proxy might read differently (see
 * framing.h) or whose header section is over the limits: the answer goes
 * out at once and the connection is closed, so nothing after this request
 * on the wire is ever parsed. */
static bool framing_ok(req_t *req)
{
	struct field_list l = { .arena = req->arena };
	int n = MHD_get_connection_values(req->conn, MHD_HEADER_KIND, collect_field, &l);
	framing_verdict_t v = http_framing_check(l.f, n > 0 ? (size_t)n : 0);
	if (!v.status)
		return true;
	early(req, ERR_VALIDATION, v.status, v.detail);
	req->close_conn = true;
	return false;
}

static req_t *begin(struct MHD_Connection *conn, const char *url, const char *method)
{
	arena_t *a = arena_new();
	req_t *req = arena_calloc(a, sizeof(*req));
	req->arena = a;
	req->conn = conn;
	req->start_us = mono_us();
	req->cx = conn_of(conn);
	req->method = arena_strdup(a, method);
	req->path = arena_strdup(a, url);
	sb_init(&req->body, 0);
	__atomic_add_fetch(&in_flight, 1, __ATOMIC_RELAXED);
	metrics_gauge_add("hwc3d_requests_in_flight", 1);
	req->counted = true;

	const char *rid = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "X-Request-Id");
	bool rid_ok = rid && strlen(rid) >= 8 && strlen(rid) < sizeof(req->request_id);
	for (const char *p = rid; rid_ok && *p; p++)
		rid_ok = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '-' || *p == '_';
	if (rid_ok)
		snprintf(req->request_id, sizeof(req->request_id), "%s", rid);
	else
		unique_hex(req->request_id);
	req_set_client_ip(req);

	const char *origin = req_header(req, "Origin");
	if (origin && origin_allowed(origin))
		req->origin = origin;

	const char *cl = req_header(req, MHD_HTTP_HEADER_CONTENT_LENGTH);
	const char *te = req_header(req, MHD_HTTP_HEADER_TRANSFER_ENCODING);
	req->has_body = (cl && strcmp(cl, "0")) || te;
	conn_request_begun(req->cx, req->has_body);
	if (!framing_ok(req))
		return req;

	if (!strcmp(method, "OPTIONS")) {
		char *path = arena_strdup(a, url);
		router_match(routes, M_GET, path, &req->match);
		if (req->match.status == MATCH_NO_PATH)
			early(req, ERR_NOT_FOUND, 0, "Not found");
		return req;
	}
	int m = method_parse(method);
	if (!strcmp(method, "HEAD"))
		m = M_GET;
	req->method_id = m < 0 ? M_COUNT : (method_t)m;
	char *path = arena_strdup(a, url);
	router_match(routes, req->method_id, path, &req->match);
	switch (req->match.status) {
	case MATCH_OK:
		for (int i = 0; i < req->match.nparams; i++) {
			if (!utf8_valid(req->match.values[i])) {
				early(req, ERR_NOT_FOUND, 0, "Not found");
				return req;
			}
		}
		req->route = req->match.route;
		check_route(req, cl);
		break;
	case MATCH_BAD_PARAM:
		req->route = req->match.route;
		early(req, ERR_VALIDATION, 0, "Validation failed");
		req->early_fields = json_pack("{s:[s]}", req->match.bad_param, "Must be a positive integer");
		break;
	case MATCH_NO_METHOD:
		early(req, ERR_METHOD_NOT_ALLOWED, 0, "Method not allowed");
		break;
	case MATCH_NO_PATH:
		if (ws_path(url)) /* answered by ws_serve: an upgrade or its error */
			rate_limit(req, RL_GENERAL);
		else if (req->method_id == M_GET && !str_has_prefix(url, "/api/"))
			req->is_static = true;
		else
			early(req, ERR_NOT_FOUND, 0, "Not found");
		break;
	}
	int64_t len;
	if (!req->route && cl && parse_i64(cl, &len) && len > IGNORED_BODY_LIMIT)
		early(req, ERR_FILE_TOO_LARGE, 0, "Request body too large");
	return req;
}

/* ---- responses ---- */

static void allow_header(req_t *req, char *buf, size_t n)
{
	buf[0] = '\0';
	size_t used = 0;
	for (int m = 0; m < M_COUNT; m++) {
		if (req->match.allowed & (1u << m)) {
			int w = snprintf(buf + used, n - used, "%s%s", used ? ", " : "", method_name((method_t)m));
			if (w > 0)
				used += (size_t)w;
		}
	}
	if (req->match.allowed & (1u << M_GET))
		snprintf(buf + used, n - used, ", HEAD, OPTIONS");
	else
		snprintf(buf + used, n - used, "%sOPTIONS", used ? ", " : "");
}

static void add_common_headers(req_t *req, struct MHD_Response *r)
{
	MHD_add_response_header(r, "X-Request-Id", req->request_id);
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(r, "Referrer-Policy", "strict-origin-when-cross-origin");
	MHD_add_response_header(r, "Cross-Origin-Opener-Policy", "same-origin");
	if (!req->own_cache_headers || (req->status >= 400 && !req->is_static)) {
		MHD_add_response_header(r, "X-Frame-Options", "DENY");
		MHD_add_response_header(r, "Content-Security-Policy", JSON_API_CSP);
		MHD_add_response_header(r, "Cache-Control", "no-store");
	}
	if (cfg.https)
		MHD_add_response_header(r, "Strict-Transport-Security", "max-age=31536000; includeSubDomains");
	if (req->origin) {
		MHD_add_response_header(r, "Access-Control-Allow-Origin", req->origin);
		MHD_add_response_header(r, "Access-Control-Allow-Credentials", "true");
		MHD_add_response_header(r, "Access-Control-Expose-Headers",
					"X-Request-Id, Retry-After, Content-Disposition, ETag");
	}
	MHD_add_response_header(r, "Vary", "Origin");
	if (req->status == 429 || req->status == 503) { /* every 503 says when to come back */
		char ra[16];
		snprintf(ra, sizeof(ra), "%d", req->retry_after > 0 ? req->retry_after : RETRY_AFTER_503_S);
		MHD_add_response_header(r, "Retry-After", ra);
	}
	if (req->status == 405) {
		char allow[96];
		allow_header(req, allow, sizeof(allow));
		MHD_add_response_header(r, "Allow", allow);
	}
	for (int i = 0; i < req->nhdr; i++)
		MHD_add_response_header(r, req->hdr_names[i], req->hdr_values[i]);
	if (req->close_conn)
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION, "close");
}

static enum MHD_Result queue(req_t *req)
{
	if (!req->resp)
		reply_internal(req, "handler produced no response");
	add_common_headers(req, req->resp);
	enum MHD_Result rc = MHD_queue_response(req->conn, (unsigned)req->status, req->resp);
	MHD_destroy_response(req->resp);
	req->resp = NULL;
	req->queued = rc == MHD_YES;
	if (rc != MHD_YES)
		log_warn("request %s: response could not be queued", req->request_id);
	if (req->queued && req->status == MHD_HTTP_SWITCHING_PROTOCOLS && req->counted) {
		/* A WebSocket lives on in the hub: it is no request in flight
		 * (shutdown does not wait for it; hub_stop closes it). */
		req->counted = false;
		__atomic_sub_fetch(&in_flight, 1, __ATOMIC_RELAXED);
		metrics_gauge_add("hwc3d_requests_in_flight", -1);
	}
	return rc;
}

static void answer_early(req_t *req)
{
	if (req->early_fields) {
		json_t *f = req->early_fields;
		req->early_fields = NULL;
		reply_invalid(req, f);
		return;
	}
	reply_error_status(req, req->early_status, (err_t)req->early_err, req->early_detail);
}

static void answer_preflight(req_t *req)
{
	reply_no_content(req);
	if (!req->origin)
		return;
	char allow[96];
	allow_header(req, allow, sizeof(allow));
	req_add_header(req, "Access-Control-Allow-Methods", arena_strdup(req->arena, allow));
	req_add_header(req, "Access-Control-Allow-Headers",
		       "Authorization, Content-Type, Idempotency-Key, X-Request-Id");
	req_add_header(req, "Access-Control-Max-Age", "600");
}

static void json_release(void *p)
{
	json_decref(p);
}

static bool parse_json_body(req_t *req)
{
	if (req->body.len == 0)
		return true;
	if (json_depth_exceeds(req->body.buf, req->body.len, cfg.json_max_depth)) {
		reply_error_status(req, 400, ERR_VALIDATION,
				   arena_printf(req->arena, "Malformed JSON: nested deeper than %d levels",
						cfg.json_max_depth));
		return false;
	}
	json_error_t jerr;
	json_t *j = json_loadb(req->body.buf, req->body.len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
	if (!j) {
		reply_error_status(req, 400, ERR_VALIDATION,
				   arena_printf(req->arena, "Malformed JSON: %s (line %d, column %d)",
						jerr.text, jerr.line, jerr.column));
		return false;
	}
	arena_defer(req->arena, json_release, j);
	if (!json_is_object(j)) {
		reply_invalid1(req, "body", "Must be a JSON object");
		return false;
	}
	req->json = j;
	return true;
}

/* A multipart body is complete: its file part must be there, within the
 * limit, and stored; otherwise the answer is sent here. */
static bool upload_ready(req_t *req)
{
	multipart_end(req);
	upload_part_t *u = req->upload;
	if (!u) {
		reply_invalid1(req, "file", "This field is required");
		return false;
	}
	if (u->too_large) {
		reply_error(req, ERR_FILE_TOO_LARGE, arena_printf(req->arena, "File too large (limit %zu bytes)",
								  req->route->body_limit));
		return false;
	}
	if (u->failed && u->no_space) {
		/* DATA_DIR is full: not the client's fault, and not a crash. */
		req->retry_after = 300;
		reply_error(req, ERR_UNAVAILABLE, "The server has no room for this upload right now; try again later");
		return false;
	}
	if (u->failed || !u->tmp_path) {
		reply_internal(req, "upload could not be written");
		return false;
	}
	if (u->size == 0) {
		reply_invalid1(req, "file", "The file is empty");
		return false;
	}
	return true;
}

static void finish(req_t *req)
{
	if (req->early_status) {
		answer_early(req);
	} else if (!strcmp(req->method, "OPTIONS")) {
		answer_preflight(req);
	} else if (!req->route && ws_path(req->path)) {
		ws_serve(req);
	} else if (req->is_static) {
		if (!static_serve(req, req->path))
			reply_error(req, ERR_NOT_FOUND, "Not found");
	} else if (req->route->body == BODY_MULTIPART) {
		if (upload_ready(req))
			req->route->handler(req);
	} else if (req->route->body != BODY_JSON || parse_json_body(req)) {
		req->route->handler(req);
	}
}

/* The answer is ready (nothing more is deferred): release what the request
 * held for its handler. */
static void finish_tail(req_t *req)
{
	multipart_discard(req);
	/* Whoever waits for this request's cache entry stops waiting now. */
	cache_release_claim(req->cache_claim);
	req->cache_claim = 0;
	/* Pushes a handler's transaction made and did not flush: its commit
	 * is not known here, so they go (svc/notify.h). */
	notify_discard();
}

static enum MHD_Result handle_call(struct MHD_Connection *conn, const char *url, const char *method,
				   const char *upload_data, size_t *upload_data_size, void **con_cls)
{
	req_t *req = *con_cls;
	if (!req) {
		/* Already answered on the socket (uri_guard): just close. */
		if (conn_refused(conn_of(conn)))
			return MHD_NO;
		req = begin(conn, url, method);
		*con_cls = req;
		log_context(req->request_id);
		/* An error with a body still on the wire: answer now and let MHD
		 * close the connection instead of reading what we will refuse;
		 * the close lingers so the client reads the answer.  Without a
		 * body, wait for the next call: queueing in the first call costs
		 * keep-alive (see ARCHITECTURE.md, known traps).  Bad framing is
		 * answered at once either way. */
		if (req->early_status && (req->has_body || req->close_conn)) {
			req->close_conn = true;
			conn_linger(req->cx);
			finish(req);
			finish_tail(req);
			return queue(req);
		}
		return MHD_YES;
	}
	log_context(req->request_id);
	if (req->queued) {
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (*upload_data_size) {
		size_t n = *upload_data_size;
		req->bytes_in += n;
		conn_body_progress(req->cx, n);
		*upload_data_size = 0;
		size_t limit = req->route ? body_limit(req->route) : IGNORED_BODY_LIMIT;
		if (req->bytes_in > limit && !req->early_status) {
			/* MHD cannot queue a response in the middle of a body: drop
			 * what arrives and answer 413 when the body ends. */
			early(req, ERR_FILE_TOO_LARGE, 0,
			      arena_printf(req->arena, "Request body too large (limit %zu bytes)", limit));
			sb_release(&req->body);
		}
		if (req->early_status) {
			/* ...unless the sender keeps streaming: then cut it off. */
			if (req->bytes_in > limit + DISCARD_LIMIT)
				return MHD_NO;
			return MHD_YES;
		}
		if (req->route && req->route->body == BODY_MULTIPART) {
			if (!multipart_feed(req, upload_data, n))
				early(req, ERR_VALIDATION, 400, "Malformed multipart/form-data body");
			return MHD_YES;
		}
		/* Bodies of routes that take none are counted, not kept. */
		if (req->route && req->route->body != BODY_NONE)
			sb_add(&req->body, upload_data, n);
		return MHD_YES;
	}
	if (req->job) {
		/* Resumed: the deferred work is done (or was cancelled).  A
		 * suspended connection gets no calls, so it cannot be waiting. */
		if (pool_waiting(req))
			return MHD_YES;
		pool_complete(req);
	} else {
		conn_request_busy(req->cx); /* stays "busy" while suspended */
		finish(req);
	}
	/* What the handler left open is released before the request sleeps
	 * or answers (request.h, req_rows). */
	req_rows_release(req);
	if (pool_reserved(req)) {
		/* Slow work: this poll thread goes back to its other connections;
		 * a pool worker resumes this one when the work is done, and the
		 * next call of this handler answers (pool.h). */
		MHD_suspend_connection(conn);
		pool_submit(req);
		return MHD_YES;
	}
	finish_tail(req);
	return queue(req);
}

/* MHD's access handler: each call's log lines carry its request's id. */
static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version, const char *upload_data,
				  size_t *upload_data_size, void **con_cls)
{
	UNUSED(cls);
	UNUSED(version);
	enum MHD_Result r = handle_call(conn, url, method, upload_data, upload_data_size, con_cls);
	log_context(NULL);
	return r;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	UNUSED(cls);
	UNUSED(conn);
	req_t *req = *con_cls;
	if (!req)
		return;
	*con_cls = NULL;
	/* The client went away while the request's deferred work ran: MHD
	 * found the socket closed on resume and will not call the handler
	 * again.  done runs now for what it releases (the work's results: a
	 * page's text, a sitemap); its answer goes nowhere (destroyed below),
	 * and a next step it defers is dropped. */
	if (req->job && !pool_waiting(req)) {
		pool_complete(req);
		req_rows_release(req);
		pool_abandon(req);
	}
	/* An upgraded connection waits for no more request headers: the
	 * guard's header deadline must not cut the WebSocket. */
	if (!(req->queued && req->status == MHD_HTTP_SWITCHING_PROTOCOLS))
		conn_request_done(req->cx);
	int status = req->queued ? req->status : 499; /* client went away */
	if (toe != MHD_REQUEST_TERMINATED_COMPLETED_OK && req->queued && status < 400)
		status = 499;
	int64_t dur = mono_us() - req->start_us;
	metrics_observe(req->route ? method_name(req->route->method) : NULL,
			req->route ? req->route->pattern : NULL, status, dur);
	struct access_entry e = {
		.request_id = req->request_id,
		.method = req->method,
		.path = req->path,
		.route = req->route ? req->route->pattern : NULL,
		.ip = req->ip,
		.status = status,
		.user_id = req->user ? req->user->id : 0,
		.duration_ms = (double)dur / 1000.0,
		.bytes_in = req->bytes_in,
	};
	log_access(&e);
	if (req->resp)
		MHD_destroy_response(req->resp);
	if (req->early_fields)
		json_decref(req->early_fields);
	sb_release(&req->body);
	if (req->counted) {
		__atomic_sub_fetch(&in_flight, 1, __ATOMIC_RELAXED);
		metrics_gauge_add("hwc3d_requests_in_flight", -1);
	}
	arena_free(req->arena);
}

/* Percent-decoding for the path and query arguments that leaves "%00"
 * encoded: a decoded NUL would silently cut "/api/categories%00/x" to
 * "/api/categories". */
static size_t unescape(void *cls, struct MHD_Connection *conn, char *s)
{
	UNUSED(cls);
	UNUSED(conn);
	return percent_decode_keep_nul(s);
}

/*
 * libmicrohttpd 0.9.75 parses every query argument into the connection's
 * memory pool; when they do not fit it tries to answer 431, fails for want
 * of that same memory and leaves the client hanging until the connection
 * times out, and a long target that does fit leaves too little room for the
 * headers that follow.  No route takes more than a few dozen arguments or
 * a target of more than a few KB, so a longer target, or one with more
 * than MAX_QUERY_ARGS arguments, is answered here, before MHD parses it: a
 * 414 written straight to the socket; the dispatcher then closes the
 * connection, with a lingering close so the client reads the answer.
 */
#define MAX_QUERY_ARGS 128
#define MAX_TARGET_BYTES 16384

static void *uri_guard(void *cls, const char *uri, struct MHD_Connection *conn)
{
	UNUSED(cls);
	size_t len = strlen(uri);
	if (len > MAX_TARGET_BYTES) {
		conn_refuse_raw(conn, 414, "URI Too Long",
				"{\"detail\":\"Request target too long\",\"error_code\":\"VALIDATION_ERROR\"}");
		log_info("refused a request target of %zu bytes", len);
		return NULL;
	}
	const char *q = strchr(uri, '?');
	if (!q)
		return NULL;
	size_t args = 1;
	for (const char *p = q; *p; p++)
		if (*p == '&' || *p == ';')
			args++;
	if (args <= MAX_QUERY_ARGS)
		return NULL;
	conn_refuse_raw(conn, 414, "URI Too Long",
			"{\"detail\":\"Too many query parameters\",\"error_code\":\"VALIDATION_ERROR\"}");
	log_info("refused a request target with %zu query arguments", args);
	return NULL;
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	UNUSED(cls);
	char buf[512];
	vsnprintf(buf, sizeof(buf), fmt, ap);
	size_t n = strlen(buf);
	while (n && buf[n - 1] == '\n')
		buf[--n] = '\0';
	log_debug("libmicrohttpd: %s", buf);
}

static bool listen_addr(struct sockaddr_storage *ss)
{
	struct addrinfo hints = { .ai_flags = AI_NUMERICHOST | AI_PASSIVE, .ai_socktype = SOCK_STREAM };
	struct addrinfo *res = NULL;
	const char *host = cfg.host;
	if (!strcmp(host, "localhost"))
		host = "127.0.0.1";
	if (getaddrinfo(host, NULL, &hints, &res) || !res)
		return false;
	memset(ss, 0, sizeof(*ss));
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	freeaddrinfo(res);
	if (ss->ss_family == AF_INET)
		((struct sockaddr_in *)ss)->sin_port = htons((uint16_t)cfg.port);
	else
		((struct sockaddr_in6 *)ss)->sin6_port = htons((uint16_t)cfg.port);
	return true;
}

static void raise_nofile(void)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

static void stop_signals(sigset_t *sigs)
{
	sigemptyset(sigs);
	sigaddset(sigs, SIGINT);
	sigaddset(sigs, SIGTERM);
}

void server_block_signals(void)
{
	sigset_t sigs;
	stop_signals(&sigs);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
}

int server_run(router_t *router)
{
	routes = router;
	struct sockaddr_storage ss;
	if (!listen_addr(&ss)) {
		log_error("HOST %s is not a numeric IPv4 or IPv6 address", cfg.host);
		return 2;
	}
	raise_nofile();
	struct rlimit nofile;
	unsigned conn_limit = cfg.conn_limit;
	if (getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur != RLIM_INFINITY &&
	    nofile.rlim_cur > 512 && conn_limit > nofile.rlim_cur - 256) {
		/* Each connection, WebSockets included, is a descriptor; keep
		 * some for the database, files and children. */
		conn_limit = (unsigned)(nofile.rlim_cur - 256);
		log_warn("MAX_CONNECTIONS %u is over what RLIMIT_NOFILE (%llu) allows; using %u", cfg.conn_limit,
			 (unsigned long long)nofile.rlim_cur, conn_limit);
	}
	if (!conn_guard_start()) {
		log_error("cannot start the connection guard threads");
		return 1;
	}
	/* Signals go to the main thread only, which waits for them below. */
	server_block_signals();
	signal(SIGPIPE, SIG_IGN);
	if (!pool_start()) {
		conn_guard_stop();
		log_error("cannot start the worker pool threads");
		return 1;
	}
	if (!hub_start()) {
		pool_stop();
		conn_guard_stop();
		log_error("cannot start the WebSocket hub thread");
		return 1;
	}

	/* poll, not epoll: with MHD 0.9.75's edge-triggered epoll, a client
	 * that closes right after sending headers and part of a body is never
	 * noticed, and its request stays "in flight" until the connection
	 * times out (tests/api/test_shutdown.py).  poll measured the same
	 * throughput here; upgraded WebSockets leave MHD for our own epoll. */
	unsigned flags = MHD_USE_POLL_INTERNAL_THREAD | MHD_USE_ITC | MHD_ALLOW_UPGRADE | MHD_USE_ERROR_LOG |
			 MHD_ALLOW_SUSPEND_RESUME;
	if (ss.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	struct MHD_Daemon *d = MHD_start_daemon(
		flags, (uint16_t)cfg.port, NULL, NULL, on_request, NULL,
		MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
		MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
		MHD_OPTION_THREAD_POOL_SIZE, (unsigned)cfg.threads,
		MHD_OPTION_CONNECTION_LIMIT, conn_limit,
		MHD_OPTION_PER_IP_CONNECTION_LIMIT, cfg.per_ip_conn_limit,
		MHD_OPTION_CONNECTION_TIMEOUT, cfg.conn_timeout_s,
		MHD_OPTION_CONNECTION_MEMORY_LIMIT, cfg.conn_memory_limit,
		MHD_OPTION_LISTEN_BACKLOG_SIZE, 1024u,
		MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
		MHD_OPTION_UNESCAPE_CALLBACK, unescape, NULL,
		MHD_OPTION_URI_LOG_CALLBACK, uri_guard, NULL,
		MHD_OPTION_NOTIFY_CONNECTION, conn_notify, NULL,
		MHD_OPTION_END);
	if (!d) {
		hub_stop();
		pool_stop();
		conn_guard_stop();
		log_error("cannot listen on %s:%d (in use, or not permitted)", cfg.host, cfg.port);
		return 1;
	}
	const union MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
	log_info("hwc3d listening on http://%s:%u (%d threads, database %s)", cfg.host,
		 info ? info->port : (unsigned)cfg.port, cfg.threads,
		 cfg.db_kind == DB_PG ? "postgresql" : "sqlite");

	sigset_t sigs;
	stop_signals(&sigs);
	int sig = 0;
	sigwait(&sigs, &sig);
	log_info("signal %d: finishing requests in flight, then stopping", sig);
	MHD_socket lsock = MHD_quiesce_daemon(d);
	if (lsock != MHD_INVALID_SOCKET)
		close(lsock);
	int64_t deadline = mono_us() + (int64_t)cfg.shutdown_timeout_s * 1000000;
	while (__atomic_load_n(&in_flight, __ATOMIC_RELAXED) > 0 && mono_us() < deadline)
		usleep(20000);
	int64_t left = __atomic_load_n(&in_flight, __ATOMIC_RELAXED);
	if (left > 0)
		log_warn("%lld requests still running after %ds; stopping anyway", (long long)left,
			 cfg.shutdown_timeout_s);
	/* Every upgraded socket goes back to MHD (a 1001 close first) before
	 * MHD_stop_daemon, as MHD requires. */
	hub_stop();
	/* Waiting work is cancelled, running work finishes: every suspended
	 * connection is resumed before MHD_stop_daemon, as MHD requires. */
	pool_stop();
	MHD_stop_daemon(d);
	conn_guard_stop();
	log_info("stopped");
	return 0;
}
