/*
 * support.c: support tickets (guide sections 9 and 13, issue 12 point 5).
 *
 * A user opens a ticket with a first message and talks with the staff in
 * its conversation; messages may carry attachments (uploads of kind
 * attachment, the sender's own, each attached once).  Only the ticket's
 * owner and admins reach a ticket: anyone else's is 404, as a missing one.
 *
 * Status (migration 0016): active (waiting for the staff), pending (the
 * staff answered, waiting for the user), resolved.  A staff reply or mail
 * moves active to pending; a user's message moves pending or resolved back
 * to active; admins set any status.  A staff reply notifies the owner
 * (notify(), type support_reply).
 *
 * Events (events.h), published after the commit on "support:<ticket id>":
 * message_received (the message document) and ticket_status_changed
 * ({ticket_id, status, previous_status, updated_at}).
 *
 * Bounds: a subject of 3-200 characters, a message of at most 5,000, at
 * most 5 attachments a message, 20 open tickets a user, 1,000 messages a
 * ticket, 100 messages a page.
 */
#include <sodium.h>
#include "api.h"
#include "files.h"
#include "paged.h"
#include "support.h"
#include "../core/config.h"
#include "../core/log.h"
#include "../core/num.h"
#include "../core/strbuf.h"
#include "../core/util.h"
#include "../http/reply.h"
#include "../svc/audit.h"
#include "../http/request.h"
#include "../http/validate.h"
#include "../svc/events.h"
#include "../svc/mail.h"
#include "../svc/notify.h"

#define SUBJECT_MIN 3
#define SUBJECT_MAX 200
#define BODY_MAX 5000
#define ATTACH_MAX 5
#define OPEN_TICKETS_MAX 20
#define MESSAGES_MAX 1000
#define MESSAGES_PAGE 100
#define PREVIEW_CHARS 140
#define SEARCH_MAX 100
/* How long an attachment link in a message document works. */
#define LINK_TTL_S (6 * 3600)

static const char *const categories[] = { "general", "account", "billing", "technical", "models", "other", NULL };
static const char *const priorities[] = { "low", "normal", "high", "urgent", NULL };
static const char *const statuses[] = { "active", "pending", "resolved", NULL };
static const char *const status_filters[] = { "active", "pending", "resolved", "all", NULL };

/* ============================================================ documents */

#define TICKET_COLUMNS(FIRST, NEXT)                                                                  \
	FIRST(T_ID, "t.id") NEXT(T_USER, "t.user_id") NEXT(T_USERNAME, "u.username")                     \
	NEXT(T_EMAIL, "u.email") NEXT(T_SUBJECT, "t.subject") NEXT(T_CATEGORY, "t.category")             \
	NEXT(T_PRIORITY, "t.priority") NEXT(T_STATUS, "t.status") NEXT(T_ASSIGNED, "t.assigned_to")      \
	NEXT(T_ASSIGNED_NAME, "a.username") NEXT(T_COUNT_MSG, "t.messages_count")                        \
	NEXT(T_LAST_AT, "t.last_message_at") NEXT(T_CREATED, "t.created_at") NEXT(T_UPDATED, "t.updated_at") \
	NEXT(T_RESOLVED, "t.resolved_at")                                                                 \
	NEXT(T_LAST_BODY, "(SELECT lm.body FROM support_messages lm WHERE lm.ticket_id = t.id ORDER BY lm.id DESC LIMIT 1)") \
	NEXT(T_LAST_STAFF, "(SELECT lm.is_staff FROM support_messages lm WHERE lm.ticket_id = t.id ORDER BY lm.id DESC LIMIT 1)")
#define TICKET_COLS TICKET_COLUMNS(DB_COL_SQL, DB_COL_SQL_NEXT)
enum ticket_col { TICKET_COLUMNS(DB_COL_ENUM, DB_COL_ENUM) T_COUNT };
#define TICKET_FROM " FROM support_tickets t JOIN users u ON u.id = t.user_id LEFT JOIN users a ON a.id = t.assigned_to"

/* The first max characters of s (UTF-8), with an ellipsis when cut. */
static json_t *preview_json(const char *s)
{
	if (!s)
		return json_null();
	size_t chars = 0, i = 0;
	while (s[i] && chars < PREVIEW_CHARS) {
		i++;
		while ((s[i] & 0xC0) == 0x80)
			i++;
		chars++;
	}
	if (!s[i])
		return json_string(s);
	strbuf_t b;
	sb_init(&b, 0);
	sb_add(&b, s, i);
	sb_adds(&b, "\xe2\x80\xa6");
	json_t *j = json_string(b.buf);
	sb_release(&b);
	return j;
}

static json_t *ticket_json(db_rows_t *r, bool admin)
{
	json_t *user = json_pack("{s:I, s:s?}", "id", (json_int_t)db_int(r, T_USER), "username", db_text(r, T_USERNAME));
	if (admin)
		json_object_set_new(user, "email", json_string(db_text(r, T_EMAIL)));
	json_t *o = json_pack("{s:I, s:s, s:s, s:s, s:s, s:o, s:I, s:o, s:o, s:o, s:o}",
			      "id", (json_int_t)db_int(r, T_ID), "subject", db_text(r, T_SUBJECT),
			      "category", db_text(r, T_CATEGORY), "priority", db_text(r, T_PRIORITY),
			      "status", db_text(r, T_STATUS), "user", user,
			      "messages_count", (json_int_t)db_int(r, T_COUNT_MSG),
			      "last_message_at", json_time(db_int(r, T_LAST_AT)),
			      "created_at", json_time(db_int(r, T_CREATED)), "updated_at", json_time(db_int(r, T_UPDATED)),
			      "resolved_at", db_isnull(r, T_RESOLVED) ? json_null() : json_time(db_int(r, T_RESOLVED)));
	json_object_set_new(o, "assigned_to", db_isnull(r, T_ASSIGNED) ? json_null()
		: json_pack("{s:I, s:s?}", "id", (json_int_t)db_int(r, T_ASSIGNED), "username", db_text(r, T_ASSIGNED_NAME)));
	json_object_set_new(o, "last_message", db_isnull(r, T_LAST_BODY) ? json_null()
		: json_pack("{s:o, s:b}", "message", preview_json(db_text(r, T_LAST_BODY)), "is_staff", db_bool(r, T_LAST_STAFF)));
	return o;
}

static json_t *ticket_own_row(db_rows_t *r)
{
	return ticket_json(r, false);
}

static json_t *ticket_admin_row(db_rows_t *r)
{
	return ticket_json(r, true);
}

#define MESSAGE_COLUMNS(FIRST, NEXT)                                                                 \
	FIRST(SM_ID, "m.id") NEXT(SM_TICKET, "m.ticket_id") NEXT(SM_SENDER, "m.sender_id")                  \
	NEXT(SM_SENDER_NAME, "s.username") NEXT(SM_STAFF, "m.is_staff") NEXT(SM_VIA, "m.via")              \
	NEXT(SM_BODY, "m.body") NEXT(SM_CREATED, "m.created_at")
#define MESSAGE_COLS MESSAGE_COLUMNS(DB_COL_SQL, DB_COL_SQL_NEXT)
enum message_col { MESSAGE_COLUMNS(DB_COL_ENUM, DB_COL_ENUM) SM_COUNT };
#define MESSAGE_FROM " FROM support_messages m LEFT JOIN users s ON s.id = m.sender_id"

static json_t *message_json(db_rows_t *r)
{
	json_t *o = json_pack("{s:I, s:I, s:b, s:s, s:s, s:o, s:o}",
			      "id", (json_int_t)db_int(r, SM_ID), "ticket_id", (json_int_t)db_int(r, SM_TICKET),
			      "is_staff", db_bool(r, SM_STAFF), "via", db_text(r, SM_VIA), "message", db_text(r, SM_BODY),
			      "attachments", json_array(), "created_at", json_time(db_int(r, SM_CREATED)));
	json_object_set_new(o, "sender", db_isnull(r, SM_SENDER) ? json_null()
		: json_pack("{s:I, s:s?}", "id", (json_int_t)db_int(r, SM_SENDER), "username", db_text(r, SM_SENDER_NAME)));
	return o;
}

/* The signature of an attachment link: for user_id, ticket_id's upload,
 * until expires_s; a key of its own derived from the JWT secret (as
 * orders.c does for download links), so it signs nothing else. */
static void link_signature(int64_t ticket_id, int64_t upload_id, int64_t user_id, int64_t expires_s, char out[65])
{
	static const char label[] = "hwc3d support attachment links v1";
	unsigned char key[crypto_auth_hmacsha256_BYTES], mac[crypto_auth_hmacsha256_BYTES];
	crypto_auth_hmacsha256_state st;
	crypto_auth_hmacsha256_init(&st, cfg.jwt_secret, cfg.jwt_secret_len);
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)label, sizeof(label) - 1);
	crypto_auth_hmacsha256_final(&st, key);
	char msg[128];
	int n = snprintf(msg, sizeof(msg), "support:%lld:%lld:%lld:%lld", (long long)ticket_id, (long long)upload_id,
			 (long long)user_id, (long long)expires_s);
	crypto_auth_hmacsha256(mac, (const unsigned char *)msg, (unsigned long long)n, key);
	sodium_bin2hex(out, 65, mac, sizeof(mac));
	sodium_memzero(key, sizeof(key));
}

/* A link to an attachment that works without a header (a plain <a href>)
 * for the caller, for LINK_TTL_S; the right is checked again when used. */
static const char *attachment_url(req_t *req, int64_t ticket_id, int64_t upload_id)
{
	int64_t expires = now_ms() / 1000 + LINK_TTL_S;
	char sig[65];
	link_signature(ticket_id, upload_id, req->user->id, expires, sig);
	return arena_printf(req->arena, "/api/support/tickets/%lld/attachments/%lld?user=%lld&expires=%lld&sig=%s",
			    (long long)ticket_id, (long long)upload_id, (long long)req->user->id, (long long)expires, sig);
}

/* Fills the attachments of msgs (message documents of ticket_id, ids
 * between lo and hi); false on a database error. */
static bool add_attachments(req_t *req, int64_t ticket_id, json_t *msgs, int64_t lo, int64_t hi)
{
	db_rows_t *r = RQ(req, "SELECT a.message_id, up.id, up.original_name, up.file_format, up.content_type, up.size_bytes"
			       " FROM support_attachments a JOIN support_messages m ON m.id = a.message_id"
			       " JOIN uploads up ON up.id = a.upload_id"
			       " WHERE m.ticket_id = $1 AND m.id BETWEEN $2 AND $3 ORDER BY a.message_id, up.id",
			  P_INT(ticket_id), P_INT(lo), P_INT(hi));
	if (!r)
		return false;
	while (db_next(r)) {
		int64_t mid = db_int(r, 0), uid = db_int(r, 1);
		size_t i;
		json_t *m;
		json_array_foreach(msgs, i, m) {
			if (json_integer_value(json_object_get(m, "id")) != mid)
				continue;
			json_array_append_new(json_object_get(m, "attachments"), json_pack("{s:I, s:s, s:s, s:s, s:I, s:s}",
				"id", (json_int_t)uid, "filename", db_text(r, 2), "file_format", db_text(r, 3),
				"content_type", db_text(r, 4), "file_size", (json_int_t)db_int(r, 5),
				"url", attachment_url(req, ticket_id, uid)));
			break;
		}
	}
	return !db_failed(r);
}

/* One message document; NULL on a database error. */
static json_t *message_doc(req_t *req, int64_t ticket_id, int64_t message_id)
{
	db_rows_t *r = RQ(req, "SELECT " MESSAGE_COLS MESSAGE_FROM " WHERE m.id = $1", P_INT(message_id));
	if (!r || !db_next(r))
		return NULL;
	json_t *msgs = json_array();
	json_array_append_new(msgs, message_json(r));
	if (!add_attachments(req, ticket_id, msgs, message_id, message_id)) {
		json_decref(msgs);
		return NULL;
	}
	json_t *m = json_incref(json_array_get(msgs, 0));
	json_decref(msgs);
	return m;
}

/* The ticket with one page of its messages, in order: the newest (before
 * ?before_id when given), or the oldest after ?after_id (catching up). */
static int reply_ticket(req_t *req, int status, int64_t id, bool admin)
{
	valid_t v;
	v_init(&v, req, NULL);
	int64_t before = 0, after = 0, limit = MESSAGES_PAGE;
	if (req->method_id == M_GET) {
		before = q_int(&v, "before_id", 1, INT64_MAX, 0);
		after = q_int(&v, "after_id", 1, INT64_MAX, 0);
		limit = q_int(&v, "limit", 1, MESSAGES_PAGE, MESSAGES_PAGE);
		if (before && after)
			v_error(&v, "after_id", "Give before_id or after_id, not both");
		if (!v_ok(&v))
			return v_reply(&v);
	}
	db_rows_t *r = RQ(req, "SELECT " TICKET_COLS TICKET_FROM " WHERE t.id = $1", P_INT(id));
	if (!r)
		return reply_db_error(req, "read ticket");
	if (!db_next(r))
		return db_failed(r) ? reply_db_error(req, "read ticket") : reply_error(req, ERR_NOT_FOUND, "Ticket not found");
	json_t *out = ticket_json(r, admin);
	db_rows_t *m = after
		? RQ(req, "SELECT " MESSAGE_COLS MESSAGE_FROM " WHERE m.ticket_id = $1 AND m.id > $2 ORDER BY m.id LIMIT $3",
		     P_INT(id), P_INT(after), P_INT(limit + 1))
		: RQ(req, "SELECT " MESSAGE_COLS MESSAGE_FROM " WHERE m.ticket_id = $1 AND (CAST($2 AS BIGINT) = 0 OR m.id < $2)"
			  " ORDER BY m.id DESC LIMIT $3", P_INT(id), P_INT(before), P_INT(limit + 1));
	if (!m) {
		json_decref(out);
		return reply_db_error(req, "read messages");
	}
	json_t *msgs = json_array();
	int64_t n = 0, lo = INT64_MAX, hi = 0;
	bool more = false;
	while (db_next(m)) {
		if (n++ == limit) {
			more = true;
			break;
		}
		json_t *doc = message_json(m);
		int64_t mid = db_int(m, SM_ID);
		lo = mid < lo ? mid : lo;
		hi = mid > hi ? mid : hi;
		if (after)
			json_array_append_new(msgs, doc);
		else
			json_array_insert_new(msgs, 0, doc);
	}
	if (db_failed(m) || (hi && !add_attachments(req, id, msgs, lo, hi))) {
		json_decref(msgs);
		json_decref(out);
		return reply_db_error(req, "read messages");
	}
	json_object_set_new(out, "messages", msgs);
	json_object_set_new(out, "has_more", json_boolean(more));
	return reply_json(req, status, out);
}

/* ============================================================== lookups */

struct ticket {
	int64_t id, user_id;
	const char *status, *subject, *email, *name;
};

/* The ticket named by the path, the caller's own unless admin; replies 404
 * (someone else's looks missing) or 5xx and returns false.  Its rows are
 * released: the caller may write next. */
static bool ticket_find_or_404(req_t *req, struct ticket *t, bool admin)
{
	int64_t id = req_param_int(req, "id");
	db_rows_t *r = DBQ(req->db, "SELECT t.user_id, t.status, t.subject, u.email, COALESCE(u.full_name, u.username)"
				    " FROM support_tickets t JOIN users u ON u.id = t.user_id WHERE t.id = $1", P_INT(id));
	if (!r) {
		reply_db_error(req, "find ticket");
		return false;
	}
	bool found = db_next(r), failed = db_failed(r);
	if (found) {
		*t = (struct ticket){
			.id = id, .user_id = db_int(r, 0),
			.status = arena_strdup(req->arena, db_text(r, 1)),
			.subject = arena_strdup(req->arena, db_text(r, 2)),
			.email = arena_strdup(req->arena, db_text(r, 3)),
			.name = arena_strdup(req->arena, db_text(r, 4)),
		};
	}
	db_done(r);
	if (failed) {
		reply_db_error(req, "find ticket");
		return false;
	}
	if (!found || (!admin && t->user_id != req->user->id)) {
		reply_error(req, ERR_NOT_FOUND, "Ticket not found");
		return false;
	}
	return true;
}

/* attachment_ids: at most ATTACH_MAX distinct attachment uploads of the
 * caller, not attached anywhere yet.  Errors go into v. */
static size_t read_attachments(valid_t *v, req_t *req, int64_t *ids)
{
	json_t *a = json_object_get(req_body(req), "attachment_ids");
	if (!a || json_is_null(a))
		return 0;
	if (!json_is_array(a) || json_array_size(a) > ATTACH_MAX) {
		v_error(v, "attachment_ids", arena_printf(req->arena, "Must be a list of at most %d upload ids", ATTACH_MAX));
		return 0;
	}
	size_t n = 0, i;
	json_t *x;
	json_array_foreach(a, i, x) {
		int64_t id = json_is_integer(x) ? json_integer_value(x) : 0;
		bool dup = false;
		for (size_t k = 0; k < n; k++)
			dup |= ids[k] == id;
		if (id < 1 || dup) {
			v_error(v, "attachment_ids", "Must be distinct upload ids (integers)");
			return 0;
		}
		int64_t ok = 0;
		if (DBS(req->db, &ok, "SELECT COUNT(*) FROM uploads u WHERE u.id = $1 AND u.user_id = $2 AND u.kind = 'attachment'"
				      " AND NOT EXISTS (SELECT 1 FROM support_attachments s WHERE s.upload_id = u.id)",
			P_INT(id), P_INT(req->user->id)) < 0) {
			v_error(v, "attachment_ids", "Could not be checked; try again");
			return 0;
		}
		if (!ok) {
			v_error(v, "attachment_ids", arena_printf(req->arena, "Upload %lld is not an attachment you uploaded"
				" (POST /api/upload/attachment), or it is already attached", (long long)id));
			return 0;
		}
		ids[n++] = id;
	}
	return n;
}

/* ============================================================== writing */

/* The message of a write, and what it changed. */
struct posted {
	int64_t message_id;
	const char *previous_status, *status;
	int64_t at;
};

/* Inserts a message and its attachments in the caller's transaction. */
static bool insert_message(req_t *req, int64_t ticket_id, bool staff, const char *via, const char *body,
			   const int64_t *ids, size_t n, int64_t now, int64_t *message_id)
{
	if (DBS(req->db, message_id, "INSERT INTO support_messages (ticket_id, sender_id, is_staff, via, body, created_at)"
				     " VALUES ($1, $2, $3, $4, $5, $6) RETURNING id", P_INT(ticket_id), P_INT(req->user->id),
		P_BOOL(staff), P_TEXT(via), P_TEXT(body), P_INT(now)) != 1)
		return false;
	for (size_t i = 0; i < n; i++)
		if (DBX(req->db, "INSERT INTO support_attachments (message_id, upload_id) VALUES ($1, $2)",
			P_INT(*message_id), P_INT(ids[i])) != 1)
			return false;
	return true;
}

/* What a message does to the status: the staff answering an active ticket
 * makes it pending; the user writing reopens it. */
static const char *status_after(const char *status, bool staff)
{
	if (staff)
		return !strcmp(status, "active") ? "pending" : status;
	return "active";
}

static void publish_status(int64_t ticket_id, const char *previous, const char *status, int64_t at, int64_t by)
{
	char channel[48];
	snprintf(channel, sizeof(channel), "support:%lld", (long long)ticket_id);
	events_publish(channel, "ticket_status_changed", json_pack("{s:I, s:s, s:s, s:o, s:I}",
		"ticket_id", (json_int_t)ticket_id, "status", status, "previous_status", previous,
		"updated_at", json_time(at), "changed_by", (json_int_t)by));
}

static void publish_message(int64_t ticket_id, json_t *doc)
{
	char channel[48];
	snprintf(channel, sizeof(channel), "support:%lld", (long long)ticket_id);
	events_publish(channel, "message_received", json_deep_copy(doc));
}

enum post_result { POST_OK, POST_FULL, POST_DB_ERROR, POST_UNIQUE };

/* Adds a message to t in one transaction: the counters and status of the
 * ticket (guarded by the status read, retried when it moved meanwhile),
 * the message, its attachments, and for a staff chat reply the owner's
 * notification; for a mail, the outbox row.  Nothing is published here. */
static enum post_result post_message(req_t *req, const struct ticket *t, bool staff, const char *via,
				     const char *body, const int64_t *ids, size_t n, const char *mail_subject,
				     const char *mail_text, const char *mail_html, struct posted *out)
{
	for (int attempt = 0; attempt < 3; attempt++) {
		if (!db_begin(req->db))
			return POST_DB_ERROR;
		int64_t now = now_ms(), count = 0;
		const char *prev = NULL;
		db_rows_t *r = DBQ(req->db, "SELECT status, messages_count FROM support_tickets WHERE id = $1", P_INT(t->id));
		if (r && db_next(r)) {
			prev = arena_strdup(req->arena, db_text(r, 0));
			count = db_int(r, 1);
		}
		db_done(r);
		if (!prev) {
			db_rollback(req->db);
			return POST_DB_ERROR;
		}
		if (count >= MESSAGES_MAX) {
			db_rollback(req->db);
			return POST_FULL;
		}
		const char *next = status_after(prev, staff);
		int64_t changed = DBX(req->db,
			"UPDATE support_tickets SET status = $3, messages_count = messages_count + 1, last_message_at = $4,"
			" updated_at = $4, resolved_at = CASE WHEN $3 = 'resolved' THEN resolved_at ELSE NULL END"
			" WHERE id = $1 AND status = $2", P_INT(t->id), P_TEXT(prev), P_TEXT(next), P_INT(now));
		if (changed == 0) { /* the status moved since we read it */
			db_rollback(req->db);
			continue;
		}
		bool ok = changed == 1 && insert_message(req, t->id, staff, via, body, ids, n, now, &out->message_id);
		if (ok && staff && !strcmp(via, "chat"))
			ok = notify(req->db, t->user_id, "support_reply", "Support replied to your ticket",
				    arena_printf(req->arena, "New reply on \"%s\"", t->subject),
				    arena_printf(req->arena, "/support?ticket=%lld", (long long)t->id));
		if (ok && mail_text)
			ok = mail_queue(req->db, "support_email", t->email, mail_subject, mail_text, mail_html);
		if (!ok || !db_commit(req->db)) {
			bool unique = db_error(req->db) == DB_ERR_UNIQUE;
			db_rollback(req->db);
			return unique ? POST_UNIQUE : POST_DB_ERROR;
		}
		*out = (struct posted){ out->message_id, prev, next, now };
		return POST_OK;
	}
	return POST_DB_ERROR;
}

static int reply_post_failed(req_t *req, enum post_result why)
{
	if (why == POST_FULL)
		return reply_error(req, ERR_CONFLICT, arena_printf(req->arena,
			"This ticket has reached %d messages: open a new ticket", MESSAGES_MAX));
	if (why == POST_UNIQUE)
		return reply_invalid1(req, "attachment_ids", "One of these uploads was just attached to another message");
	return reply_db_error(req, "post message");
}

/* After the commit: the events of a posted message; replies 201 with it. */
static int reply_posted(req_t *req, const struct ticket *t, const struct posted *p, json_t *extra)
{
	json_t *doc = message_doc(req, t->id, p->message_id);
	if (!doc) {
		json_decref(extra);
		return reply_db_error(req, "read message");
	}
	publish_message(t->id, doc);
	if (strcmp(p->previous_status, p->status))
		publish_status(t->id, p->previous_status, p->status, p->at, req->user->id);
	if (extra) {
		json_object_set_new(extra, "message", doc);
		return reply_created(req, extra);
	}
	return reply_created(req, doc);
}

/* The text of a message body: 0-5000 characters, which may be empty only
 * when attachments come with it. */
static const char *read_body(valid_t *v, const char *field, bool required)
{
	const char *body = v_str(v, field, V_MULTILINE | (required ? V_REQUIRED : 0), required ? 1 : 0, BODY_MAX);
	return body ? body : "";
}

/* ============================================================ user side */

/* GET /api/support/tickets?status= */
static int support_tickets_list(req_t *req)
{
	valid_t v;
	page_t p;
	paged_begin(&v, req, &p);
	const char *status = q_enum(&v, "status", status_filters, "all");
	if (!v_ok(&v))
		return v_reply(&v);
#define OWN_WHERE " WHERE t.user_id = $1 AND (CAST($2 AS TEXT) = 'all' OR t.status = $2)"
	db_param_t params[] = { P_INT(req->user->id), P_TEXT(status) };
	paged_t q = {
		.what = "list tickets",
		.count_sql = "SELECT COUNT(*) FROM support_tickets t" OWN_WHERE,
		.rows_sql = "SELECT " TICKET_COLS TICKET_FROM OWN_WHERE " ORDER BY t.last_message_at DESC, t.id DESC",
		.params = params, .nparams = 2,
		.row = ticket_own_row,
	};
#undef OWN_WHERE
	return paged_reply(req, &p, &q);
}

/* POST /api/support/tickets {subject, message, category?, priority?,
 * attachment_ids?} */
static int support_tickets_create(req_t *req)
{
	valid_t v;
	v_init(&v, req, req_body(req));
	const char *subject = v_str(&v, "subject", V_REQUIRED, SUBJECT_MIN, SUBJECT_MAX);
	const char *category = v_enum(&v, "category", 0, categories, "general");
	const char *priority = v_enum(&v, "priority", 0, priorities, "normal");
	int64_t ids[ATTACH_MAX];
	size_t n = read_attachments(&v, req, ids);
	const char *body = read_body(&v, "message", n == 0);
	if (!v_ok(&v))
		return v_reply(&v);
	int64_t now = now_ms(), id = 0, mid = 0;
	if (!db_begin(req->db))
		return reply_db_error(req, "begin");
	int rc = DBS(req->db, &id, "INSERT INTO support_tickets (user_id, subject, category, priority, messages_count,"
				   " last_message_at, created_at, updated_at) SELECT $1, $2, $3, $4, 1, $5, $5, $5"
				   " WHERE (SELECT COUNT(*) FROM support_tickets WHERE user_id = $1 AND status <> 'resolved') < $6"
				   " RETURNING id", P_INT(req->user->id), P_TEXT(subject), P_TEXT(category), P_TEXT(priority),
		     P_INT(now), P_INT(OPEN_TICKETS_MAX));
	if (rc == 0) {
		db_rollback(req->db);
		return reply_error(req, ERR_CONFLICT, arena_printf(req->arena,
			"You have %d open tickets: wait for one to be resolved, or add to it", OPEN_TICKETS_MAX));
	}
	if (rc != 1 || !insert_message(req, id, false, "chat", body, ids, n, now, &mid) || !db_commit(req->db)) {
		bool unique = db_error(req->db) == DB_ERR_UNIQUE;
		db_rollback(req->db);
		return reply_post_failed(req, unique ? POST_UNIQUE : POST_DB_ERROR);
	}
	log_info("support ticket %lld opened by user %lld", (long long)id, (long long)req->user->id);
	return reply_ticket(req, 201, id, false);
}

/* A ticket with its messages (?before_id=&after_id=&limit=): the caller's
 * own, or, for staff, any. */
static int ticket_get(req_t *req, bool staff)
{
	struct ticket t;
	if (!ticket_find_or_404(req, &t, staff))
		return DONE;
	return reply_ticket(req, 200, t.id, staff);
}

/* A message on a ticket {message, attachment_ids?}: by its owner, or by
 * staff (a staff reply). */
static int ticket_message(req_t *req, bool staff)
{
	struct ticket t;
	if (!ticket_find_or_404(req, &t, staff))
		return DONE;
	valid_t v;
	v_init(&v, req, req_body(req));
	int64_t ids[ATTACH_MAX];
	size_t n = read_attachments(&v, req, ids);
	const char *body = read_body(&v, "message", n == 0);
	if (!v_ok(&v))
		return v_reply(&v);
	struct posted p = { 0 };
	enum post_result rc = post_message(req, &t, staff, "chat", body, ids, n, NULL, NULL, NULL, &p);
	if (rc != POST_OK)
		return reply_post_failed(req, rc);
	return reply_posted(req, &t, &p, NULL);
}

/* GET /api/support/tickets/{id} */
static int support_tickets_get(req_t *req)
{
	return ticket_get(req, false);
}

/* POST /api/support/tickets/{id}/messages */
static int support_tickets_message(req_t *req)
{
	return ticket_message(req, false);
}

/* Who is asking for an attachment: the signed-in caller, or the user a
 * valid link names (?user=&expires=&sig=).  0 when neither. */
static int64_t attachment_reader(req_t *req, int64_t ticket_id, int64_t upload_id, bool *is_admin)
{
	const char *u = req_query(req, "user"), *e = req_query(req, "expires"), *sig = req_query(req, "sig");
	int64_t user = 0, expires = 0;
	if (u && e && sig && parse_i64_range(u, 1, INT64_MAX, &user) && parse_i64_range(e, 1, INT64_MAX / 2, &expires) &&
	    strlen(sig) == 64 && now_ms() / 1000 < expires) {
		char want[65];
		link_signature(ticket_id, upload_id, user, expires, want);
		if (sodium_memcmp(want, sig, 64) == 0) {
			/* the link's user, if still live: a ban or deletion ends it */
			int64_t admin = -1;
			if (DBS(req->db, &admin, "SELECT CASE WHEN role = 'admin' THEN 1 ELSE 0 END FROM users"
						 " WHERE id = $1 AND deleted_at IS NULL AND is_banned = FALSE", P_INT(user)) == 1) {
				*is_admin = admin == 1;
				return user;
			}
			return 0;
		}
	}
	if (req->user) {
		*is_admin = req->user->is_admin;
		return req->user->id;
	}
	return 0;
}

/* GET /api/support/tickets/{id}/attachments/{upload_id}: a file of the
 * conversation, for the ticket's owner and admins (whoever sent it), by
 * bearer token or by the signed link of a message document. */
static int support_attachment_get(req_t *req)
{
	int64_t id = req_param_int(req, "id"), upload = req_param_int(req, "upload_id");
	bool admin = false;
	int64_t reader = attachment_reader(req, id, upload, &admin);
	if (!reader)
		return reply_error(req, ERR_NOT_FOUND, "Attachment not found (or its link has expired: reload the ticket)");
	db_rows_t *r = DBQ(req->db, "SELECT t.user_id, up.storage_key, up.content_type, up.sha256, up.original_name"
				    " FROM support_attachments a JOIN support_messages m ON m.id = a.message_id"
				    " JOIN support_tickets t ON t.id = m.ticket_id JOIN uploads up ON up.id = a.upload_id"
				    " WHERE t.id = $1 AND a.upload_id = $2", P_INT(id), P_INT(upload));
	if (!r)
		return reply_db_error(req, "find attachment");
	if (!db_next(r) || (db_int(r, 0) != reader && !admin)) {
		bool failed = db_failed(r);
		db_done(r);
		return failed ? reply_db_error(req, "find attachment") : reply_error(req, ERR_NOT_FOUND, "Attachment not found");
	}
	const char *key = arena_strdup(req->arena, db_text(r, 1)), *ctype = arena_strdup(req->arena, db_text(r, 2));
	const char *etag = arena_printf(req->arena, "\"%s\"", db_text(r, 3));
	const char *fname = arena_strdup(req->arena, db_text(r, 4));
	db_done(r);
	return reply_stored_file(req, key, ctype, etag, fname, false);
}

/* =========================================================== admin side */

/* GET /api/admin/support/tickets?status=&q=&assigned_to= */
static int admin_support_tickets_list(req_t *req)
{
	valid_t v;
	page_t p;
	paged_begin(&v, req, &p);
	const char *status = q_enum(&v, "status", status_filters, "all");
	const char *q = q_str(&v, "q", SEARCH_MAX);
	int64_t assigned = q_int(&v, "assigned_to", 1, INT64_MAX, 0);
	if (!v_ok(&v))
		return v_reply(&v);
	const char *like = q && *q ? like_contains(req->arena, utf8_lower(req->arena, q)) : NULL;
	/* "#123" or "123" also finds ticket 123 */
	int64_t as_id = 0;
	if (q && *q) {
		const char *d = q[0] == '#' ? q + 1 : q;
		if (!parse_i64(d, &as_id) || as_id < 1)
			as_id = 0;
	}
#define ADMIN_WHERE " WHERE (CAST($1 AS TEXT) = 'all' OR t.status = $1)"                                      \
	" AND (CAST($2 AS TEXT) IS NULL OR lower(t.subject) LIKE $2 ESCAPE '\\' OR u.username_lower LIKE $2 ESCAPE '\\'" \
	" OR lower(u.email) LIKE $2 ESCAPE '\\' OR t.id = $3)"                                                      \
	" AND (CAST($4 AS BIGINT) = 0 OR t.assigned_to = $4)"
	db_param_t params[] = { P_TEXT(status), P_TEXT(like), P_INT(as_id), P_INT(assigned) };
	paged_t pq = {
		.what = "list tickets",
		.count_sql = "SELECT COUNT(*) FROM support_tickets t JOIN users u ON u.id = t.user_id" ADMIN_WHERE,
		.rows_sql = "SELECT " TICKET_COLS TICKET_FROM ADMIN_WHERE " ORDER BY t.last_message_at DESC, t.id DESC",
		.params = params, .nparams = 4,
		.row = ticket_admin_row,
	};
#undef ADMIN_WHERE
	return paged_reply(req, &p, &pq);
}

/* GET /api/admin/support/tickets/{id} */
static int admin_support_tickets_get(req_t *req)
{
	return ticket_get(req, true);
}

/* POST /api/admin/support/tickets/{id}/messages: a staff reply */
static int admin_support_tickets_message(req_t *req)
{
	return ticket_message(req, true);
}

/* PUT /api/admin/support/tickets/{id}/status {status} */
static int admin_support_tickets_status(req_t *req)
{
	struct ticket t;
	if (!ticket_find_or_404(req, &t, true))
		return DONE;
	valid_t v;
	v_init(&v, req, req_body(req));
	const char *status = v_enum(&v, "status", V_REQUIRED, statuses, NULL);
	if (!v_ok(&v))
		return v_reply(&v);
	if (strcmp(status, t.status)) {
		int64_t now = now_ms();
		bool resolved = !strcmp(status, "resolved");
		if (!db_begin(req->db))
			return reply_db_error(req, "begin");
		int64_t n = DBX(req->db, "UPDATE support_tickets SET status = $3, updated_at = $4,"
					 " resolved_at = CASE WHEN $3 = 'resolved' THEN CAST($4 AS BIGINT) ELSE NULL END"
					 " WHERE id = $1 AND status = $2", P_INT(t.id), P_TEXT(t.status), P_TEXT(status), P_INT(now));
		bool ok = n >= 0 && (n == 0 || !resolved ||
			notify(req->db, t.user_id, "support_resolved", "Your support ticket was resolved",
			       arena_printf(req->arena, "\"%s\" was marked resolved. Reply to reopen it.", t.subject),
			       arena_printf(req->arena, "/support?ticket=%lld", (long long)t.id)));
		if (ok && n == 1)
			audit_log(req->db, req, "ticket.status", "support_ticket", t.id,
				  json_pack("{s:s, s:s}", "from", t.status, "to", status));
		if (!ok || !db_commit(req->db)) {
			db_rollback(req->db);
			return reply_db_error(req, "set ticket status");
		}
		if (n == 1) /* else another request changed it first, and published */
			publish_status(t.id, t.status, status, now, req->user->id);
	}
	return reply_ticket(req, 200, t.id, true);
}

/* PUT /api/admin/support/tickets/{id}/assign {admin_id}: to an admin, or
 * null to nobody. */
static int admin_support_tickets_assign(req_t *req)
{
	struct ticket t;
	if (!ticket_find_or_404(req, &t, true))
		return DONE;
	valid_t v;
	v_init(&v, req, req_body(req));
	if (!v_present(&v, "admin_id"))
		v_error(&v, "admin_id", "Required: the admin's user id, or null to unassign");
	int64_t admin = v_int(&v, "admin_id", V_NULLABLE, 1, INT64_MAX, 0);
	if (!v_ok(&v))
		return v_reply(&v);
	if (admin) {
		int64_t ok = 0;
		if (DBS(req->db, &ok, "SELECT COUNT(*) FROM users WHERE id = $1 AND role = 'admin' AND deleted_at IS NULL"
				      " AND is_banned = FALSE", P_INT(admin)) < 0)
			return reply_db_error(req, "find admin");
		if (!ok)
			return reply_invalid1(req, "admin_id", "Must be the id of an admin");
	}
	if (DBX(req->db, "UPDATE support_tickets SET assigned_to = $2, updated_at = $3 WHERE id = $1",
		P_INT(t.id), admin ? P_INT(admin) : P_NULL, P_INT(now_ms())) != 1)
		return reply_db_error(req, "assign ticket");
	audit_log(req->db, req, "ticket.assign", "support_ticket", t.id,
		  json_pack("{s:o}", "admin_id", admin ? json_integer(admin) : json_null()));
	return reply_ticket(req, 200, t.id, true);
}

/* POST /api/admin/support/tickets/{id}/email {subject?, message}: mails the
 * ticket's owner through the outbox; the mail is kept in the conversation
 * (via "email"). */
static int admin_support_tickets_email(req_t *req)
{
	struct ticket t;
	if (!ticket_find_or_404(req, &t, true))
		return DONE;
	valid_t v;
	v_init(&v, req, req_body(req));
	const char *subject = v_str(&v, "subject", 0, SUBJECT_MIN, SUBJECT_MAX);
	const char *body = read_body(&v, "message", true);
	if (!v_ok(&v))
		return v_reply(&v);
	if (!subject)
		subject = arena_printf(req->arena, "Re: [Ticket #%lld] %s", (long long)t.id, t.subject);
	const char *link = arena_printf(req->arena, "%s/support?ticket=%lld", cfg.frontend_url, (long long)t.id);
	char *text = arena_printf(req->arena, "Hi %s,\n\n%s\n\nYour ticket: %s\n\n— HWC3D support\n", t.name, body, link);
	strbuf_t html;
	sb_init(&html, 0);
	sb_adds(&html, "<!doctype html><html><body style=\"font-family:sans-serif\"><p>Hi ");
	html_escape(&html, t.name);
	sb_adds(&html, ",</p><p style=\"white-space:pre-wrap\">");
	html_escape(&html, body);
	sb_adds(&html, "</p><p><a href=\"");
	html_escape(&html, link);
	sb_adds(&html, "\">Your ticket</a></p><p>— HWC3D support</p></body></html>");
	const char *html_text = arena_strdup(req->arena, html.buf);
	sb_release(&html);
	struct posted p = { 0 };
	enum post_result rc = post_message(req, &t, true, "email", body, NULL, 0, subject, text, html_text, &p);
	if (rc != POST_OK)
		return reply_post_failed(req, rc);
	mail_wake();
	log_info("admin %lld mailed the owner of support ticket %lld", (long long)req->user->id, (long long)t.id);
	return reply_posted(req, &t, &p, json_pack("{s:s, s:s, s:s}", "status", "queued", "to", t.email, "subject", subject));
}

/* ========================================================== WebSockets */

enum support_ws_access support_ws_authorize(db_t *db, int64_t user_id, bool is_admin, int64_t ticket_id)
{
	int64_t owner = 0;
	int rc = DBS(db, &owner, "SELECT user_id FROM support_tickets WHERE id = $1", P_INT(ticket_id));
	if (rc < 0)
		return SUPPORT_WS_ERROR;
	if (rc == 0)
		return SUPPORT_WS_MISSING;
	return is_admin || owner == user_id ? SUPPORT_WS_ALLOWED : SUPPORT_WS_FORBIDDEN;
}

const route_t support_routes[] = {
	{ M_GET, "/api/support/tickets", support_tickets_list, ACCESS_USER, RL_GENERAL, BODY_NONE, 0, 0, "The caller's support tickets" },
	{ M_POST, "/api/support/tickets", support_tickets_create, ACCESS_USER, RL_GENERAL, BODY_JSON, 0, 0, "Open a support ticket with its first message" },
	{ M_GET, "/api/support/tickets/{id:int}", support_tickets_get, ACCESS_USER, RL_GENERAL, BODY_NONE, 0, 0, "One of the caller's tickets with its messages" },
	{ M_POST, "/api/support/tickets/{id:int}/messages", support_tickets_message, ACCESS_USER, RL_GENERAL, BODY_JSON, 0, 0, "Write in one of the caller's tickets" },
	{ M_GET, "/api/support/tickets/{id:int}/attachments/{upload_id:int}", support_attachment_get, ACCESS_OPTIONAL, RL_GENERAL, BODY_NONE, 0, 0, "A file attached in a ticket's conversation" },
	{ M_GET, "/api/admin/support/tickets", admin_support_tickets_list, ACCESS_ADMIN, RL_ADMIN, BODY_NONE, 0, 0, "Support tickets by status, with search" },
	{ M_GET, "/api/admin/support/tickets/{id:int}", admin_support_tickets_get, ACCESS_ADMIN, RL_ADMIN, BODY_NONE, 0, 0, "A ticket with its messages" },
	{ M_POST, "/api/admin/support/tickets/{id:int}/messages", admin_support_tickets_message, ACCESS_ADMIN, RL_ADMIN, BODY_JSON, 0, 0, "Reply to a ticket as the staff" },
	{ M_PUT, "/api/admin/support/tickets/{id:int}/status", admin_support_tickets_status, ACCESS_ADMIN, RL_ADMIN, BODY_JSON, 0, 0, "Set a ticket's status" },
	{ M_PUT, "/api/admin/support/tickets/{id:int}/assign", admin_support_tickets_assign, ACCESS_ADMIN, RL_ADMIN, BODY_JSON, 0, 0, "Assign a ticket to an admin" },
	{ M_POST, "/api/admin/support/tickets/{id:int}/email", admin_support_tickets_email, ACCESS_ADMIN, RL_ADMIN, BODY_JSON, 0, 0, "Mail the ticket's owner through the outbox" },
};
EXPORT_ROUTES(support_routes);
