/*
 * users.c: the signed-in user's own account (profile, password, deletion)
 * and public profiles.
 */
#include "api.h"
#include "../auth/account.h"
#include "../auth/identity.h"
#include "../auth/password.h"
#include "../core/log.h"
#include "../core/util.h"
#include "../http/pool.h"
#include "../http/reply.h"
#include "../http/request.h"
#include "../http/validate.h"
#include "../svc/audit.h"
#include "social.h"
#include "update.h"

#define SETTINGS_MAX_KEYS 50
#define SETTINGS_MAX_BYTES 8192
#define SKILLS_MAX 30

static int users_me(req_t *req)
{
	json_t *u = user_json(req->db, req->user->id, true);
	if (!u && db_error(req->db) != DB_OK) /* a database that went away is not a missing user */
		return reply_db_error(req, "read user");
	if (!u)
		return reply_error(req, ERR_NOT_FOUND, "User not found");
	return reply_ok(req, u);
}

/* skills: up to 30 strings of 1-40 characters on one line, as a JSON array
 * text (arena); NULL when absent or invalid. */
static char *read_skills(valid_t *v)
{
	const char **items;
	size_t n = v_str_array(v, "skills", 0, SKILLS_MAX, 1, 40, &items);
	if (!items)
		return NULL;
	json_t *a = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_string(items[i]));
	char *out = arena_json_dumps(v->req->arena, a, JSON_COMPACT);
	json_decref(a);
	return out;
}

/* settings: a flat object of at most 50 scalar values, 8 KB in all. */
static char *read_settings(valid_t *v)
{
	json_t *j = json_object_get(v->obj, "settings");
	if (!j)
		return NULL;
	if (!json_is_object(j) || json_object_size(j) > SETTINGS_MAX_KEYS) {
		v_error(v, "settings", "Must be an object of at most 50 settings");
		return NULL;
	}
	const char *k;
	json_t *val;
	json_object_foreach(j, k, val) {
		if (!(json_is_boolean(val) || json_is_number(val) || json_is_string(val) || json_is_null(val)) ||
		    strlen(k) > 64) {
			v_error(v, "settings", "Settings are names of up to 64 characters with plain values");
			return NULL;
		}
	}
	char *out = arena_json_dumps(v->req->arena, j, JSON_COMPACT | JSON_SORT_KEYS);
	if (strlen(out) > SETTINGS_MAX_BYTES) {
		v_error(v, "settings", "Settings must fit in 8 KB");
		return NULL;
	}
	return out;
}

static const char *const user_types[] = { "buyer", "creator", NULL };

enum { U_FULL_NAME, U_BIO, U_COUNTRY, U_USER_TYPE, U_USERNAME, U_USERNAME_LOWER, U_SKILLS, U_SETTINGS,
       U_FIELDS };

/* Only these fields can be changed here; everything else in the body
 * (role, email, is_verified, balance, counters...) is ignored. */
static const upd_field_t profile_fields[U_FIELDS] = {
	[U_FULL_NAME] = { .name = "full_name", .kind = UPD_TEXT, .flags = V_NULLABLE, .min = 0, .max = 100 },
	[U_BIO] = { .name = "bio", .kind = UPD_TEXT, .flags = V_NULLABLE | V_MULTILINE, .min = 0, .max = 1000 },
	[U_COUNTRY] = { .name = "country", .kind = UPD_TEXT, .flags = V_NULLABLE, .min = 0, .max = 56 },
	[U_USER_TYPE] = { .name = "user_type", .kind = UPD_ENUM, .allowed = user_types },
	/* v_username: lowercased, so username_lower is the same value */
	[U_USERNAME] = { .name = "username", .kind = UPD_HANDLER },
	[U_USERNAME_LOWER] = { .column = "username_lower", .kind = UPD_HANDLER },
	[U_SKILLS] = { .name = "skills", .kind = UPD_HANDLER },
	[U_SETTINGS] = { .name = "settings", .kind = UPD_HANDLER },
};

static int users_update_me(req_t *req)
{
	valid_t v;
	v_init(&v, req, req_body(req));
	upd_value_t *in = upd_values(req, U_FIELDS);
	upd_read(&v, profile_fields, U_FIELDS, false, in);
	const char *username = v_username(&v, "username", 0);
	char *skills = read_skills(&v);
	char *settings = read_settings(&v);
	if (!v_ok(&v))
		return v_reply(&v);
	if (username) {
		upd_put(&in[U_USERNAME], P_TEXT(username));
		upd_put(&in[U_USERNAME_LOWER], P_TEXT(username));
	}
	if (skills)
		upd_put(&in[U_SKILLS], P_TEXT(skills));
	if (settings)
		upd_put(&in[U_SETTINGS], P_TEXT(settings));
	if (upd_update(req, "users", profile_fields, U_FIELDS, in, req->user->id) < 0) {
		if (db_error(req->db) == DB_ERR_UNIQUE)
			return reply_error_fields(req, ERR_CONFLICT, "This username is taken",
						  json_pack("{s:[s]}", "username", "Already taken"));
		return reply_db_error(req, "update profile");
	}
	return users_me(req);
}

/* The caller's password hash, or NULL (OAuth-only accounts have none). */
static const char *current_hash(req_t *req, bool *failed)
{
	db_rows_t *r = DBQ(req->db, "SELECT password_hash FROM users WHERE id = $1", P_INT(req->user->id));
	*failed = r == NULL;
	if (!r)
		return NULL;
	const char *h = db_next(r) && db_text(r, 0) ? arena_strdup(req->arena, db_text(r, 0)) : NULL;
	db_done(r);
	return h;
}

/* A password check (and, for a change, the new hash): argon2 runs on the
 * worker pool, off the poll thread (about 75 ms each). */
struct pw_job {
	const char *current, *next, *hash; /* hash: the stored one, or NULL */
	bool current_ok, hashed;
	char nh[PASSWORD_HASH_LEN];
};

static void pw_work(void *ctx)
{
	struct pw_job *j = ctx;
	j->current_ok = j->hash && j->current && password_verify(j->current, j->hash);
	if (j->next && (!j->hash || j->current_ok))
		j->hashed = password_hash(j->next, j->nh);
}

static int change_password_done(req_t *req, void *ctx)
{
	struct pw_job *j = ctx;
	/* An account made through OAuth sets its first password without one. */
	if (j->hash && !j->current_ok)
		return reply_invalid1(req, "current_password", "Incorrect password");
	if (!j->hashed)
		return reply_internal(req, "password hashing failed");
	if (!db_begin(req->db))
		return reply_db_error(req, "begin");
	if (DBX(req->db, "UPDATE users SET password_hash = $2, updated_at = $3 WHERE id = $1",
		P_INT(req->user->id), P_TEXT(j->nh), P_INT(now_ms())) != 1 ||
	    !session_revoke_all(req->db, req->user->id) ||
	    (audit_log(req->db, req, "user.password_change", "user", req->user->id, NULL), !db_commit(req->db))) {
		db_rollback(req->db);
		return reply_db_error(req, "change password");
	}
	/* Every other session has ended; this one continues with new tokens. */
	return session_reply_new(req, req->user->id, req->user->is_admin ? "admin" : "user");
}

static int users_change_password(req_t *req)
{
	valid_t v;
	v_init(&v, req, req_body(req));
	const char *current = v_str(&v, "current_password", V_NO_TRIM, 0, 1024);
	const char *next = v_str(&v, "new_password", V_REQUIRED | V_NO_TRIM, 1, 1024);
	const char *problem = next ? password_problem(next) : NULL;
	if (problem)
		v_error(&v, "new_password", problem);
	if (!v_ok(&v))
		return v_reply(&v);
	bool failed;
	struct pw_job *j = arena_calloc(req->arena, sizeof(*j));
	j->hash = current_hash(req, &failed);
	if (failed)
		return reply_db_error(req, "read password");
	if (j->hash && !current)
		return reply_invalid1(req, "current_password", "Incorrect password");
	j->current = current;
	j->next = next;
	return pool_defer(req, POOL_PASSWORD, pw_work, change_password_done, j);
}

static int delete_me_done(req_t *req, void *ctx);

static int users_delete_me(req_t *req)
{
	valid_t v;
	v_init(&v, req, req_body(req));
	const char *password = v_str(&v, "password", V_NO_TRIM, 0, 1024);
	if (!v_ok(&v))
		return v_reply(&v);
	bool failed;
	struct pw_job *j = arena_calloc(req->arena, sizeof(*j));
	j->hash = current_hash(req, &failed);
	if (failed)
		return reply_db_error(req, "read password");
	if (j->hash ? !password : !v_present(&v, "password"))
		return reply_invalid1(req, "password", "Incorrect password");
	if (!j->hash)
		return delete_me_done(req, j);
	j->current = password;
	return pool_defer(req, POOL_PASSWORD, pw_work, delete_me_done, j);
}

static int delete_me_done(req_t *req, void *ctx)
{
	struct pw_job *j = ctx;
	if (j->hash && !j->current_ok)
		return reply_invalid1(req, "password", "Incorrect password");
	int64_t id = req->user->id, now = now_ms();
	char *email = arena_printf(req->arena, "deleted-%lld@deleted.invalid", (long long)id);
	/* A hyphen: no chosen username can take this one and block the deletion. */
	char *uname = arena_printf(req->arena, "deleted-%lld", (long long)id);
	/* Personal data goes; the row stays for what others and the books need
	 * (sales, comments, messages keep pointing at "deleted-<id>"). */
	if (!db_begin(req->db))
		return reply_db_error(req, "begin");
	if (DBX(req->db,
		"UPDATE users SET email = $2, email_normalized = $2, username = $3, username_lower = $3,"
		" password_hash = NULL, full_name = NULL, avatar_url = NULL, bio = NULL, country = NULL,"
		" skills = '[]', settings = '{}', is_email_verified = FALSE, deleted_at = $4, updated_at = $4"
		" WHERE id = $1", P_INT(id), P_TEXT(email), P_TEXT(uname), P_INT(now)) != 1 ||
	    DBX(req->db, "DELETE FROM oauth_accounts WHERE user_id = $1", P_INT(id)) < 0 ||
	    DBX(req->db, "DELETE FROM email_codes WHERE user_id = $1", P_INT(id)) < 0 ||
	    DBX(req->db, "DELETE FROM password_resets WHERE user_id = $1", P_INT(id)) < 0 ||
	    /* bank details go too; an open payout request keeps its own copy */
	    DBX(req->db, "DELETE FROM payout_methods WHERE user_id = $1", P_INT(id)) < 0 ||
	    !session_revoke_all(req->db, id) || !db_commit(req->db)) {
		db_rollback(req->db);
		return reply_db_error(req, "delete account");
	}
	session_clear_cookie(req);
	log_info("user %lld deleted their account", (long long)id);
	return reply_ok(req, json_pack("{s:s}", "message", "Your account has been deleted"));
}

static int reply_profile(req_t *req, const char *where, db_param_t key)
{
	char *sql = arena_printf(req->arena, "SELECT " USER_PUBLIC_COLS " FROM users u WHERE %s"
				 " AND u.deleted_at IS NULL AND u.is_banned = FALSE", where);
	db_rows_t *r = req_rows(req, sql, &key, 1);
	if (!r)
		return reply_db_error(req, "read profile");
	json_t *u = db_next(r) ? user_json_row(r) : NULL;
	if (!u)
		return reply_error(req, ERR_NOT_FOUND, "User not found");
	db_done(r);
	if (!follow_state_add(req, u, json_integer_value(json_object_get(u, "id")))) {
		json_decref(u);
		return reply_db_error(req, "read follow");
	}
	return reply_ok(req, u);
}

static int users_get(req_t *req)
{
	return reply_profile(req, "u.id = $1", P_INT(req_param_int(req, "id")));
}

static int users_get_by_username(req_t *req)
{
	const char *name = req_param(req, "username");
	char lower[64];
	size_t n = strlen(name);
	if (n >= sizeof(lower))
		return reply_error(req, ERR_NOT_FOUND, "User not found");
	for (size_t i = 0; i <= n; i++)
		lower[i] = (char)((name[i] >= 'A' && name[i] <= 'Z') ? name[i] - 'A' + 'a' : name[i]);
	return reply_profile(req, "u.username_lower = $1", P_TEXT(arena_strdup(req->arena, lower)));
}

const route_t user_routes[] = {
	{ M_GET, "/api/users/me", users_me, ACCESS_USER, RL_GENERAL, BODY_NONE, 0, 0, "The signed-in user" },
	{ M_PUT, "/api/users/me", users_update_me, ACCESS_USER, RL_GENERAL, BODY_JSON, 0, 0, "Update profile and settings" },
	{ M_PUT, "/api/users/me/password", users_change_password, ACCESS_USER, RL_AUTH, BODY_JSON, 0, 0, "Change password (ends other sessions)" },
	{ M_DELETE, "/api/users/me/account", users_delete_me, ACCESS_USER, RL_AUTH, BODY_JSON, 0, 0, "Delete the account (anonymises personal data)" },
	{ M_GET, "/api/users/{id:int}", users_get, ACCESS_OPTIONAL, RL_GENERAL, BODY_NONE, 0, 0, "Public profile" },
	{ M_GET, "/api/users/by-username/{username}", users_get_by_username, ACCESS_OPTIONAL, RL_GENERAL, BODY_NONE, 0, 0, "Public profile by username" },
};
EXPORT_ROUTES(user_routes);
