/*
 * oauth.c: sign-in with Google, GitHub and Discord (authorization code
 * flow, optionally with PKCE and a server-issued state).
 *
 * The provider account is found by its link, else linked to the live
 * account with the same verified email, else a new account is created.
 * Linking to an account whose email was never verified also removes its
 * password and ends its sessions: whoever registered that address first
 * with a password of their own must not keep a way in (account
 * pre-hijacking).  The provider calls (oauth_fetch_profile) happen before
 * any transaction is opened.
 */
#include "api.h"
#include "../auth/account.h"
#include "../auth/identity.h"
#include "../auth/oauth.h"
#include "../core/config.h"
#include "../core/log.h"
#include "../core/util.h"
#include "../http/pool.h"
#include "../http/reply.h"
#include "../http/request.h"
#include "../http/validate.h"
#include "../svc/audit.h"
#include "../svc/settings.h"

#define STATE_TTL_MS ((int64_t)10 * 60 * 1000)
#define REDIRECT_MAX 2048

/* The provider of the path, or NULL after answering 404. */
static const oauth_provider_t *provider_or_404(req_t *req)
{
	const oauth_provider_t *p = oauth_provider(req_param(req, "provider"));
	if (!p)
		reply_error(req, ERR_NOT_FOUND, "Unknown sign-in provider");
	return p;
}

/* The provider, or NULL after answering 503 when it has no client id and
 * secret. */
static const oauth_provider_t *configured_or_503(req_t *req, const oauth_provider_t *p)
{
	if (oauth_configured(p))
		return p;
	reply_error(req, ERR_UNAVAILABLE, arena_printf(req->arena, "Sign-in with %s is not configured", oauth_label(p)));
	return NULL;
}

/* uri is base itself or below it ("base/..."): "https://app.example" must
 * not admit "https://app.example.evil" or "https://app.example@evil". */
static bool under(const char *uri, const char *base)
{
	size_t n = strlen(base);
	return n && strcmp(base, "*") && !strncmp(uri, base, n) && (uri[n] == '\0' || uri[n] == '/');
}

/* Only our own pages may receive the code: no open redirect.  Spaces,
 * quotes, backslashes, fragments and raw non-ASCII are refused outright. */
static bool redirect_allowed(const char *uri)
{
	for (const unsigned char *u = (const unsigned char *)uri; *u; u++)
		if (*u <= 0x20 || *u >= 0x7f || strchr("\"'<>\\#", *u))
			return false;
	if (under(uri, cfg.frontend_url) || under(uri, cfg.public_url))
		return true;
	for (size_t i = 0; i < cfg.n_cors_origins; i++)
		if (under(uri, cfg.cors_origins[i]))
			return true;
	return false;
}

static void check_redirect(valid_t *v, const char *uri)
{
	if (uri && !redirect_allowed(uri))
		v_error(v, "redirect_uri", "Must be a page of this site");
}

/* PKCE (RFC 7636): 43-128 of [A-Za-z0-9-._~]. */
static const char *read_verifier(valid_t *v)
{
	const char *s = v_str(v, "code_verifier", V_NO_TRIM, 43, 128);
	if (s && strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~") != strlen(s)) {
		v_error(v, "code_verifier", "Use only letters, digits and - . _ ~");
		return NULL;
	}
	return s;
}

static int oauth_authorize(req_t *req)
{
	const oauth_provider_t *p = provider_or_404(req);
	if (!p)
		return DONE;
	valid_t v;
	v_init(&v, req, NULL);
	const char *redirect_uri = q_str(&v, "redirect_uri", REDIRECT_MAX);
	if (v_ok(&v) && !redirect_uri)
		v_error(&v, "redirect_uri", "This field is required");
	check_redirect(&v, redirect_uri);
	if (!v_ok(&v))
		return v_reply(&v);
	if (!configured_or_503(req, p))
		return DONE;

	char state[48], hash[65];
	token_random(state);
	token_hash(state, hash);
	int64_t now = now_ms();
	/* States are only ever looked up by hash; expired ones go here. */
	if (DBX(req->db, "DELETE FROM oauth_states WHERE expires_at <= $1", P_INT(now)) < 0 ||
	    DBX(req->db, "INSERT INTO oauth_states (state, provider, redirect_uri, expires_at) VALUES ($1, $2, $3, $4)",
		P_TEXT(hash), P_TEXT(oauth_name(p)), P_TEXT(redirect_uri), P_INT(now + STATE_TTL_MS)) != 1)
		return reply_db_error(req, "store oauth state");
	const char *url = oauth_authorize_url(req->arena, p, redirect_uri, state);
	if (!url)
		return reply_internal(req, "oauth authorize url");
	return reply_ok(req, json_pack("{s:s, s:s}", "url", url, "state", state));
}

/* Consumes a state issued by authorize-url: false (with a field error)
 * when it is unknown, used, expired, or for another provider or page. */
static bool claim_state(valid_t *v, const oauth_provider_t *p, const char *state, const char *redirect_uri,
			bool *failed)
{
	*failed = false;
	char hash[65];
	token_hash(state, hash);
	db_rows_t *r = DBQ(v->req->db, "DELETE FROM oauth_states WHERE state = $1 RETURNING provider, redirect_uri, expires_at",
			   P_TEXT(hash));
	if (!r) {
		*failed = true;
		return false;
	}
	bool ok = false;
	if (db_next(r))
		ok = !strcmp(db_text(r, 0), oauth_name(p)) && !strcmp(db_text(r, 1), redirect_uri) &&
		     db_int(r, 2) > now_ms();
	else
		*failed = db_failed(r);
	db_done(r);
	if (!ok && !*failed)
		v_error(v, "state", "This sign-in attempt is invalid or has expired; start again");
	return ok;
}

/* A username from the profile: the login, else the name, else the email's
 * local part; lowercased, other characters as "_", 3-30 long. */
static void username_base(const oauth_profile_t *pr, char out[USERNAME_MAX + 1])
{
	const char *src = pr->login ? pr->login : pr->name ? pr->name : pr->email ? pr->email : "user";
	const char *end = src == pr->email ? strchr(src, '@') : NULL;
	size_t n = 0;
	for (const char *s = src; *s && s != end && n < USERNAME_MAX; s++) {
		char c = *s;
		if ((unsigned char)c >= 0x80 && ((unsigned char)c & 0xc0) == 0x80)
			continue; /* one "_" per UTF-8 character */
		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		out[n++] = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ? c : '_';
	}
	while (n < USERNAME_MIN)
		out[n++] = '_';
	out[n] = '\0';
}

/* The base, or the base with "_N" when taken; NULL on a database error. */
static const char *unique_username(req_t *req, const oauth_profile_t *pr)
{
	char base[USERNAME_MAX + 1], cand[USERNAME_MAX + 1];
	username_base(pr, base);
	for (int i = 1; i <= 21; i++) {
		char suffix[16] = "";
		if (i == 21) {
			suffix[0] = '_';
			random_hex(suffix + 1, 4);
		} else if (i > 1) {
			snprintf(suffix, sizeof(suffix), "_%d", i - 1);
		}
		snprintf(cand, sizeof(cand), "%.*s%s", (int)(USERNAME_MAX - strlen(suffix)), base, suffix);
		int64_t taken = 0;
		if (DBS(req->db, &taken, "SELECT COUNT(*) FROM users WHERE username_lower = $1", P_TEXT(cand)) < 0)
			return NULL;
		if (!taken)
			return arena_strdup(req->arena, cand);
	}
	return arena_strdup(req->arena, cand); /* a random suffix that clashes: the insert says 409 */
}

struct account {
	int64_t id;
	bool verified, banned;
};

/* Reads one account from r (which may be NULL after a failed query):
 * 1 found, 0 none, -1 database error. */
static int read_account(db_rows_t *r, struct account *a)
{
	if (!r)
		return -1;
	int found = db_next(r) ? 1 : db_failed(r) ? -1 : 0;
	if (found == 1) {
		a->id = db_int(r, 0);
		a->verified = db_bool(r, 1);
		a->banned = db_bool(r, 2);
	}
	db_done(r);
	return found;
}

static bool link_account(req_t *req, const oauth_provider_t *p, const oauth_profile_t *pr, int64_t user_id)
{
	return DBX(req->db, "INSERT INTO oauth_accounts (user_id, provider, provider_user_id, email, created_at)"
		   " VALUES ($1, $2, $3, $4, $5)",
		   P_INT(user_id), P_TEXT(oauth_name(p)), P_TEXT(pr->id), P_TEXT(pr->email), P_INT(now_ms())) == 1;
}

/* An unverified account taken over by the address's proven owner: the
 * password someone else may have set goes, and so do its sessions. */
static bool claim_unverified(req_t *req, int64_t user_id)
{
	return DBX(req->db, "UPDATE users SET password_hash = NULL, is_email_verified = TRUE, updated_at = $2"
		   " WHERE id = $1", P_INT(user_id), P_INT(now_ms())) == 1 &&
	       DBX(req->db, "DELETE FROM email_codes WHERE user_id = $1", P_INT(user_id)) >= 0 &&
	       DBX(req->db, "DELETE FROM password_resets WHERE user_id = $1", P_INT(user_id)) >= 0 &&
	       session_revoke_all(req->db, user_id);
}

static int64_t create_user(req_t *req, const oauth_provider_t *p, const oauth_profile_t *pr, const char *user_type)
{
	const char *username = unique_username(req, pr);
	int64_t id = 0, now = now_ms();
	if (!username || DBS(req->db, &id,
		"INSERT INTO users (email, email_normalized, username, username_lower, password_hash, full_name,"
		" avatar_url, user_type, is_email_verified, created_at, updated_at)"
		" VALUES ($1, $1, $2, $2, NULL, $3, $4, $5, TRUE, $6, $6) RETURNING id",
		P_TEXT(pr->email), P_TEXT(username), P_TEXT(pr->name), P_TEXT(pr->avatar_url), P_TEXT(user_type),
		P_INT(now)) != 1)
		return 0;
	log_info("new account %lld by sign-in with %s", (long long)id, oauth_name(p));
	return id;
}

enum signin { SIGNIN_OK, SIGNIN_BANNED, SIGNIN_CLOSED, SIGNIN_FAILED };

/* Finds, links or creates the account, in one transaction. */
static enum signin sign_in(req_t *req, const oauth_provider_t *p, const oauth_profile_t *pr,
			   const char *user_type, int64_t *user_id)
{
	struct account a = { 0 };
	if (!db_begin(req->db))
		return SIGNIN_FAILED;
	int found = read_account(DBQ(req->db,
		"SELECT u.id, u.is_email_verified, u.is_banned FROM oauth_accounts o JOIN users u ON u.id = o.user_id"
		" WHERE o.provider = $1 AND o.provider_user_id = $2 AND u.deleted_at IS NULL",
		P_TEXT(oauth_name(p)), P_TEXT(pr->id)), &a);
	bool linked = found == 1;
	if (found == 0)
		found = read_account(DBQ(req->db,
			"SELECT id, is_email_verified, is_banned FROM users WHERE email_normalized = $1 AND deleted_at IS NULL",
			P_TEXT(pr->email)), &a);
	if (found < 0)
		goto fail;
	if (found && a.banned) {
		db_rollback(req->db);
		return SIGNIN_BANNED;
	}
	if (!found) {
		/* A new account is a sign-up: refused while registration is
		 * closed (admin settings); existing accounts still sign in. */
		platform_settings_t ps;
		settings_get(req->db, &ps);
		if (!ps.registration_open) {
			db_rollback(req->db);
			return SIGNIN_CLOSED;
		}
		if (!(a.id = create_user(req, p, pr, user_type)))
			goto fail;
		audit_log_as(req->db, req, a.id, "user.register", "user", a.id,
			     json_pack("{s:s, s:s}", "provider", oauth_name(p), "user_type", user_type));
	}
	if (!linked && !link_account(req, p, pr, a.id))
		goto fail;
	if (found && !linked && !a.verified && !claim_unverified(req, a.id))
		goto fail;
	if (!db_commit(req->db))
		goto fail;
	if (found && !linked)
		log_info("user %lld linked a %s sign-in%s", (long long)a.id, oauth_name(p),
			 a.verified ? "" : " (unverified account claimed: password removed)");
	*user_id = a.id;
	return SIGNIN_OK;
fail:
	db_rollback(req->db);
	return SIGNIN_FAILED;
}

/* One sign-in's provider round trip, done on the pool. */
struct signin_job {
	const oauth_provider_t *p;
	oauth_grant_t g;
	const char *user_type;
	arena_t *arena;
	enum oauth_status status;
	oauth_profile_t pr;
};

static void fetch_profile_work(void *ctx);
static int sign_in_done(req_t *req, void *ctx);

static int oauth_sign_in(req_t *req)
{
	const oauth_provider_t *p = provider_or_404(req);
	if (!p)
		return DONE;
	valid_t v;
	v_init(&v, req, req_body(req));
	static const char *const types[] = { "buyer", "creator", NULL };
	oauth_grant_t g;
	g.code = v_str(&v, "code", V_REQUIRED, 1, 2048);
	g.redirect_uri = v_str(&v, "redirect_uri", V_REQUIRED, 1, REDIRECT_MAX);
	check_redirect(&v, g.redirect_uri);
	g.code_verifier = read_verifier(&v);
	const char *state = v_str(&v, "state", 0, 1, 128);
	const char *user_type = v_enum(&v, "user_type", 0, types, "buyer");
	if (!v_ok(&v))
		return v_reply(&v);
	if (!configured_or_503(req, p))
		return DONE;
	bool failed;
	if (state && !claim_state(&v, p, state, g.redirect_uri, &failed))
		return failed ? reply_db_error(req, "claim oauth state") : v_reply(&v);

	/* The provider round trips (code exchange, profile) can take seconds:
	 * they run on the pool, off this poll thread. */
	struct signin_job *job = arena_calloc(req->arena, sizeof(*job));
	job->p = p;
	job->g = g;
	job->user_type = user_type;
	job->arena = req->arena;
	return pool_defer(req, POOL_NET, fetch_profile_work, sign_in_done, job);
}

static void fetch_profile_work(void *ctx)
{
	struct signin_job *job = ctx;
	job->status = oauth_fetch_profile(job->arena, job->p, &job->g, &job->pr);
}

/* Back on the poll thread, with the provider's answer. */
static int sign_in_done(req_t *req, void *ctx)
{
	struct signin_job *job = ctx;
	const oauth_provider_t *p = job->p;
	switch (job->status) {
	case OAUTH_OK:
		break;
	case OAUTH_REJECTED:
		return reply_error(req, ERR_INVALID_CREDENTIALS,
				   arena_printf(req->arena, "The sign-in code was rejected by %s", oauth_label(p)));
	default:
		return reply_error(req, ERR_BAD_GATEWAY, arena_printf(req->arena, "Could not reach %s", oauth_label(p)));
	}
	const oauth_profile_t *pr = &job->pr;
	if (!pr->email)
		return reply_invalid1(req, "email",
				      arena_printf(req->arena, "Your %s account has no verified email address", oauth_label(p)));

	int64_t user_id = 0;
	enum signin s = sign_in(req, p, pr, job->user_type, &user_id);
	/* Two first sign-ins racing (same account or same new username): the
	 * loser's insert clashes; the second attempt finds the winner's rows. */
	if (s == SIGNIN_FAILED && db_error(req->db) == DB_ERR_UNIQUE)
		s = sign_in(req, p, pr, job->user_type, &user_id);
	if (s == SIGNIN_BANNED)
		return reply_error(req, ERR_FORBIDDEN, "This account is banned");
	if (s == SIGNIN_CLOSED)
		return reply_error(req, ERR_FORBIDDEN, "Registration is closed for now");
	if (s == SIGNIN_FAILED)
		return reply_db_error(req, "oauth sign-in");
	return session_reply_new(req, user_id, "user");
}

/* The providers with a client id and secret, for the sign-in page's
 * buttons: names and labels only, never a client id. */
static int oauth_providers(req_t *req)
{
	static const char *const names[] = { "google", "github", "discord" };
	json_t *list = json_array();
	for (size_t i = 0; i < ARRAY_LEN(names); i++) {
		const oauth_provider_t *p = oauth_provider(names[i]);
		if (p && oauth_configured(p))
			json_array_append_new(list, json_pack("{s:s, s:s}", "name", oauth_name(p), "label", oauth_label(p)));
	}
	return reply_ok(req, json_pack("{s:o}", "providers", list));
}

#define OAUTH_ROUTE(m, path, fn, body, summary) \
	{ m, path, fn, ACCESS_PUBLIC, RL_AUTH, body, 0, 0, summary }

const route_t oauth_routes[] = {
	{ M_GET, "/api/auth/oauth/providers", oauth_providers, ACCESS_PUBLIC, RL_GENERAL, BODY_NONE, 0, ROUTE_NO_DB,
	  "The configured sign-in providers" },
	OAUTH_ROUTE(M_GET, "/api/auth/oauth/{provider}/authorize-url", oauth_authorize, BODY_NONE,
		    "The provider's sign-in page URL, with a fresh state"),
	OAUTH_ROUTE(M_POST, "/api/auth/oauth/{provider}", oauth_sign_in, BODY_JSON,
		    "Sign in with the provider's authorization code"),
};
EXPORT_ROUTES(oauth_routes);
