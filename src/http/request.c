/*
 * request.c: the request accessors (request.h).
 *
 * Everything a handler, a validator or the dispatcher reads from the
 * request goes through here, from libmicrohttpd's connection or, for a
 * request built without one (conn NULL: the fuzz harnesses, the unit
 * tests), from the name/value arrays on the request.
 */
#include <arpa/inet.h>
#include <microhttpd.h>
#include <strings.h>
#include <sys/socket.h>
#include "request.h"
#include "../core/config.h"
#include "../core/util.h"

/* Lookup in a request built without MHD (request.h, query_kv). */
static const char *kv_lookup(const char *const *kv, const char *name)
{
	for (; kv && kv[0]; kv += 2)
		if (!strcasecmp(kv[0], name))
			return kv[1];
	return NULL;
}

const char *req_header(req_t *req, const char *name)
{
	if (!req->conn)
		return kv_lookup(req->header_kv, name);
	return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

const char *req_cookie(req_t *req, const char *name)
{
	if (!req->conn)
		return kv_lookup(req->cookie_kv, name);
	return MHD_lookup_connection_value(req->conn, MHD_COOKIE_KIND, name);
}

const char *req_bearer_token(req_t *req)
{
	const char *h = req_header(req, "Authorization");
	if (!h || !*h)
		return NULL;
	if (strncasecmp(h, "Bearer ", 7))
		return "";
	const char *tok = h + 7;
	while (*tok == ' ')
		tok++;
	return tok;
}

const char *req_query(req_t *req, const char *name)
{
	if (!req->conn)
		return kv_lookup(req->query_kv, name);
	return MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, name);
}

struct query_values {
	const char *name;
	const char **vals;
	size_t max, n;
};

static enum MHD_Result collect_query(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	UNUSED(kind);
	struct query_values *q = cls;
	/* caseless, as MHD_lookup_connection_value matches */
	if (key && !strcasecmp(key, q->name)) {
		if (q->n < q->max)
			q->vals[q->n] = value;
		q->n++;
	}
	return MHD_YES;
}

size_t req_query_values(req_t *req, const char *name, const char **vals, size_t max)
{
	struct query_values q = { name, vals, max, 0 };
	if (!req->conn) {
		for (const char *const *kv = req->query_kv; kv && kv[0]; kv += 2)
			collect_query(&q, MHD_GET_ARGUMENT_KIND, kv[0], kv[1]);
		return q.n;
	}
	MHD_get_connection_values(req->conn, MHD_GET_ARGUMENT_KIND, collect_query, &q);
	return q.n;
}

static int param_index(req_t *req, const char *name)
{
	for (int i = 0; i < req->match.nparams; i++)
		if (!strcmp(req->match.names[i], name))
			return i;
	return -1;
}

const char *req_param(req_t *req, const char *name)
{
	int i = param_index(req, name);
	HWC_ASSERT(i >= 0);
	return req->match.values[i];
}

int64_t req_param_int(req_t *req, const char *name)
{
	int i = param_index(req, name);
	HWC_ASSERT(i >= 0);
	return req->match.ints[i];
}

json_t *req_body(req_t *req)
{
	return req->json;
}

void req_add_header(req_t *req, const char *name, const char *value)
{
	if (req->nhdr < REQ_EXTRA_HEADERS) {
		req->hdr_names[req->nhdr] = name;
		req->hdr_values[req->nhdr] = value;
		req->nhdr++;
	}
}

/* ---- client address ---- */

const char *req_peer_address(req_t *req, char *buf, size_t n)
{
	if (!req->conn)
		return NULL;
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(req->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (!ci || !ci->client_addr)
		return NULL;
	const struct sockaddr *sa = ci->client_addr;
	if (sa->sa_family == AF_INET)
		return inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, buf, (socklen_t)n);
	if (sa->sa_family == AF_INET6)
		return inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, buf, (socklen_t)n);
	return NULL;
}

static bool trusted_proxy(const char *ip)
{
	for (size_t i = 0; i < cfg.n_trusted_proxies; i++)
		if (cidr_match(&cfg.trusted_proxies[i], ip))
			return true;
	return false;
}

void req_set_client_ip(req_t *req)
{
	if (!req_peer_address(req, req->ip, sizeof(req->ip)))
		snprintf(req->ip, sizeof(req->ip), "unknown");
	if (!cfg.n_trusted_proxies || !trusted_proxy(req->ip))
		return;
	/* Walk X-Forwarded-For from the right: the first hop that is not one
	 * of our proxies is the client. */
	const char *xff = req_header(req, "X-Forwarded-For");
	if (!xff || strlen(xff) > 2048)
		return;
	char *list = arena_strdup(req->arena, xff);
	for (;;) {
		char *comma = strrchr(list, ',');
		char *hop = comma ? comma + 1 : list;
		while (*hop == ' ')
			hop++;
		size_t n = strlen(hop);
		while (n && hop[n - 1] == ' ')
			hop[--n] = '\0';
		unsigned char tmp[16];
		if (inet_pton(AF_INET, hop, tmp) != 1 && inet_pton(AF_INET6, hop, tmp) != 1)
			return; /* garbage: keep the last address we could trust */
		snprintf(req->ip, sizeof(req->ip), "%s", hop);
		if (!trusted_proxy(hop) || !comma)
			return;
		*comma = '\0';
	}
}

/* One result of req_rows, listed on the request for req_rows_release. */
struct req_rows {
	db_rows_t *rows;
	struct req_rows *next;
};

static void rows_free(void *rows)
{
	db_free_kept(rows);
}

db_rows_t *req_rows(req_t *req, const char *sql, const db_param_t *params, int n)
{
	if (!req->db)
		return NULL;
	db_rows_t *r = db_query(req->db, sql, params, n);
	if (!r)
		return NULL;
	db_keep(r);
	arena_defer(req->arena, rows_free, r);
	struct req_rows *e = arena_alloc(req->arena, sizeof(*e));
	e->rows = r;
	e->next = req->rows;
	req->rows = e;
	return r;
}

void req_rows_release(req_t *req)
{
	for (struct req_rows *e = req->rows; e; e = e->next)
		db_done(e->rows);
	req->rows = NULL;
}
