/*
 * fuzz_auth: cookies, JWTs and the Authorization header.
 *
 * Input: one byte choosing the request (mod 3: POST /api/auth/refresh,
 * POST /api/auth/logout, GET /api/users/me), then header lines.  In the
 * header text "$ACCESS", "$ADMIN" and "$REFRESH" become a valid access
 * token (a buyer's, the admin's) and a live refresh token, so that the
 * fuzzer starts from accepted credentials and mutates around them.
 *
 * The request goes over a socketpair to an in-process libmicrohttpd daemon
 * (the refresh cookie is read with MHD's own cookie parser, which needs a
 * real connection); the handler does what the dispatcher does:
 * auth_identify (Authorization: Bearer, token_verify, the user lookup),
 * the access check, then the real handler (refresh rotation and reuse
 * detection, logout, the signed-in user), against the seeded SQLite
 * database.  The same bytes are also given to token_verify as a token.
 * Checked: no answer of 500 or more; a 200 from /api/users/me only with a
 * signed-in user.  The refresh-token table is put back after every input.
 */
#include <stdlib.h>
#include "fuzz.h"
#include "auth/account.h"
#include "auth/auth.h"
#include "auth/token.h"
#include "core/config.h"
#include "core/util.h"
#include "http/reply.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define ASSERT(c) do { if (!(c)) { fprintf(stderr, "fuzz_auth: %s\n", #c); abort(); } } while (0)

static const char REFRESH[] = "fuzz-refresh-token-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
static int64_t refresh_row;

static const struct {
	method_t m;
	const char *line, *path;
} targets[] = {
	{ M_POST, "POST /api/auth/refresh HTTP/1.1", "/api/auth/refresh" },
	{ M_POST, "POST /api/auth/logout HTTP/1.1", "/api/auth/logout" },
	{ M_GET, "GET /api/users/me HTTP/1.1", "/api/users/me" },
};
static int cur;

static void reset_sessions(void)
{
	DBX(fz_db(), "DELETE FROM refresh_tokens WHERE id > $1", P_INT(refresh_row));
	DBX(fz_db(), "UPDATE refresh_tokens SET replaced_at = NULL, revoked_at = NULL WHERE id = $1", P_INT(refresh_row));
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	UNUSED(argc);
	UNUSED(argv);
	fz_setup(true);
	char hash[65];
	token_hash(REFRESH, hash);
	int64_t now = now_ms();
	if (DBS(fz_db(), &refresh_row,
		"INSERT INTO refresh_tokens (user_id, family, scope, token_hash, expires_at, family_expires_at, created_at)"
		" SELECT id, 'fuzz-family', 'user', $1, $2, $2, $3 FROM users WHERE username_lower = 'sam_buyer'"
		" RETURNING id", P_TEXT(hash), P_INT(now + 30LL * 86400 * 1000), P_INT(now)) != 1)
		die("fuzz_auth: cannot add the refresh token");
	return 0;
}

static bool origin_allowed(const char *origin)
{
	for (size_t i = 0; i < cfg.n_cors_origins; i++)
		if (!strcmp(cfg.cors_origins[i], origin))
			return true;
	return false;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
				  const char *version, const char *data, size_t *size, void **con_cls)
{
	UNUSED(cls);
	UNUSED(url);
	UNUSED(method);
	UNUSED(version);
	UNUSED(data);
	req_t *req = *con_cls;
	if (!req) {
		req = fz_req_new(targets[cur].m, targets[cur].path, strlen(targets[cur].path), FZ_ANON, NULL);
		req->conn = conn;
		*con_cls = req;
		const char *origin = req_header(req, "Origin");
		if (origin && origin_allowed(origin))
			req->origin = origin;
		return MHD_YES;
	}
	if (req->queued || *size) {
		*size = 0;
		return MHD_YES;
	}
	ASSERT(req->route);
	switch (auth_identify(req->db, req->arena, req_bearer_token(req), &req->user)) {
	case AUTH_INVALID:
		reply_error(req, ERR_UNAUTHORIZED, "Invalid or expired access token");
		break;
	case AUTH_BANNED:
		reply_error(req, ERR_FORBIDDEN, "This account is banned");
		break;
	case AUTH_DB_ERROR:
		reply_error(req, ERR_UNAVAILABLE, "The database is unavailable");
		break;
	default:
		if (req->route->access >= ACCESS_USER && !req->user)
			reply_error(req, ERR_UNAUTHORIZED, "Authentication required");
		else
			req->route->handler(req);
	}
	ASSERT(req->resp);
	fz_check_status(req);
	if (cur == 2 && req->status == 200)
		ASSERT(req->user);
	enum MHD_Result rc = MHD_queue_response(conn, (unsigned)req->status, req->resp);
	MHD_destroy_response(req->resp);
	req->resp = NULL;
	req->queued = true;
	return rc;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls, enum MHD_RequestTerminationCode toe)
{
	UNUSED(cls);
	UNUSED(conn);
	UNUSED(toe);
	req_t *req = *con_cls;
	if (!req)
		return;
	*con_cls = NULL;
	req->conn = NULL;
	fz_req_free(req);
}

/* Appends s with the placeholders replaced. */
static void add_expanded(strbuf_t *sb, const char *s, size_t n)
{
	static const char *const names[] = { "$ACCESS", "$ADMIN", "$REFRESH" };
	for (size_t i = 0; i < n;) {
		bool hit = false;
		for (size_t k = 0; k < ARRAY_LEN(names) && !hit; k++) {
			size_t l = strlen(names[k]);
			if (n - i >= l && !memcmp(s + i, names[k], l)) {
				sb_adds(sb, k == 0 ? fz_token(FZ_BUYER) : k == 1 ? fz_token(FZ_ADMIN) : REFRESH);
				i += l;
				hit = true;
			}
		}
		if (!hit)
			sb_addc(sb, s[i++]);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || size > 16384)
		return 0;
	cur = data[0] % (int)ARRAY_LEN(targets);
	strbuf_t hdrs;
	sb_init(&hdrs, 0);
	add_expanded(&hdrs, (const char *)data + 1, size - 1);

	/* The raw text as a token, as a WebSocket ?token= would carry it. */
	struct token_claims c;
	char *tok = xstrndup(hdrs.buf ? hdrs.buf : "", hdrs.len);
	if (token_verify(tok, &c))
		ASSERT(c.sub > 0 && c.role[0]);
	free(tok);

	strbuf_t rq;
	sb_init(&rq, 0);
	sb_addf(&rq, "%s\r\nHost: fuzz\r\n", targets[cur].line);
	/* One header per line; no empty line (it would end the headers), no
	 * NUL (MHD refuses it before any of our code runs). */
	const char *p = hdrs.buf ? hdrs.buf : "", *end = p + hdrs.len;
	int lines = 0;
	while (p < end && lines < 64) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *e = nl ? nl : end;
		size_t before = rq.len;
		for (const char *q = p; q < e; q++)
			if (*q != '\r' && *q != '\0')
				sb_addc(&rq, *q);
		if (rq.len > before) {
			sb_adds(&rq, "\r\n");
			lines++;
		}
		p = nl ? nl + 1 : end;
	}
	sb_adds(&rq, "Connection: close\r\nContent-Length: 0\r\n\r\n");
	strbuf_t answer;
	sb_init(&answer, 1 << 20);
	fz_http(rq.buf, rq.len, on_request, on_completed, &answer);
	sb_release(&answer);
	sb_release(&rq);
	sb_release(&hdrs);
	reset_sessions();
	return 0;
}
