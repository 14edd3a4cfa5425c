/*
 * upgrade.c: the WebSocket handshake (RFC 6455, 4.2), who is calling, and
 * the table of channel kinds features register (ws.h, hub.h).
 *
 * Runs on the HTTP poll thread that read the request: the handshake is
 * checked first (so that a ticket is not spent on a request that cannot be
 * upgraded), then the credential (one ticket row deleted, or the JWT and
 * its user row), then the kind's authorize callback: each one short
 * lookup.  The verdict travels with the socket to the hub, which closes
 * refused sockets with 4401 or 4403 as soon as it adopts them.
 */
#include <microhttpd.h>
#include <pthread.h>
#include "hub.h"
#include "parse.h"
#include "../auth/account.h"
#include "../core/config.h"
#include "../core/log.h"
#include "../core/util.h"
#include "../http/reply.h"
#include "../http/request.h"

/* ---- the kinds ---- */

struct kind {
	char name[16];
	ws_authorize_fn authorize;
	ws_message_fn on_message;
};

static pthread_mutex_t kinds_lock = PTHREAD_MUTEX_INITIALIZER;
static struct kind kinds[WS_MAX_KINDS];
static size_t n_kinds;

static bool kind_name_ok(const char *k)
{
	size_t n = k ? strlen(k) : 0;
	if (n == 0 || n >= sizeof(kinds[0].name))
		return false;
	for (; *k; k++)
		if (*k < 'a' || *k > 'z')
			return false;
	return true;
}

/* The entry for name, added when add is set; under kinds_lock. */
static struct kind *kind_slot(const char *name, bool add)
{
	for (size_t i = 0; i < n_kinds; i++)
		if (!strcmp(kinds[i].name, name))
			return &kinds[i];
	if (!add || n_kinds == WS_MAX_KINDS)
		return NULL;
	struct kind *k = &kinds[n_kinds++];
	snprintf(k->name, sizeof(k->name), "%s", name);
	return k;
}

bool ws_register_channel(const char *kind, ws_authorize_fn authorize)
{
	if (!kind_name_ok(kind) || !strcmp(kind, "notifications") || !authorize)
		return false;
	pthread_mutex_lock(&kinds_lock);
	struct kind *k = kind_slot(kind, true);
	if (k)
		k->authorize = authorize;
	pthread_mutex_unlock(&kinds_lock);
	return k != NULL;
}

bool ws_register_handler(const char *kind, ws_message_fn on_message)
{
	if (!kind_name_ok(kind) || !on_message)
		return false;
	pthread_mutex_lock(&kinds_lock);
	struct kind *k = kind_slot(kind, true);
	if (k)
		k->on_message = on_message;
	pthread_mutex_unlock(&kinds_lock);
	return k != NULL;
}


static ws_authorize_fn authorizer_of(const char *kind)
{
	pthread_mutex_lock(&kinds_lock);
	struct kind *k = kind_slot(kind, false);
	ws_authorize_fn fn = k ? k->authorize : NULL;
	pthread_mutex_unlock(&kinds_lock);
	return fn;
}

ws_message_fn ws_handler_of(const char *kind)
{
	pthread_mutex_lock(&kinds_lock);
	struct kind *k = kind_slot(kind, false);
	ws_message_fn fn = k ? k->on_message : NULL;
	pthread_mutex_unlock(&kinds_lock);
	return fn;
}

/* ---- the request ---- */

bool ws_path(const char *path)
{
	return str_has_prefix(path, "/ws/") || !strcmp(path, "/ws");
}

static bool origin_ok(req_t *req)
{
	return ws_origin_ok(req_header(req, "Origin"), req->origin != NULL, cfg.public_url);
}

/* The user of a ticket, which is spent here whatever happens next; NULL
 * when it is unknown, expired or its user is gone or banned. */
static auth_user_t *ticket_user(req_t *req, const char *ticket, bool *db_error)
{
	char hash[65];
	token_hash(ticket, hash);
	db_rows_t *r = DBQ(req->db, "DELETE FROM ws_tickets WHERE token_hash = $1 RETURNING user_id, is_admin, expires_at",
			   P_TEXT(hash));
	if (!r) {
		*db_error = true;
		return NULL;
	}
	int64_t uid = 0, expires = 0;
	bool admin = false;
	if (db_next(r)) {
		uid = db_int(r, 0);
		admin = db_bool(r, 1);
		expires = db_int(r, 2);
		while (db_next(r)) /* read to the end: the DELETE is done */
			;
	}
	*db_error = db_failed(r);
	db_done(r);
	if (!uid || expires <= now_ms())
		return NULL;
	r = DBQ(req->db, "SELECT username, role FROM users WHERE id = $1 AND deleted_at IS NULL AND is_banned = FALSE",
		P_INT(uid));
	if (!r) {
		*db_error = true;
		return NULL;
	}
	auth_user_t *u = NULL;
	if (db_next(r)) {
		u = arena_calloc(req->arena, sizeof(*u));
		u->id = uid;
		u->username = arena_strdup(req->arena, db_text(r, 0));
		u->role = arena_strdup(req->arena, db_text(r, 1));
		u->is_admin = admin && !strcmp(u->role, "admin");
	}
	*db_error = db_failed(r);
	db_done(r);
	return u;
}

static void on_upgraded(void *cls, struct MHD_Connection *conn, void *req_cls, const char *extra_in,
			size_t extra_in_size, MHD_socket sock, struct MHD_UpgradeResponseHandle *urh)
{
	UNUSED(conn);
	UNUSED(req_cls);
	hub_socket_t s = *(hub_socket_t *)cls;
	s.fd = sock;
	s.urh = urh;
	s.extra_in = extra_in;
	s.extra_in_len = extra_in_size;
	if (!hub_adopt(&s))
		MHD_upgrade_action(urh, MHD_UPGRADE_ACTION_CLOSE);
}

int ws_serve(req_t *req)
{
	char kind[WS_KIND_SIZE];
	int64_t id = 0;
	if (!ws_parse_path(req->path, kind, &id))
		return reply_error(req, ERR_NOT_FOUND, "Not found");
	if (strcmp(req->method, "GET")) {
		req_add_header(req, "Allow", "GET");
		return reply_error(req, ERR_METHOD_NOT_ALLOWED, "Method not allowed");
	}
	const char *key = req_header(req, "Sec-WebSocket-Key");
	char accept[WS_ACCEPT_SIZE];
	if (!ws_header_has_token(req_header(req, "Upgrade"), "websocket") ||
	    !ws_header_has_token(req_header(req, "Connection"), "upgrade") || !ws_accept(key, accept))
		return reply_error_status(req, 400, ERR_VALIDATION, "Not a WebSocket handshake");
	const char *version = req_header(req, "Sec-WebSocket-Version");
	if (!version || strcmp(version, "13")) {
		req_add_header(req, "Sec-WebSocket-Version", "13");
		return reply_error_status(req, 426, ERR_VALIDATION, "WebSocket version 13 required");
	}
	if (!origin_ok(req))
		return reply_error(req, ERR_FORBIDDEN, "Origin not allowed");
	req->db = db_thread();
	if (!req->db)
		return reply_error(req, ERR_UNAVAILABLE, "The database is unavailable; try again shortly");

	hub_socket_t *s = arena_calloc(req->arena, sizeof(*s));
	s->kind = arena_strdup(req->arena, kind);
	s->id = id;
	const char *ticket = req_query(req, "ticket"), *token = req_query(req, "token");
	ws_cred_t cred = ws_credential(ticket, token);
	auth_user_t *user = NULL;
	if (cred == WS_CRED_TICKET || cred == WS_CRED_TICKET_TOO_LONG) {
		bool db_error = false;
		user = cred == WS_CRED_TICKET ? ticket_user(req, ticket, &db_error) : NULL;
		if (db_error)
			return reply_error(req, ERR_UNAVAILABLE, "The database is unavailable; try again shortly");
		if (!user) {
			s->close_code = 4401;
			s->reason = "Invalid or expired ticket";
		}
	} else if (cred == WS_CRED_TOKEN) {
		switch (auth_identify(req->db, req->arena, token, &user)) {
		case AUTH_OK:
			break;
		case AUTH_BANNED:
			s->close_code = 4403;
			s->reason = "This account is banned";
			break;
		case AUTH_DB_ERROR:
			return reply_error(req, ERR_UNAVAILABLE, "The database is unavailable; try again shortly");
		default:
			s->close_code = 4401;
			s->reason = "Invalid or expired access token";
			break;
		}
	} else {
		s->close_code = 4401;
		s->reason = "Authentication required: ?ticket= or ?token=";
	}
	if (user && strcmp(kind, "notifications")) {
		ws_authorize_fn fn = authorizer_of(kind);
		ws_authz_t v = fn ? fn(req->db, user, id) : WS_FORBIDDEN;
		req_rows_release(req);
		if (v != WS_ALLOWED) {
			/* Missing or not the caller's look the same. */
			s->close_code = 4403;
			s->reason = "Not allowed on this channel";
		}
	}
	if (user && !s->close_code) {
		s->user_id = user->id;
		s->is_admin = user->is_admin;
		s->username = user->username;
		s->channel = !strcmp(kind, "notifications") ? arena_printf(req->arena, "user:%lld", (long long)user->id)
							   : arena_printf(req->arena, "%s:%lld", kind, (long long)id);
	} else {
		s->channel = "";
	}

	struct MHD_Response *resp = MHD_create_response_for_upgrade(on_upgraded, s);
	if (!resp)
		return reply_error(req, ERR_UNAVAILABLE, "Cannot upgrade now");
	MHD_add_response_header(resp, MHD_HTTP_HEADER_UPGRADE, "websocket");
	MHD_add_response_header(resp, "Sec-WebSocket-Accept", accept);
	req->resp = resp;
	req->status = MHD_HTTP_SWITCHING_PROTOCOLS;
	return DONE;
}
