/*
 * admin_users.c: the admin console's user management (guide section 13):
 * list with search and filters, one user with their models, purchases and
 * tickets, edit (role, user type, verification, profile fields; never the
 * password hash), delete, ban, unban, verify a creator.
 *
 * A ban ends the user's sessions at once (session_revoke_all: refresh
 * tokens revoked, access tokens issued until now refused) and hides their
 * public content: their published models are unpublished and marked
 * (models.ban_hidden) so that an unban publishes exactly those again;
 * their profile, comments and posts are filtered by users.is_banned where
 * they are read.  An admin cannot ban, demote or delete themselves, nor the
 * last admin (409).  Every action writes the audit log.
 */
#include "api.h"
#include "admin_common.h"
#include "paged.h"
#include "../auth/account.h"
#include "../core/util.h"
#include "../http/reply.h"
#include "../http/request.h"
#include "../http/validate.h"
#include "../svc/audit.h"
#include "../svc/cache.h"
#include "../svc/notify.h"

#define ADMIN_USER_COLUMNS(FIRST, NEXT) \
	FIRST(AU_ID, "u.id") NEXT(AU_USERNAME, "u.username") NEXT(AU_EMAIL, "u.email") \
	NEXT(AU_FULL_NAME, "u.full_name") NEXT(AU_AVATAR_URL, "u.avatar_url") NEXT(AU_BIO, "u.bio") \
	NEXT(AU_USER_TYPE, "u.user_type") NEXT(AU_ROLE, "u.role") NEXT(AU_IS_VERIFIED, "u.is_verified") \
	NEXT(AU_IS_EMAIL_VERIFIED, "u.is_email_verified") NEXT(AU_IS_BANNED, "u.is_banned") \
	NEXT(AU_BAN_REASON, "u.ban_reason") NEXT(AU_BANNED_AT, "u.banned_at") NEXT(AU_COUNTRY, "u.country") \
	NEXT(AU_MODELS_COUNT, "u.models_count") NEXT(AU_FOLLOWERS_COUNT, "u.followers_count") \
	NEXT(AU_FOLLOWING_COUNT, "u.following_count") NEXT(AU_LAST_LOGIN, "u.last_login_at") \
	NEXT(AU_CREATED_AT, "u.created_at") NEXT(AU_UPDATED_AT, "u.updated_at")
#define ADMIN_USER_COLS ADMIN_USER_COLUMNS(DB_COL_SQL, DB_COL_SQL_NEXT)
enum admin_user_col { ADMIN_USER_COLUMNS(DB_COL_ENUM, DB_COL_ENUM) AU_COUNT };

static json_t *admin_user_json(db_rows_t *r)
{
	const char *role = db_text(r, AU_ROLE);
	json_t *u = json_pack("{s:I, s:s, s:s, s:s?, s:s?, s:s?, s:s, s:s, s:b, s:b, s:b, s:b, s:s?, s:o, s:s?,"
			      " s:I, s:I, s:I, s:o, s:o, s:o}",
		"id", (json_int_t)db_int(r, AU_ID), "username", db_text(r, AU_USERNAME), "email", db_text(r, AU_EMAIL),
		"full_name", db_text(r, AU_FULL_NAME), "avatar_url", db_text(r, AU_AVATAR_URL), "bio", db_text(r, AU_BIO),
		"user_type", db_text(r, AU_USER_TYPE), "role", role, "is_admin", !strcmp(role, "admin"),
		"is_verified", db_bool(r, AU_IS_VERIFIED), "is_email_verified", db_bool(r, AU_IS_EMAIL_VERIFIED),
		"is_banned", db_bool(r, AU_IS_BANNED), "ban_reason", db_text(r, AU_BAN_REASON),
		"banned_at", json_time(db_isnull(r, AU_BANNED_AT) ? 0 : db_int(r, AU_BANNED_AT)),
		"country", db_text(r, AU_COUNTRY),
		"models_count", (json_int_t)db_int(r, AU_MODELS_COUNT), "followers_count", (json_int_t)db_int(r, AU_FOLLOWERS_COUNT),
		"following_count", (json_int_t)db_int(r, AU_FOLLOWING_COUNT),
		"last_login_at", json_time(db_isnull(r, AU_LAST_LOGIN) ? 0 : db_int(r, AU_LAST_LOGIN)),
		"created_at", json_time(db_int(r, AU_CREATED_AT)), "updated_at", json_time(db_int(r, AU_UPDATED_AT)));
	const char *status = db_bool(r, AU_IS_BANNED) ? "banned" : db_bool(r, AU_IS_EMAIL_VERIFIED) ? "active" : "unverified";
	json_object_set_new(u, "status", json_string(status));
	return u;
}

#define ADMIN_USERS_WHERE " FROM users u WHERE u.deleted_at IS NULL" \
	" AND (CAST($1 AS TEXT) IS NULL OR u.username_lower LIKE $1 ESCAPE '\\' OR u.email_normalized LIKE $1 ESCAPE '\\'" \
	"      OR lower(COALESCE(u.full_name, '')) LIKE $1 ESCAPE '\\')" \
	" AND (CAST($2 AS TEXT) IS NULL OR u.user_type = $2) AND (CAST($3 AS TEXT) IS NULL OR u.role = $3)" \
	" AND ($4 = 0 OR ($4 = 1 AND u.is_banned = FALSE AND u.is_email_verified = TRUE)" \
	"      OR ($4 = 2 AND u.is_banned = TRUE) OR ($4 = 3 AND u.is_banned = FALSE AND u.is_email_verified = FALSE))"

struct users_job {
	page_t p;
	const char *order;
	db_param_t filters[6]; /* 4 filters, then limit and offset */
};

/* A page of the list: a substring search scans the table, so it runs on
 * the pool (admin_defer_json). */
static json_t *users_compute(req_t *req, db_t *db, void *ctx, const char **what)
{
	struct users_job *j = ctx;
	int64_t total = 0;
	if (db_scalar(db, "SELECT COUNT(*)" ADMIN_USERS_WHERE, j->filters, 4, &total) < 0) {
		*what = "count users";
		return NULL;
	}
	j->filters[4] = P_INT(j->p.limit);
	j->filters[5] = P_INT(j->p.offset);
	db_rows_t *r = db_query(db, arena_printf(req->arena, "SELECT " ADMIN_USER_COLS ADMIN_USERS_WHERE "%s LIMIT $5 OFFSET $6",
						 j->order), j->filters, 6);
	json_t *items = r ? rows_to_array(r, admin_user_json) : NULL;
	if (!items) {
		*what = "list users";
		return NULL;
	}
	return page_envelope(items, total, &j->p);
}

static int admin_users_list(req_t *req)
{
	valid_t v;
	page_t p;
	paged_begin(&v, req, &p);
	static const char *const types[] = { "buyer", "creator", "all", NULL };
	static const char *const roles[] = { "user", "admin", "all", NULL };
	static const char *const statuses[] = { "active", "banned", "unverified", "all", NULL };
	static const char *const sorts[] = { "newest", "oldest", "username", "last_login", "models", NULL };
	const char *search = q_str(&v, "search", 100);
	const char *type = q_enum(&v, "user_type", types, "all");
	const char *role = q_enum(&v, "role", roles, "all");
	const char *status = q_enum(&v, "status", statuses, "all");
	const char *sort = q_enum(&v, "sort", sorts, "newest");
	if (!v_ok(&v))
		return v_reply(&v);
	const char *like = search && *search ? like_contains(req->arena, utf8_lower(req->arena, search)) : NULL;
	int st = !strcmp(status, "active") ? 1 : !strcmp(status, "banned") ? 2 : !strcmp(status, "unverified") ? 3 : 0;
	db_param_t filters[] = { P_TEXT(like), P_TEXT(strcmp(type, "all") ? type : NULL),
				 P_TEXT(strcmp(role, "all") ? role : NULL), P_INT(st) };
	const char *order = !strcmp(sort, "oldest") ? " ORDER BY u.created_at, u.id"
			  : !strcmp(sort, "username") ? " ORDER BY u.username_lower, u.id"
			  : !strcmp(sort, "last_login") ? " ORDER BY COALESCE(u.last_login_at, 0) DESC, u.id DESC"
			  : !strcmp(sort, "models") ? " ORDER BY u.models_count DESC, u.id DESC"
			  : " ORDER BY u.created_at DESC, u.id DESC";
	struct users_job *j = arena_calloc(req->arena, sizeof(*j));
	*j = (struct users_job){ .p = p, .order = order };
	memcpy(j->filters, filters, sizeof(filters));
	return admin_defer_json(req, users_compute, j);
}

/* The user of the path's {id} (not deleted) as a document; NULL after
 * replying 404 or a database error. */
static json_t *admin_user_find_or_404(req_t *req, int64_t id)
{
	db_rows_t *r = RQ(req, "SELECT " ADMIN_USER_COLS " FROM users u WHERE u.id = $1 AND u.deleted_at IS NULL", P_INT(id));
	if (!r) {
		reply_db_error(req, "read user");
		return NULL;
	}
	json_t *u = db_next(r) ? admin_user_json(r) : NULL;
	bool failed = db_failed(r);
	db_done(r);
	if (!u) {
		if (failed)
			reply_db_error(req, "read user");
		else
			reply_error(req, ERR_NOT_FOUND, "User not found");
	}
	return u;
}

static bool add_list(req_t *req, json_t *doc, const char *name, const char *sql, int64_t id,
		     json_t *(*row)(db_rows_t *r))
{
	db_rows_t *r = RQ(req, sql, P_INT(id));
	json_t *a = r ? rows_to_array(r, row) : NULL;
	if (!a)
		return false;
	json_object_set_new(doc, name, a);
	return true;
}

static json_t *brief_model(db_rows_t *r)
{
	return json_pack("{s:I, s:s, s:s, s:b, s:o, s:I, s:o}", "id", (json_int_t)db_int(r, 0), "title", db_text(r, 1),
			 "status", db_text(r, 2), "is_published", db_bool(r, 3), "price", admin_money(db_int(r, 4)),
			 "sales_count", (json_int_t)db_int(r, 5), "created_at", json_time(db_int(r, 6)));
}

static json_t *brief_purchase(db_rows_t *r)
{
	return json_pack("{s:I, s:I, s:s?, s:o, s:o, s:b}", "id", (json_int_t)db_int(r, 0), "model_id",
			 (json_int_t)db_int(r, 1), "model_title", db_text(r, 2), "price", admin_money(db_int(r, 3)),
			 "created_at", json_time(db_int(r, 4)), "is_refunded", !db_isnull(r, 5));
}

static json_t *brief_ticket(db_rows_t *r)
{
	return json_pack("{s:I, s:s, s:s, s:s, s:o}", "id", (json_int_t)db_int(r, 0), "subject", db_text(r, 1),
			 "status", db_text(r, 2), "priority", db_text(r, 3), "created_at", json_time(db_int(r, 4)));
}

static int reply_admin_user(req_t *req, int64_t id, bool full)
{
	json_t *u = admin_user_find_or_404(req, id);
	if (!u)
		return DONE;
	if (!full)
		return reply_ok(req, u);
	bool ok = add_list(req, u, "models", "SELECT id, title, status, is_published, price_cents, sales_count, created_at"
			   " FROM models WHERE creator_id = $1 AND deleted_at IS NULL ORDER BY created_at DESC, id DESC LIMIT 20",
			   id, brief_model) &&
		  add_list(req, u, "purchases", "SELECT p.id, p.model_id, m.title, p.price_cents, p.created_at, p.refunded_at"
			   " FROM purchases p LEFT JOIN models m ON m.id = p.model_id WHERE p.buyer_id = $1"
			   " ORDER BY p.created_at DESC, p.id DESC LIMIT 20", id, brief_purchase) &&
		  add_list(req, u, "tickets", "SELECT id, subject, status, priority, created_at FROM support_tickets"
			   " WHERE user_id = $1 ORDER BY created_at DESC, id DESC LIMIT 20", id, brief_ticket);
	db_rows_t *r = ok ? RQ(req, "SELECT"
		" (SELECT COUNT(*) FROM models WHERE creator_id = $1 AND deleted_at IS NULL),"
		" (SELECT COUNT(*) FROM purchases WHERE buyer_id = $1 AND refunded_at IS NULL),"
		" (SELECT COALESCE(SUM(price_cents), 0) FROM purchases WHERE buyer_id = $1 AND refunded_at IS NULL),"
		" (SELECT COUNT(*) FROM purchases WHERE creator_id = $1 AND refunded_at IS NULL),"
		" (SELECT COALESCE(SUM(price_cents - fee_cents), 0) FROM purchases WHERE creator_id = $1 AND refunded_at IS NULL),"
		" (SELECT COUNT(*) FROM support_tickets WHERE user_id = $1),"
		" (SELECT COUNT(*) FROM model_comments WHERE user_id = $1),"
		" (SELECT COUNT(*) FROM community_posts WHERE author_id = $1 AND removed_at IS NULL)", P_INT(id)) : NULL;
	if (!r || !db_next(r)) {
		json_decref(u);
		return reply_db_error(req, "read user details");
	}
	json_object_set_new(u, "counts", json_pack("{s:I, s:I, s:o, s:I, s:o, s:I, s:I, s:I}",
		"models", (json_int_t)db_int(r, 0), "purchases", (json_int_t)db_int(r, 1), "total_spent", admin_money(db_int(r, 2)),
		"sales", (json_int_t)db_int(r, 3), "total_earned", admin_money(db_int(r, 4)), "tickets", (json_int_t)db_int(r, 5),
		"comments", (json_int_t)db_int(r, 6), "posts", (json_int_t)db_int(r, 7)));
	return reply_ok(req, u);
}

static int admin_users_get(req_t *req)
{
	return reply_admin_user(req, req_param_int(req, "id"), true);
}

/* The target's role and ban state; 0 when absent (404 sent), -1 on error. */
struct target {
	int64_t id;
	bool is_admin, is_banned;
	const char *username, *user_type;
	bool is_verified;
};

static bool target_find_or_404(req_t *req, struct target *t)
{
	t->id = req_param_int(req, "id");
	db_rows_t *r = RQ(req, "SELECT role = 'admin', is_banned, username, user_type, is_verified FROM users"
			  " WHERE id = $1 AND deleted_at IS NULL", P_INT(t->id));
	if (!r) {
		reply_db_error(req, "read user");
		return false;
	}
	if (!db_next(r)) {
		bool failed = db_failed(r);
		db_done(r);
		if (failed)
			reply_db_error(req, "read user");
		else
			reply_error(req, ERR_NOT_FOUND, "User not found");
		return false;
	}
	t->is_admin = db_bool(r, 0);
	t->is_banned = db_bool(r, 1);
	t->username = arena_strdup(req->arena, db_text(r, 2));
	t->user_type = arena_strdup(req->arena, db_text(r, 3));
	t->is_verified = db_bool(r, 4);
	db_done(r);
	return true;
}

/* Inside the caller's transaction: true when another admin who can sign
 * in (not banned, not deleted) would remain without target. */
static int other_admins(req_t *req, int64_t target, int64_t *n)
{
	return DBS(req->db, n, "SELECT COUNT(*) FROM users WHERE role = 'admin' AND is_banned = FALSE"
		   " AND deleted_at IS NULL AND id <> $1", P_INT(target));
}

/* 409 for acting on oneself or on the last admin; false after replying. */
static bool guard_admin_or_409(req_t *req, const struct target *t, const char *verb)
{
	if (t->id == req->user->id) {
		reply_error(req, ERR_CONFLICT, arena_printf(req->arena, "You cannot %s your own account", verb));
		return false;
	}
	if (!t->is_admin)
		return true;
	int64_t n = 0;
	if (other_admins(req, t->id, &n) < 0) {
		reply_db_error(req, "count admins");
		return false;
	}
	if (n == 0) {
		reply_error(req, ERR_CONFLICT, arena_printf(req->arena, "You cannot %s the last administrator", verb));
		return false;
	}
	return true;
}

/* In a transaction that may take away an admin (demote, ban, delete):
 * PostgreSQL serialises them on one advisory lock, so two admins demoting
 * each other at once cannot both see the other one remaining (SQLite's
 * single writer already does).  False on a database error. */
static bool admin_change_lock(req_t *req, bool target_is_admin)
{
	if (!target_is_admin || db_kind(req->db) != DB_PG)
		return true;
	return DBX0(req->db, "SELECT pg_advisory_xact_lock(7236419)") >= 0;
}

static void invalidate_public(void)
{
	cache_invalidate(CACHE_MODELS);
	cache_invalidate(CACHE_USERS);
	cache_invalidate(CACHE_CATEGORIES);
	cache_invalidate(CACHE_HOME);
}

static int admin_users_update(req_t *req)
{
	static const char *const fields[] = { "role", "is_admin", "user_type", "is_verified", "is_email_verified",
					      "full_name", "bio", "country", NULL };
	json_t *body = req_body(req);
	if (!admin_fields_known_or_400(req, body, fields))
		return DONE;
	struct target t;
	if (!target_find_or_404(req, &t))
		return DONE;
	valid_t v;
	v_init(&v, req, body);
	static const char *const roles[] = { "user", "admin", NULL };
	static const char *const types[] = { "buyer", "creator", NULL };
	const char *role = v_enum(&v, "role", 0, roles, NULL);
	bool has_is_admin = v_present(&v, "is_admin");
	bool is_admin = v_bool(&v, "is_admin", 0, t.is_admin);
	const char *user_type = v_enum(&v, "user_type", 0, types, NULL);
	int verified = v_present(&v, "is_verified") ? v_bool(&v, "is_verified", 0, false) : -1;
	int email_verified = v_present(&v, "is_email_verified") ? v_bool(&v, "is_email_verified", 0, false) : -1;
	bool set_name = v_present(&v, "full_name"), set_bio = v_present(&v, "bio"), set_country = v_present(&v, "country");
	const char *full_name = v_str(&v, "full_name", V_NULLABLE, 0, 100);
	const char *bio = v_str(&v, "bio", V_NULLABLE | V_MULTILINE, 0, 1000);
	const char *country = v_str(&v, "country", V_NULLABLE, 0, 100);
	if (role && has_is_admin && (!strcmp(role, "admin")) != is_admin)
		v_error(&v, "is_admin", "Contradicts role");
	if (!v_ok(&v))
		return v_reply(&v);
	if (!role && has_is_admin)
		role = is_admin ? "admin" : "user";
	bool demote = role && t.is_admin && !strcmp(role, "user");
	if (demote && !guard_admin_or_409(req, &t, "demote"))
		return DONE;

	json_t *detail = json_object();
	json_t *shown = json_deep_copy(body);
	json_object_update(detail, shown);
	json_decref(shown);
	if (!db_begin(req->db) || !admin_change_lock(req, demote)) {
		if (db_in_transaction(req->db))
			db_rollback(req->db);
		json_decref(detail);
		return reply_db_error(req, "begin");
	}
	int64_t n = DBX(req->db, "UPDATE users SET role = COALESCE($2, role), user_type = COALESCE($3, user_type),"
		" is_verified = CASE WHEN $4 < 0 THEN is_verified ELSE $4 = 1 END,"
		" is_email_verified = CASE WHEN $5 < 0 THEN is_email_verified ELSE $5 = 1 END,"
		" full_name = CASE WHEN $6 = 1 THEN $7 ELSE full_name END, bio = CASE WHEN $8 = 1 THEN $9 ELSE bio END,"
		" country = CASE WHEN $10 = 1 THEN $11 ELSE country END, updated_at = $12 WHERE id = $1 AND deleted_at IS NULL",
		P_INT(t.id), P_TEXT(role), P_TEXT(user_type), P_INT(verified), P_INT(email_verified),
		P_INT(set_name), P_TEXT(full_name && *full_name ? full_name : NULL), P_INT(set_bio), P_TEXT(bio),
		P_INT(set_country), P_TEXT(country && *country ? country : NULL), P_INT(now_ms()));
	bool ok = n == 1;
	/* A role change ends the sessions: tokens carry the role's scope. */
	if (ok && role && (!strcmp(role, "admin")) != t.is_admin)
		ok = session_revoke_all(req->db, t.id);
	/* Re-check under the write: two admins demoting each other at once. */
	int64_t admins = 1;
	if (ok && demote)
		ok = DBS0(req->db, &admins, "SELECT COUNT(*) FROM users WHERE role = 'admin' AND is_banned = FALSE"
			  " AND deleted_at IS NULL") == 1;
	if (ok && admins > 0)
		audit_log(req->db, req, "user.update", "user", t.id, json_incref(detail));
	json_decref(detail);
	if (!ok || admins == 0 || !db_commit(req->db)) {
		db_rollback(req->db);
		if (ok && admins == 0)
			return reply_error(req, ERR_CONFLICT, "You cannot demote the last administrator");
		return n == 0 ? reply_error(req, ERR_NOT_FOUND, "User not found") : reply_db_error(req, "update user");
	}
	invalidate_public();
	return reply_admin_user(req, t.id, false);
}

static int admin_users_delete(req_t *req)
{
	struct target t;
	if (!target_find_or_404(req, &t) || !guard_admin_or_409(req, &t, "delete"))
		return DONE;
	int64_t id = t.id, now = now_ms();
	char *email = arena_printf(req->arena, "deleted-%lld@deleted.invalid", (long long)id);
	char *uname = arena_printf(req->arena, "deleted-%lld", (long long)id);
	/* As a user's own deletion (users.c): personal data goes, the row
	 * stays for the books; their models leave the marketplace but stay
	 * with their buyers. */
	if (!db_begin(req->db) || !admin_change_lock(req, t.is_admin)) {
		if (db_in_transaction(req->db))
			db_rollback(req->db);
		return reply_db_error(req, "begin");
	}
	int64_t gone = DBX(req->db,
		"UPDATE users SET email = $2, email_normalized = $2, username = $3, username_lower = $3,"
		" password_hash = NULL, full_name = NULL, avatar_url = NULL, bio = NULL, country = NULL, role = 'user',"
		" skills = '[]', settings = '{}', is_email_verified = FALSE, deleted_at = $4, updated_at = $4"
		" WHERE id = $1 AND deleted_at IS NULL", P_INT(id), P_TEXT(email), P_TEXT(uname), P_INT(now));
	if (gone == 0) { /* a concurrent request deleted them first */
		db_rollback(req->db);
		return reply_error(req, ERR_NOT_FOUND, "User not found");
	}
	bool ok = gone == 1 &&
		DBX(req->db, "UPDATE models SET is_published = FALSE, is_featured = FALSE, updated_at = $2"
		    " WHERE creator_id = $1 AND is_published = TRUE", P_INT(id), P_INT(now)) >= 0 &&
		DBX(req->db, "DELETE FROM oauth_accounts WHERE user_id = $1", P_INT(id)) >= 0 &&
		DBX(req->db, "DELETE FROM email_codes WHERE user_id = $1", P_INT(id)) >= 0 &&
		DBX(req->db, "DELETE FROM password_resets WHERE user_id = $1", P_INT(id)) >= 0 &&
		DBX(req->db, "DELETE FROM payout_methods WHERE user_id = $1", P_INT(id)) >= 0 &&
		session_revoke_all(req->db, id);
	int64_t admins = 1;
	if (ok && t.is_admin)
		ok = DBS0(req->db, &admins, "SELECT COUNT(*) FROM users WHERE role = 'admin' AND is_banned = FALSE"
			  " AND deleted_at IS NULL") == 1;
	if (ok && admins > 0)
		audit_log(req->db, req, "user.delete", "user", id, json_pack("{s:s}", "username", t.username));
	if (!ok || admins == 0 || !db_commit(req->db)) {
		db_rollback(req->db);
		if (ok && admins == 0)
			return reply_error(req, ERR_CONFLICT, "You cannot delete the last administrator");
		return reply_db_error(req, "delete user");
	}
	invalidate_public();
	return reply_no_content(req);
}

static int admin_users_ban(req_t *req)
{
	valid_t v;
	v_init(&v, req, req_body(req));
	const char *reason = v_str(&v, "reason", V_REQUIRED | V_MULTILINE, 3, 1000);
	if (!v_ok(&v))
		return v_reply(&v);
	struct target t;
	if (!target_find_or_404(req, &t) || !guard_admin_or_409(req, &t, "ban"))
		return DONE;
	if (t.is_banned)
		return reply_error(req, ERR_CONFLICT, "This user is already banned");
	int64_t hidden = 0, admins = 1;
	if (!db_begin(req->db) || !admin_change_lock(req, t.is_admin)) {
		if (db_in_transaction(req->db))
			db_rollback(req->db);
		return reply_db_error(req, "begin");
	}
	bool ok = user_ban_apply(req, t.id, reason, &hidden);
	if (ok && t.is_admin)
		ok = DBS0(req->db, &admins, "SELECT COUNT(*) FROM users WHERE role = 'admin' AND is_banned = FALSE"
			  " AND deleted_at IS NULL") == 1;
	if (ok && admins > 0)
		audit_log(req->db, req, "user.ban", "user", t.id,
			  json_pack("{s:s, s:s, s:I}", "username", t.username, "reason", reason, "models_hidden", (json_int_t)hidden));
	if (!ok || admins == 0 || !db_commit(req->db)) {
		db_rollback(req->db);
		if (ok && admins == 0)
			return reply_error(req, ERR_CONFLICT, "You cannot ban the last administrator");
		return reply_db_error(req, "ban user");
	}
	invalidate_public();
	return reply_admin_user(req, t.id, false);
}

static int admin_users_unban(req_t *req)
{
	struct target t;
	if (!target_find_or_404(req, &t))
		return DONE;
	if (!t.is_banned)
		return reply_error(req, ERR_CONFLICT, "This user is not banned");
	int64_t now = now_ms(), shown = 0;
	if (!db_begin(req->db))
		return reply_db_error(req, "begin");
	bool ok = DBX(req->db, "UPDATE users SET is_banned = FALSE, ban_reason = NULL, banned_at = NULL, updated_at = $2"
		      " WHERE id = $1", P_INT(t.id), P_INT(now)) == 1 &&
		  (shown = DBX(req->db, "UPDATE models SET is_published = TRUE, ban_hidden = FALSE, updated_at = $2"
			       " WHERE creator_id = $1 AND ban_hidden = TRUE", P_INT(t.id), P_INT(now))) >= 0;
	if (ok)
		audit_log(req->db, req, "user.unban", "user", t.id,
			  json_pack("{s:s, s:I}", "username", t.username, "models_restored", (json_int_t)shown));
	if (!ok || !db_commit(req->db)) {
		db_rollback(req->db);
		return reply_db_error(req, "unban user");
	}
	invalidate_public();
	return reply_admin_user(req, t.id, false);
}

static int admin_users_verify(req_t *req)
{
	struct target t;
	if (!target_find_or_404(req, &t))
		return DONE;
	if (strcmp(t.user_type, "creator"))
		return reply_error(req, ERR_CONFLICT, "Only creators can be verified; change the user type first");
	if (!db_begin(req->db))
		return reply_db_error(req, "begin");
	bool ok = DBX(req->db, "UPDATE users SET is_verified = TRUE, updated_at = $2 WHERE id = $1", P_INT(t.id),
		      P_INT(now_ms())) == 1;
	if (ok)
		audit_log(req->db, req, "user.verify", "user", t.id, json_pack("{s:s}", "username", t.username));
	if (ok && !t.is_verified)
		ok = notify(req->db, t.id, "account_verified", "You are a verified creator",
			    "An administrator verified your creator account.", "/dashboard");
	if (!ok || !db_commit(req->db)) {
		db_rollback(req->db);
		notify_discard();
		return reply_db_error(req, "verify user");
	}
	notify_flush();
	invalidate_public();
	return reply_admin_user(req, t.id, false);
}

const route_t admin_user_routes[] = {
	{ M_GET, "/api/admin/users", admin_users_list, ACCESS_ADMIN, RL_ADMIN, BODY_NONE, 0, 0, "Users with search and filters" },
	{ M_GET, "/api/admin/users/{id:int}", admin_users_get, ACCESS_ADMIN, RL_ADMIN, BODY_NONE, 0, 0, "A user with their models, purchases and tickets" },
	{ M_PUT, "/api/admin/users/{id:int}", admin_users_update, ACCESS_ADMIN, RL_ADMIN, BODY_JSON, 0, 0, "Edit a user (role, type, verification, profile)" },
	{ M_DELETE, "/api/admin/users/{id:int}", admin_users_delete, ACCESS_ADMIN, RL_ADMIN, BODY_NONE, 0, 0, "Delete a user" },
	{ M_POST, "/api/admin/users/{id:int}/ban", admin_users_ban, ACCESS_ADMIN, RL_ADMIN, BODY_JSON, 0, 0, "Ban a user (ends their sessions, hides their content)" },
	{ M_POST, "/api/admin/users/{id:int}/unban", admin_users_unban, ACCESS_ADMIN, RL_ADMIN, BODY_NONE, 0, 0, "Lift a ban" },
	{ M_POST, "/api/admin/users/{id:int}/verify", admin_users_verify, ACCESS_ADMIN, RL_ADMIN, BODY_NONE, 0, 0, "Verify a creator" },
};
EXPORT_ROUTES(admin_user_routes);
