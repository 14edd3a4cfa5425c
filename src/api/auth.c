/*
 * auth.c: sign-up, email verification, login, refresh, logout, password
 * resets, and the admin login with a mailed second factor.
 *
 * No answer tells whether an address has an account, except register (which
 * must say the email is taken): login, resend and forgot-password behave and
 * take the same time either way (an argon2 verify runs on both paths).
 */
#include "api.h"
#include "../auth/account.h"
#include "../auth/identity.h"
#include "../auth/password.h"
#include "../auth/throttle.h"
#include "../core/config.h"
#include "../core/log.h"
#include "../core/util.h"
#include "../http/reply.h"
#include "../http/pool.h"
#include "../http/request.h"
#include "../http/validate.h"
#include "../svc/audit.h"
#include "../svc/mail.h"
#include "../svc/ratelimit.h"
#include "../svc/settings.h"

/* A copy of the normalised address in the request arena, or NULL after
 * recording a field error. */
static const char *read_email(valid_t *v, int flags)
{
	const char *raw = v_str(v, "email", flags, 3, EMAIL_MAX);
	if (!raw)
		return NULL;
	char *norm = email_normalize(raw);
	const char *out = email_valid(norm) ? arena_strdup(v->req->arena, norm) : NULL;
	free(norm);
	if (!out)
		v_error(v, "email", "Enter a valid email address");
	return out;
}

static const char *read_new_password(valid_t *v, const char *field)
{
	const char *pw = v_str(v, field, V_REQUIRED | V_NO_TRIM, 1, 1024);
	if (!pw)
		return NULL;
	const char *problem = password_problem(pw);
	if (problem) {
		v_error(v, field, problem);
		return NULL;
	}
	return pw;
}

/* A per-account throttle on top of the per-IP one (resends, reset mails):
 * true when this one may go ahead. */
static bool account_budget(const char *what, const char *email)
{
	if (!cfg.rate_limit_enabled)
		return true;
	static const struct rate_rule rule = { .limit = 3, .window_ms = 15 * 60 * 1000 };
	char key[320];
	snprintf(key, sizeof(key), "%s:%s", what, email);
	int retry;
	return ratelimit_hit_rule(RL_AUTH, key, &rule, &retry);
}

struct account {
	int64_t id;
	const char *email, *password_hash, *role, *full_name, *username;
	bool verified, banned;
};

/* Loads a live account by normalised email; false when there is none. */
static bool find_account(req_t *req, const char *email, struct account *a, bool *failed_out)
{
	*failed_out = false;
	db_rows_t *r = DBQ(req->db,
		"SELECT id, password_hash, role, full_name, username, is_email_verified, is_banned"
		" FROM users WHERE email_normalized = $1 AND deleted_at IS NULL", P_TEXT(email));
	if (!r) {
		*failed_out = true;
		return false;
	}
	bool found = db_next(r);
	if (found) {
		a->id = db_int(r, 0);
		a->email = email;
		a->password_hash = db_text(r, 1) ? arena_strdup(req->arena, db_text(r, 1)) : NULL;
		a->role = arena_strdup(req->arena, db_text(r, 2));
		a->full_name = db_text(r, 3) ? arena_strdup(req->arena, db_text(r, 3)) : NULL;
		a->username = arena_strdup(req->arena, db_text(r, 4));
		a->verified = db_bool(r, 5);
		a->banned = db_bool(r, 6);
	} else {
		*failed_out = db_failed(r);
	}
	db_done(r);
	return found;
}

/* Checks the password, spending the same time whether or not the account
 * (or its password) exists. */
static bool password_matches(const struct account *a, bool found, const char *password)
{
	if (!found || !a->password_hash) {
		password_dummy_verify(password);
		return false;
	}
	return password_verify(password, a->password_hash);
}

/* Replies 409 naming the field when the email or the username is taken
 * and returns DONE; returns DONE + 1 when both are free. */
static int registration_clash(req_t *req, const char *email, const char *username)
{
	int64_t taken = 0;
	if (DBS(req->db, &taken, "SELECT COUNT(*) FROM users WHERE email_normalized = $1", P_TEXT(email)) < 0)
		return reply_db_error(req, "check email");
	if (taken)
		return reply_error_fields(req, ERR_EMAIL_EXISTS, "An account with this email already exists",
					  json_pack("{s:[s]}", "email", "Already registered"));
	if (DBS(req->db, &taken, "SELECT COUNT(*) FROM users WHERE username_lower = $1", P_TEXT(username)) < 0)
		return reply_db_error(req, "check username");
	if (taken)
		return reply_error_fields(req, ERR_CONFLICT, "This username is taken",
					  json_pack("{s:[s]}", "username", "Already taken"));
	return DONE + 1;
}

/* A password to hash on the pool (register, reset), with what the rest of
 * the request needs. */
struct new_account {
	const char *email, *password, *username, *full_name, *user_type, *token;
	bool admin, hashed;
	char hash[PASSWORD_HASH_LEN];
};

static void hash_work(void *ctx)
{
	struct new_account *n = ctx;
	n->hashed = password_hash(n->password, n->hash);
}

static int register_done(req_t *req, void *ctx);

static int auth_register(req_t *req)
{
	valid_t v;
	v_init(&v, req, req_body(req));
	static const char *const types[] = { "buyer", "creator", NULL };
	const char *email = read_email(&v, V_REQUIRED);
	const char *password = read_new_password(&v, "password");
	const char *username = v_username(&v, "username", V_REQUIRED);
	const char *full_name = v_str(&v, "full_name", V_NULLABLE, 0, 100);
	const char *user_type = v_enum(&v, "user_type", V_REQUIRED, types, NULL);
	if (!v_ok(&v))
		return v_reply(&v);
	platform_settings_t ps;
	settings_get(req->db, &ps);
	if (!ps.registration_open)
		return reply_error(req, ERR_FORBIDDEN, "Registration is closed for now");

	int clash = registration_clash(req, email, username);
	if (clash != DONE + 1)
		return clash;
	struct new_account *n = arena_calloc(req->arena, sizeof(*n));
	*n = (struct new_account){ .email = email, .password = password, .username = username,
				   .full_name = full_name, .user_type = user_type };
	return pool_defer(req, POOL_PASSWORD, hash_work, register_done, n);
}

/* The rest of a registration, once the password is hashed (on the pool). */
static int register_done(req_t *req, void *ctx)
{
	struct new_account *n = ctx;
	const char *email = n->email, *username = n->username, *full_name = n->full_name;
	const char *hash = n->hash;
	int clash;
	if (!n->hashed)
		return reply_internal(req, "password hashing failed");
	int64_t now = now_ms(), id = 0;
	char code[7];
	if (!db_begin(req->db))
		return reply_db_error(req, "begin");
	if (DBS(req->db, &id,
		"INSERT INTO users (email, email_normalized, username, username_lower, password_hash, full_name,"
		" user_type, created_at, updated_at) VALUES ($1, $1, $2, $2, $3, $4, $5, $6, $6) RETURNING id",
		P_TEXT(email), P_TEXT(username), P_TEXT(hash), P_TEXT(full_name && *full_name ? full_name : NULL),
		P_TEXT(n->user_type), P_INT(now)) != 1)
		goto fail;
	if (!otp_issue(req->db, id, "verify_email", code) ||
	    !mail_verification_code(req->db, email, full_name && *full_name ? full_name : username, code))
		goto fail;
	audit_log_as(req->db, req, id, "user.register", "user", id,
		     json_pack("{s:s, s:s}", "username", username, "user_type", n->user_type));
	if (!db_commit(req->db))
		goto fail;
	mail_wake();
	json_t *user = user_json(req->db, id, true);
	if (!user)
		return db_error(req->db) != DB_OK ? reply_db_error(req, "read the new user")
						  : reply_internal(req, "new user vanished");
	return reply_created(req, json_pack("{s:o, s:s}", "user", user, "message",
		"Account created. Enter the 6-digit code we sent to your email address."));
fail:
	db_rollback(req->db);
	if (db_error(req->db) == DB_ERR_UNIQUE) { /* lost a race for the email or the name */
		clash = registration_clash(req, email, username);
		if (clash != DONE + 1)
			return clash;
	}
	return reply_db_error(req, "register");
}

/* Reads {email, code}; false after replying 422. */
static bool read_email_code(req_t *req, const char **email, const char **code)
{
	valid_t v;
	v_init(&v, req, req_body(req));
	*email = read_email(&v, V_REQUIRED);
	*code = v_str(&v, "code", V_REQUIRED, 1, 16);
	if (v_ok(&v))
		return true;
	v_reply(&v);
	return false;
}

static int bad_code(req_t *req)
{
	return reply_invalid1(req, "code", "Invalid or expired code");
}

static int auth_verify_email(req_t *req)
{
	const char *email, *code;
	if (!read_email_code(req, &email, &code))
		return DONE;
	struct account a = { 0 };
	bool failed;
	if (!find_account(req, email, &a, &failed))
		return failed ? reply_db_error(req, "find account") : bad_code(req);
	if (a.verified)
		return bad_code(req);
	switch (otp_check(req->db, a.id, "verify_email", code)) {
	case OTP_OK:
		break;
	case OTP_ERROR:
		return reply_db_error(req, "check code");
	default:
		return bad_code(req);
	}
	if (DBX(req->db, "UPDATE users SET is_email_verified = TRUE, updated_at = $2 WHERE id = $1",
		P_INT(a.id), P_INT(now_ms())) != 1)
		return reply_db_error(req, "verify email");
	mail_welcome(req->db, email, a.full_name ? a.full_name : a.username);
	if (a.banned)
		return reply_error(req, ERR_FORBIDDEN, "This account is banned");
	return session_reply_new(req, a.id, "user");
}

static int auth_resend_verification(req_t *req)
{
	valid_t v;
	v_init(&v, req, req_body(req));
	const char *email = read_email(&v, V_REQUIRED);
	if (!v_ok(&v))
		return v_reply(&v);
	struct account a = { 0 };
	bool failed;
	if (find_account(req, email, &a, &failed) && !a.verified && account_budget("resend", email)) {
		char code[7];
		if (!otp_issue(req->db, a.id, "verify_email", code) ||
		    !mail_verification_code(req->db, email, a.full_name ? a.full_name : a.username, code))
			return reply_db_error(req, "resend code");
	} else if (failed) {
		return reply_db_error(req, "find account");
	}
	return reply_ok(req, json_pack("{s:s}", "message",
		"If this address has an unverified account, a new code is on its way."));
}

static int rate_limited(req_t *req, int retry, const char *what)
{
	req->retry_after = retry;
	return reply_error(req, ERR_RATE_LIMITED,
			   arena_printf(req->arena, "%s. Try again in %d seconds.", what, retry));
}

/* A sign-in whose password is checked on the pool: then() answers with
 * ok saying whether the password matched (a is filled then). */
struct credentials {
	struct account a;
	const char *email, *password;
	bool found, ok;
	int (*then)(req_t *req, const struct account *a, bool ok);
};

static void verify_work(void *ctx)
{
	struct credentials *c = ctx;
	c->ok = password_matches(&c->a, c->found, c->password);
}

static int verify_done(req_t *req, void *ctx)
{
	struct credentials *c = ctx;
	if (cfg.rate_limit_enabled)
		login_throttle_result(c->email, req->ip, c->ok);
	return c->then(req, &c->a, c->ok);
}

/* Reads {email, password} and checks them against the account, the hash
 * on the pool; replies itself when the body is invalid, after too many
 * failures, or on a database error. */
static int check_credentials(req_t *req, int (*then)(req_t *req, const struct account *a, bool ok))
{
	valid_t v;
	v_init(&v, req, req_body(req));
	const char *email = read_email(&v, V_REQUIRED);
	const char *password = v_str(&v, "password", V_REQUIRED | V_NO_TRIM, 1, 1024);
	if (!v_ok(&v))
		return v_reply(&v);
	/* Failed sign-ins are limited before the password hash runs (see
	 * auth/throttle.h); the budgets follow RATE_LIMIT_ENABLED. */
	int retry;
	if (cfg.rate_limit_enabled && login_throttle_blocked(email, req->ip, &retry))
		return rate_limited(req, retry, "Too many failed sign-ins");
	struct credentials *c = arena_calloc(req->arena, sizeof(*c));
	bool failed;
	c->found = find_account(req, email, &c->a, &failed);
	if (failed)
		return reply_db_error(req, "find account");
	c->email = email;
	c->password = password;
	c->then = then;
	return pool_defer(req, POOL_PASSWORD, verify_work, verify_done, c);
}

static int login_checked(req_t *req, const struct account *ap, bool ok)
{
	const struct account a = *ap;
	if (!ok)
		return reply_error(req, ERR_INVALID_CREDENTIALS, "Incorrect email or password");
	/* Only someone with the password learns the account's state. */
	if (a.banned)
		return reply_error(req, ERR_FORBIDDEN, "This account is banned");
	if (!a.verified)
		return reply_error(req, ERR_EMAIL_NOT_VERIFIED, "Verify your email address first: enter the code we sent you");
	return session_reply_new(req, a.id, "user");
}

static int auth_login(req_t *req)
{
	return check_credentials(req, login_checked);
}

/* refresh and logout carry the cookie: a request from a foreign page is
 * refused (SameSite=Strict already keeps the cookie off it). */
/* The browser sent this request from another site: an Origin that is
 * neither one of CORS_ORIGINS nor this server as the browser addressed it
 * (http or https and the Host header), so that a page opened at
 * 127.0.0.1:8000 instead of PUBLIC_URL's localhost:8000 keeps its session;
 * or, without an Origin, Sec-Fetch-Site: cross-site.  A page elsewhere
 * cannot forge these headers. */
static bool foreign_origin(req_t *req)
{
	const char *origin = req_header(req, "Origin");
	if (req->origin)
		return false;
	/* A browser that leaves Origin off still names the initiator's site. */
	const char *site = req_header(req, "Sec-Fetch-Site");
	if (site && !strcasecmp(site, "cross-site"))
		return true;
	if (!origin)
		return false;
	const char *host = req_header(req, "Host");
	const char *rest = str_has_prefix(origin, "https://") ? origin + 8
			   : str_has_prefix(origin, "http://") ? origin + 7
								: NULL;
	return !(rest && host && *host && !strcasecmp(rest, host));
}

static const char *refresh_cookie(req_t *req)
{
	const char *c = req_cookie(req, REFRESH_COOKIE);
	return c && *c && strlen(c) < 128 ? c : NULL;
}

static int refresh_refused(req_t *req, const char *detail)
{
	session_clear_cookie(req);
	return reply_error(req, ERR_UNAUTHORIZED, detail);
}

/* A refresh token's row, with what its user's state says about it. */
struct refresh_row {
	int64_t id, user_id, expires, family_expires, replaced_at;
	const char *family, *successor;
	bool admin_scope, revoked, banned, deleted;
};

/* 1 found, 0 not found, -1 database error. */
static int load_refresh(req_t *req, const char *token, struct refresh_row *t)
{
	char hash[65];
	token_hash(token, hash);
	db_rows_t *r = DBQ(req->db,
		"SELECT t.id, t.user_id, t.family, t.scope, t.expires_at, t.family_expires_at, t.replaced_at,"
		" t.revoked_at IS NOT NULL, t.successor, u.is_banned, u.deleted_at IS NOT NULL, u.role"
		" FROM refresh_tokens t JOIN users u ON u.id = t.user_id WHERE t.token_hash = $1", P_TEXT(hash));
	if (!r)
		return -1;
	if (!db_next(r)) {
		bool failed = db_failed(r);
		db_done(r);
		return failed ? -1 : 0;
	}
	t->id = db_int(r, 0);
	t->user_id = db_int(r, 1);
	t->family = arena_strdup(req->arena, db_text(r, 2));
	t->admin_scope = !strcmp(db_text(r, 3), "admin") && !strcmp(db_text(r, 11), "admin");
	t->expires = db_int(r, 4);
	t->family_expires = db_int(r, 5);
	t->replaced_at = db_isnull(r, 6) ? 0 : db_int(r, 6);
	t->revoked = db_bool(r, 7);
	t->successor = db_text(r, 8) ? arena_strdup(req->arena, db_text(r, 8)) : NULL;
	t->banned = db_bool(r, 9);
	t->deleted = db_bool(r, 10);
	db_done(r);
	return 1;
}

/* A rotated-out token presented after the reuse interval, or a revoked
 * one: someone holds a copy, so the whole family ends. */
static int refresh_reuse(req_t *req, const struct refresh_row *t)
{
	DBX(req->db, "UPDATE refresh_tokens SET revoked_at = $2 WHERE family = $1 AND revoked_at IS NULL",
	    P_TEXT(t->family), P_INT(now_ms()));
	log_warn("refresh token reuse for user %lld: session family revoked", (long long)t->user_id);
	return refresh_refused(req, "This session has ended; sign in again");
}

/* The database failed while the token was being claimed: nothing is known
 * about a reuse, so the token stays as it was and the client retries. */
static int refresh_unavailable(req_t *req)
{
	log_warn("request %s: refresh token claim failed: %s", req->request_id,
		 req->db ? db_errmsg(req->db) : "no database");
	return reply_error(req, ERR_UNAVAILABLE, "The session could not be refreshed right now; try again shortly");
}

/* Answers for a live (not rotated) token t: expiry, ban, deletion. */
static int refresh_answer(req_t *req, const struct refresh_row *t, const char *token)
{
	int64_t now = now_ms();
	if (t->expires <= now || t->family_expires <= now || t->deleted)
		return refresh_refused(req, "This session has ended; sign in again");
	if (t->banned) {
		session_clear_cookie(req);
		return reply_error(req, ERR_FORBIDDEN, "This account is banned");
	}
	return session_reply_token(req, t->user_id, t->admin_scope ? "admin" : "user", token, t->expires);
}

/* t was rotated out.  Within REFRESH_GRACE_MS of the rotation (two tabs,
 * a retried request) it answers with the session it was rotated into: the
 * same successor cookie, followed along the family while each step is
 * itself within its interval.  Later, it is a reuse. */
static int refresh_grace(req_t *req, const char *token, struct refresh_row *t)
{
	char buf[2][48];
	const char *cur = token;
	for (int hop = 0; hop < 8; hop++) {
		if (t->revoked)
			return hop ? refresh_refused(req, "This session has ended; sign in again") : refresh_reuse(req, t);
		if (!t->replaced_at)
			return refresh_answer(req, t, cur);
		char *next = buf[hop % 2];
		if (now_ms() - t->replaced_at > REFRESH_GRACE_MS || !refresh_open_successor(cur, t->successor, next))
			return refresh_reuse(req, t);
		int found = load_refresh(req, next, t);
		if (found < 0)
			return refresh_unavailable(req);
		if (!found)
			return refresh_refused(req, "Invalid refresh token");
		cur = next;
	}
	return refresh_refused(req, "This session has ended; sign in again");
}

static int auth_refresh(req_t *req)
{
	if (foreign_origin(req))
		return reply_error(req, ERR_FORBIDDEN, "Cross-origin refresh refused");
	const char *token = refresh_cookie(req);
	if (!token)
		return reply_error(req, ERR_UNAUTHORIZED, "No refresh token");
	struct refresh_row t;
	int found = load_refresh(req, token, &t);
	if (found < 0)
		return reply_db_error(req, "find refresh token");
	if (!found)
		return refresh_refused(req, "Invalid refresh token");
	if (t.revoked || t.replaced_at)
		return refresh_grace(req, token, &t);
	int64_t now = now_ms();
	if (t.expires <= now || t.family_expires <= now || t.deleted || t.banned)
		return refresh_answer(req, &t, token); /* refuses */
	/* Claim the token and store its successor in one transaction: of two
	 * requests presenting it, one wins, and the other (which waits for the
	 * winner's commit) finds the successor ready for the reuse interval. */
	char next[48];
	token_random(next);
	const char *sealed = refresh_seal_successor(req, token, next);
	if (!sealed || !db_begin(req->db))
		return refresh_unavailable(req);
	int64_t rc = DBX(req->db,
		"UPDATE refresh_tokens SET replaced_at = $2, successor = $3"
		" WHERE id = $1 AND replaced_at IS NULL AND revoked_at IS NULL",
		P_INT(t.id), P_INT(now), P_TEXT(sealed));
	int64_t expires;
	if (rc == 1 && session_store(req, t.user_id, t.admin_scope ? "admin" : "user", t.family, t.family_expires,
				     next, &expires) && db_commit(req->db))
		return session_reply_token(req, t.user_id, t.admin_scope ? "admin" : "user", next, expires);
	db_rollback(req->db);
	if (rc != 0)
		return refresh_unavailable(req);
	/* Lost the race: serve the winner's session. */
	found = load_refresh(req, token, &t);
	if (found < 0)
		return refresh_unavailable(req);
	if (!found)
		return refresh_refused(req, "Invalid refresh token");
	if (!t.revoked && !t.replaced_at)
		return refresh_unavailable(req); /* the winner rolled back: try again */
	return refresh_grace(req, token, &t);
}

static int auth_logout(req_t *req)
{
	if (foreign_origin(req))
		return reply_error(req, ERR_FORBIDDEN, "Cross-origin logout refused");
	const char *token = refresh_cookie(req);
	if (token) {
		char hash[65];
		token_hash(token, hash);
		if (DBX(req->db,
			"UPDATE refresh_tokens SET revoked_at = $2 WHERE revoked_at IS NULL AND family ="
			" (SELECT family FROM refresh_tokens WHERE token_hash = $1)", P_TEXT(hash), P_INT(now_ms())) < 0)
			return reply_db_error(req, "logout");
	}
	session_clear_cookie(req);
	return reply_ok(req, json_pack("{s:s}", "message", "Signed out"));
}

static int forgot(req_t *req, bool admin)
{
	valid_t v;
	v_init(&v, req, req_body(req));
	const char *email = read_email(&v, V_REQUIRED);
	if (!v_ok(&v))
		return v_reply(&v);
	struct account a = { 0 };
	bool failed;
	bool found = find_account(req, email, &a, &failed);
	if (failed)
		return reply_db_error(req, "find account");
	if (found && (!admin || !strcmp(a.role, "admin")) && account_budget(admin ? "areset" : "reset", email)) {
		char token[48], hash[65];
		token_random(token);
		token_hash(token, hash);
		int64_t now = now_ms();
		const char *link = frontend_link(req, admin ? "/admin/reset-password" : "/auth/reset-password", token);
		if (DBX(req->db, "INSERT INTO password_resets (user_id, token_hash, for_admin, expires_at, created_at)"
			" VALUES ($1, $2, $3, $4, $5)",
			P_INT(a.id), P_TEXT(hash), P_BOOL(admin), P_INT(now + RESET_TTL_MS), P_INT(now)) != 1 ||
		    !mail_password_reset(req->db, email, link, admin))
			return reply_db_error(req, "password reset");
	}
	return reply_ok(req, json_pack("{s:s}", "message",
		"If an account exists for this address, we sent a link to reset the password."));
}

static int auth_forgot_password(req_t *req)
{
	return forgot(req, false);
}

static int auth_admin_forgot_password(req_t *req)
{
	return forgot(req, true);
}

static int reset_done(req_t *req, void *ctx);

static int reset(req_t *req, bool admin)
{
	valid_t v;
	v_init(&v, req, req_body(req));
	const char *token = v_str(&v, "token", V_REQUIRED, 1, 128);
	const char *password = read_new_password(&v, "new_password");
	if (!v_ok(&v))
		return v_reply(&v);
	/* Hashed first, the token claimed after: a busy pool (503) leaves
	 * the link usable. */
	struct new_account *n = arena_calloc(req->arena, sizeof(*n));
	n->password = password;
	n->token = token;
	n->admin = admin;
	return pool_defer(req, POOL_PASSWORD, hash_work, reset_done, n);
}

static int reset_done(req_t *req, void *ctx)
{
	struct new_account *n = ctx;
	const char *token = n->token, *hash = n->hash;
	bool admin = n->admin;
	if (!n->hashed)
		return reply_internal(req, "password hashing failed");
	char thash[65];
	token_hash(token, thash);
	int64_t now = now_ms(), user_id = 0;
	/* Claiming the token marks it used: a second use finds nothing. */
	int rc = DBS(req->db, &user_id,
		"UPDATE password_resets SET used_at = $2 WHERE token_hash = $1 AND used_at IS NULL"
		" AND expires_at > $2 AND for_admin = $3 RETURNING user_id",
		P_TEXT(thash), P_INT(now), P_BOOL(admin));
	if (rc < 0)
		return reply_db_error(req, "claim reset token");
	if (rc == 0)
		return reply_invalid1(req, "token", "This reset link is invalid, used or expired");
	if (!db_begin(req->db))
		return reply_db_error(req, "begin");
	if (DBX(req->db, "UPDATE users SET password_hash = $2, updated_at = $3 WHERE id = $1 AND deleted_at IS NULL",
		P_INT(user_id), P_TEXT(hash), P_INT(now)) != 1 ||
	    DBX(req->db, "UPDATE password_resets SET used_at = $2 WHERE user_id = $1 AND used_at IS NULL",
		P_INT(user_id), P_INT(now)) < 0 ||
	    !session_revoke_all(req->db, user_id) || !db_commit(req->db)) {
		db_rollback(req->db);
		return reply_db_error(req, "reset password");
	}
	return reply_ok(req, json_pack("{s:s}", "message", "Password changed. Sign in with the new password."));
}

static int auth_reset_password(req_t *req)
{
	return reset(req, false);
}

static int auth_admin_reset_password(req_t *req)
{
	return reset(req, true);
}

/* Admin codes: one alive at a time; a new one is mailed at most once a
 * minute (a repeated login within the minute answers the same 200 and
 * mails nothing: the code already sent still works); and 5 wrong codes per
 * account per 15 minutes, counted apart from the code so that a new code
 * does not reset them, then 429 until the window passes. */
#define ADMIN_OTP_RESEND_MS ((int64_t)60 * 1000)
#define ADMIN_OTP_MAX_WRONG 5
#define ADMIN_OTP_WINDOW_MS ((int64_t)15 * 60 * 1000)

static int admin_login_checked(req_t *req, const struct account *ap, bool ok)
{
	const struct account a = *ap;
	/* A non-admin's right password fails exactly like a wrong one. */
	if (!ok || strcmp(a.role, "admin") || a.banned)
		return reply_error(req, ERR_INVALID_CREDENTIALS, "Incorrect email or password");
	char code[7];
	if (!db_begin(req->db))
		return reply_db_error(req, "begin");
	int issued = otp_issue_limited(req->db, a.id, "admin_login", ADMIN_OTP_RESEND_MS, code);
	if (issued < 0 || (issued == 1 && !mail_admin_code(req->db, a.email, code)) || !db_commit(req->db)) {
		db_rollback(req->db);
		return reply_db_error(req, "admin code");
	}
	if (issued == 1)
		mail_wake();
	return reply_ok(req, json_pack("{s:b, s:s}", "otp_required", 1, "message",
				       "Enter the 6-digit code we sent to your email address."));
}

static int auth_admin_login(req_t *req)
{
	return check_credentials(req, admin_login_checked);
}

static int auth_admin_verify_otp(req_t *req)
{
	const char *email, *code;
	if (!read_email_code(req, &email, &code))
		return DONE;
	struct account a = { 0 };
	bool failed;
	bool found = find_account(req, email, &a, &failed);
	if (failed)
		return reply_db_error(req, "find account");
	if (!found || strcmp(a.role, "admin") || a.banned)
		return reply_error(req, ERR_INVALID_CREDENTIALS, "Invalid or expired code");
	/* With no live code there is nothing to guess: such tries are not
	 * counted, so that nobody who merely knows an admin's address can spend
	 * the admin's tries before they have even signed in. */
	switch (otp_live(req->db, a.id, "admin_login")) {
	case -1:
		return reply_db_error(req, "find code");
	case 0:
		return reply_error(req, ERR_INVALID_CREDENTIALS, "Invalid or expired code");
	default:
		break;
	}
	int retry = 0;
	switch (otp_claim_try(req->db, a.id, "admin_login", ADMIN_OTP_MAX_WRONG, ADMIN_OTP_WINDOW_MS, &retry)) {
	case -1:
		return reply_db_error(req, "count code tries");
	case 0:
		return rate_limited(req, retry, "Too many wrong codes");
	default:
		break;
	}
	switch (otp_check(req->db, a.id, "admin_login", code)) {
	case OTP_OK:
		otp_tries_clear(req->db, a.id, "admin_login");
		return session_reply_new(req, a.id, "admin");
	case OTP_ERROR:
		return reply_db_error(req, "check code");
	default:
		return reply_error(req, ERR_INVALID_CREDENTIALS, "Invalid or expired code");
	}
}

#define AUTH_ROUTE(m, path, fn, summary) \
	{ m, path, fn, ACCESS_PUBLIC, RL_AUTH, BODY_JSON, 0, 0, summary }

const route_t auth_routes[] = {
	AUTH_ROUTE(M_POST, "/api/auth/register", auth_register, "Create an account; a code is mailed"),
	AUTH_ROUTE(M_POST, "/api/auth/verify-email", auth_verify_email, "Verify the email with the code; signs in"),
	AUTH_ROUTE(M_POST, "/api/auth/resend-verification", auth_resend_verification, "Mail a new code"),
	AUTH_ROUTE(M_POST, "/api/auth/login", auth_login, "Sign in"),
	{ M_POST, "/api/auth/refresh", auth_refresh, ACCESS_PUBLIC, RL_SESSION, BODY_NONE, 0, 0, "New access token from the refresh cookie (rotated)" },
	{ M_POST, "/api/auth/logout", auth_logout, ACCESS_PUBLIC, RL_SESSION, BODY_NONE, 0, 0, "End this session" },
	AUTH_ROUTE(M_POST, "/api/auth/forgot-password", auth_forgot_password, "Mail a password reset link"),
	AUTH_ROUTE(M_POST, "/api/auth/reset-password", auth_reset_password, "Set a new password with the link's token"),
	AUTH_ROUTE(M_POST, "/api/auth/admin/login", auth_admin_login, "Admin sign-in, first factor; a code is mailed"),
	AUTH_ROUTE(M_POST, "/api/auth/admin/verify-otp", auth_admin_verify_otp, "Admin sign-in, second factor"),
	AUTH_ROUTE(M_POST, "/api/auth/admin/forgot-password", auth_admin_forgot_password, "Mail an admin password reset link"),
	AUTH_ROUTE(M_POST, "/api/auth/admin/reset-password", auth_admin_reset_password, "Set a new admin password with the link's token"),
};
EXPORT_ROUTES(auth_routes);
