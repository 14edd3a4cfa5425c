#include <sodium.h>
#include "account.h"
#include "token.h"
#include "../core/config.h"
#include "../core/log.h"
#include "../core/util.h"
#include "../http/reply.h"
#include "../http/validate.h"

void token_hash(const char *token, char out[65])
{
	unsigned char h[crypto_hash_sha256_BYTES];
	crypto_hash_sha256(h, (const unsigned char *)token, strlen(token));
	sodium_bin2hex(out, 65, h, sizeof(h));
}

void token_random(char out[48])
{
	unsigned char raw[32];
	random_bytes(raw, sizeof(raw));
	sodium_bin2base64(out, 48, raw, sizeof(raw), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

static void set_cookie(req_t *req, const char *token, int64_t max_age_s)
{
	req_add_header(req, "Set-Cookie",
		       arena_printf(req->arena, "%s=%s; Path=/api/auth; Max-Age=%lld; HttpOnly; SameSite=Strict%s",
				    REFRESH_COOKIE, token, (long long)max_age_s, cfg.https ? "; Secure" : ""));
}

void session_clear_cookie(req_t *req)
{
	set_cookie(req, "", 0);
}

bool session_store(req_t *req, int64_t user_id, const char *scope, const char *family,
		   int64_t family_expires_at, const char *token, int64_t *expires_out)
{
	char hash[65];
	token_hash(token, hash);
	int64_t now = now_ms();
	int64_t expires = MIN(now + REFRESH_TTL_MS, family_expires_at);
	const char *ua = req_header(req, "User-Agent");
	char ua_short[256];
	snprintf(ua_short, sizeof(ua_short), "%s", ua ? ua : "");
	*expires_out = expires;
	return DBX(req->db,
		   "INSERT INTO refresh_tokens (user_id, family, scope, token_hash, expires_at, family_expires_at,"
		   " ip, user_agent, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
		   P_INT(user_id), P_TEXT(family), P_TEXT(scope), P_TEXT(hash), P_INT(expires),
		   P_INT(family_expires_at), P_TEXT(req->ip), P_TEXT(ua_short), P_INT(now)) == 1;
}

int session_reply_token(req_t *req, int64_t user_id, const char *scope, const char *refresh, int64_t expires)
{
	int64_t version = 0;
	int found = DBS(req->db, &version, "SELECT token_version FROM users WHERE id = $1", P_INT(user_id));
	if (found < 0)
		return reply_db_error(req, "read the token version");
	char *access = found ? token_issue(user_id, scope, ACCESS_TOKEN_TTL_S, version) : NULL;
	if (!access)
		return reply_internal(req, found ? "token_issue failed" : "session for a missing user");
	json_t *user = user_json(req->db, user_id, true);
	if (!user) {
		free(access);
		return db_error(req->db) != DB_OK ? reply_db_error(req, "read the user")
						  : reply_internal(req, "session for a missing user");
	}
	set_cookie(req, refresh, MAX(1, (expires - now_ms()) / 1000));
	json_t *body = json_pack("{s:s, s:s, s:i, s:o}", "access_token", access, "token_type", "bearer",
				 "expires_in", ACCESS_TOKEN_TTL_S, "user", user);
	free(access);
	return reply_ok(req, body);
}

/* Inserts a refresh token of the family and answers with both tokens. */
static int issue(req_t *req, int64_t user_id, const char *scope, const char *family, int64_t family_expires_at)
{
	char refresh[48];
	token_random(refresh);
	int64_t expires;
	if (!session_store(req, user_id, scope, family, family_expires_at, refresh, &expires))
		return reply_db_error(req, "store refresh token");
	return session_reply_token(req, user_id, scope, refresh, expires);
}

int session_reply_new(req_t *req, int64_t user_id, const char *scope)
{
	char family[33];
	random_hex(family, 16);
	DBX(req->db, "UPDATE users SET last_login_at = $2 WHERE id = $1", P_INT(user_id), P_INT(now_ms()));
	return issue(req, user_id, scope, family, now_ms() + REFRESH_TTL_MS);
}

/* The key that seals a token's successor: from the token itself and the
 * server secret, so neither a leaked table nor a leaked old cookie alone
 * opens it... and whoever holds the old token within the reuse interval
 * is, by definition, the session. */
static void successor_key(const char *old_token, unsigned char key[crypto_secretbox_KEYBYTES])
{
	crypto_generichash_state st;
	crypto_generichash_init(&st, NULL, 0, crypto_secretbox_KEYBYTES);
	crypto_generichash_update(&st, (const unsigned char *)"hwc3d refresh successor\n", 24);
	crypto_generichash_update(&st, cfg.jwt_secret, cfg.jwt_secret_len);
	crypto_generichash_update(&st, (const unsigned char *)old_token, strlen(old_token));
	crypto_generichash_final(&st, key, crypto_secretbox_KEYBYTES);
}

const char *refresh_seal_successor(req_t *req, const char *old_token, const char *new_token)
{
	unsigned char key[crypto_secretbox_KEYBYTES];
	successor_key(old_token, key);
	size_t mlen = strlen(new_token);
	unsigned char buf[crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + 64];
	if (mlen > 64)
		return NULL;
	randombytes_buf(buf, crypto_secretbox_NONCEBYTES);
	crypto_secretbox_easy(buf + crypto_secretbox_NONCEBYTES, (const unsigned char *)new_token, mlen, buf, key);
	sodium_memzero(key, sizeof(key));
	size_t blen = crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + mlen;
	char *hex = arena_alloc(req->arena, blen * 2 + 1);
	sodium_bin2hex(hex, blen * 2 + 1, buf, blen);
	return hex;
}

bool refresh_open_successor(const char *old_token, const char *sealed, char out[48])
{
	unsigned char buf[crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + 64];
	size_t blen;
	if (!sealed || sodium_hex2bin(buf, sizeof(buf), sealed, strlen(sealed), NULL, &blen, NULL) != 0 ||
	    blen <= crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES ||
	    blen - crypto_secretbox_NONCEBYTES - crypto_secretbox_MACBYTES >= 48)
		return false;
	unsigned char key[crypto_secretbox_KEYBYTES];
	successor_key(old_token, key);
	size_t mlen = blen - crypto_secretbox_NONCEBYTES - crypto_secretbox_MACBYTES;
	bool ok = crypto_secretbox_open_easy((unsigned char *)out, buf + crypto_secretbox_NONCEBYTES,
					     blen - crypto_secretbox_NONCEBYTES, buf, key) == 0;
	sodium_memzero(key, sizeof(key));
	out[ok ? mlen : 0] = '\0';
	return ok;
}

bool session_revoke_all(db_t *db, int64_t user_id)
{
	int64_t now = now_ms();
	return DBX(db, "UPDATE refresh_tokens SET revoked_at = $2 WHERE user_id = $1 AND revoked_at IS NULL",
		   P_INT(user_id), P_INT(now)) >= 0 &&
	       DBX(db, "UPDATE users SET tokens_valid_after = $2, token_version = token_version + 1 WHERE id = $1",
		   P_INT(user_id), P_INT(now)) >= 0;
}

static void code_mac(int64_t user_id, const char *purpose, const char *code, char out[65])
{
	char msg[128];
	snprintf(msg, sizeof(msg), "otp:%s:%lld:%s", purpose, (long long)user_id, code);
	unsigned char mac[crypto_auth_hmacsha256_BYTES];
	crypto_auth_hmacsha256_state st;
	crypto_auth_hmacsha256_init(&st, cfg.jwt_secret, cfg.jwt_secret_len);
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)msg, strlen(msg));
	crypto_auth_hmacsha256_final(&st, mac);
	sodium_bin2hex(out, 65, mac, sizeof(mac));
}

bool otp_issue(db_t *db, int64_t user_id, const char *purpose, char code[7])
{
	/* Uniform over 000000..999999 (randombytes_uniform has no modulo bias). */
	snprintf(code, 7, "%06u", randombytes_uniform(1000000));
	char mac[65];
	code_mac(user_id, purpose, code, mac);
	int64_t now = now_ms();
	if (DBX(db, "DELETE FROM email_codes WHERE user_id = $1 AND purpose = $2", P_INT(user_id), P_TEXT(purpose)) < 0)
		return false;
	return DBX(db, "INSERT INTO email_codes (user_id, purpose, code_hash, expires_at, created_at)"
		   " VALUES ($1, $2, $3, $4, $5)",
		   P_INT(user_id), P_TEXT(purpose), P_TEXT(mac), P_INT(now + OTP_TTL_MS), P_INT(now)) == 1;
}

enum otp_result otp_check(db_t *db, int64_t user_id, const char *purpose, const char *code)
{
	bool digits = strlen(code) == 6;
	for (const char *p = code; digits && *p; p++)
		digits = *p >= '0' && *p <= '9';
	int64_t now = now_ms();
	/* Count the try first, atomically: parallel guesses cannot share one. */
	db_rows_t *r = DBQ(db,
		"UPDATE email_codes SET attempts = attempts + 1 WHERE user_id = $1 AND purpose = $2"
		" AND expires_at > $3 AND attempts < $4 RETURNING id, code_hash",
		P_INT(user_id), P_TEXT(purpose), P_INT(now), P_INT(OTP_MAX_ATTEMPTS));
	if (!r)
		return OTP_ERROR;
	if (!db_next(r)) {
		db_done(r);
		return OTP_NONE;
	}
	int64_t id = db_int(r, 0);
	char stored[65];
	snprintf(stored, sizeof(stored), "%s", db_text(r, 1));
	db_done(r);
	char mac[65];
	code_mac(user_id, purpose, digits ? code : "x", mac);
	if (digits && sodium_memcmp(mac, stored, 64) == 0) {
		DBX(db, "DELETE FROM email_codes WHERE id = $1", P_INT(id));
		return OTP_OK;
	}
	/* The fifth wrong try burns the code. */
	DBX(db, "DELETE FROM email_codes WHERE id = $1 AND attempts >= $2", P_INT(id), P_INT(OTP_MAX_ATTEMPTS));
	return OTP_WRONG;
}

int otp_issue_limited(db_t *db, int64_t user_id, const char *purpose, int64_t min_interval_ms, char code[7])
{
	snprintf(code, 7, "%06u", randombytes_uniform(1000000));
	char mac[65];
	code_mac(user_id, purpose, code, mac);
	int64_t now = now_ms(), id = 0;
	/* One statement: of two logins at once, one replaces the code. */
	int rc = DBS(db, &id,
		"INSERT INTO email_codes (user_id, purpose, code_hash, attempts, expires_at, created_at)"
		" VALUES ($1, $2, $3, 0, $4, $5)"
		" ON CONFLICT (user_id, purpose) DO UPDATE SET code_hash = excluded.code_hash, attempts = 0,"
		" expires_at = excluded.expires_at, created_at = excluded.created_at"
		" WHERE email_codes.created_at <= $6 OR email_codes.expires_at <= $5 OR email_codes.attempts >= $7"
		" RETURNING id",
		P_INT(user_id), P_TEXT(purpose), P_TEXT(mac), P_INT(now + OTP_TTL_MS), P_INT(now),
		P_INT(now - min_interval_ms), P_INT(OTP_MAX_ATTEMPTS));
	if (rc == 0)
		code[0] = '\0';
	return rc;
}

int otp_live(db_t *db, int64_t user_id, const char *purpose)
{
	int64_t n = 0;
	int rc = DBS(db, &n, "SELECT COUNT(*) FROM email_codes WHERE user_id = $1 AND purpose = $2"
		     " AND expires_at > $3 AND attempts < $4",
		     P_INT(user_id), P_TEXT(purpose), P_INT(now_ms()), P_INT(OTP_MAX_ATTEMPTS));
	return rc < 0 ? -1 : n > 0;
}

int otp_claim_try(db_t *db, int64_t user_id, const char *purpose, int max_tries, int64_t window_ms,
		  int *retry_after_s)
{
	int64_t now = now_ms();
	db_rows_t *r = DBQ(db,
		"INSERT INTO otp_failures (user_id, purpose, window_start, failures) VALUES ($1, $2, $3, 1)"
		" ON CONFLICT (user_id, purpose) DO UPDATE SET"
		" failures = CASE WHEN otp_failures.window_start <= $4 THEN 1"
		"  WHEN otp_failures.failures >= 1000000 THEN otp_failures.failures"
		"  ELSE otp_failures.failures + 1 END,"
		" window_start = CASE WHEN otp_failures.window_start <= $4 THEN $3 ELSE otp_failures.window_start END"
		" RETURNING failures, window_start",
		P_INT(user_id), P_TEXT(purpose), P_INT(now), P_INT(now - window_ms));
	if (!r)
		return -1;
	if (!db_next(r)) {
		bool failed = db_failed(r);
		db_done(r);
		return failed ? -1 : 1;
	}
	int64_t tries = db_int(r, 0), start = db_int(r, 1);
	db_done(r);
	if (tries <= max_tries)
		return 1;
	*retry_after_s = (int)MAX(1, (start + window_ms - now + 999) / 1000);
	return 0;
}

bool otp_tries_clear(db_t *db, int64_t user_id, const char *purpose)
{
	return DBX(db, "DELETE FROM otp_failures WHERE user_id = $1 AND purpose = $2",
		   P_INT(user_id), P_TEXT(purpose)) >= 0;
}

json_t *user_json_row(db_rows_t *r)
{
	json_error_t jerr;
	json_t *skills = db_text(r, UC_SKILLS) ? json_loads(db_text(r, UC_SKILLS), 0, &jerr) : NULL;
	if (!json_is_array(skills)) {
		json_decref(skills);
		skills = json_array();
	}
	return json_pack("{s:I, s:s, s:s?, s:s?, s:s?, s:s, s:b, s:s?, s:o, s:I, s:I, s:I, s:o}",
			 "id", (json_int_t)db_int(r, UC_ID),
			 "username", db_text(r, UC_USERNAME),
			 "full_name", db_text(r, UC_FULL_NAME),
			 "avatar_url", db_text(r, UC_AVATAR_URL),
			 "bio", db_text(r, UC_BIO),
			 "user_type", db_text(r, UC_USER_TYPE),
			 "is_verified", db_bool(r, UC_IS_VERIFIED),
			 "country", db_text(r, UC_COUNTRY),
			 "skills", skills,
			 "followers_count", (json_int_t)db_int(r, UC_FOLLOWERS_COUNT),
			 "following_count", (json_int_t)db_int(r, UC_FOLLOWING_COUNT),
			 "models_count", (json_int_t)db_int(r, UC_MODELS_COUNT),
			 "created_at", json_time(db_int(r, UC_CREATED_AT)));
}

/* The private columns user_json selects after USER_PUBLIC_COLS. */
enum { UP_EMAIL = UC_COUNT, UP_ROLE, UP_IS_EMAIL_VERIFIED, UP_SETTINGS, UP_IS_BANNED };

json_t *user_json(db_t *db, int64_t user_id, bool private_view)
{
	db_rows_t *r = DBQ(db,
		"SELECT " USER_PUBLIC_COLS ", u.email, u.role, u.is_email_verified, u.settings, u.is_banned"
		" FROM users u WHERE u.id = $1 AND u.deleted_at IS NULL", P_INT(user_id));
	if (!r)
		return NULL;
	json_t *u = NULL;
	if (db_next(r)) {
		u = user_json_row(r);
		if (private_view) {
			json_error_t jerr;
			json_t *settings = db_text(r, UP_SETTINGS) ? json_loads(db_text(r, UP_SETTINGS), 0, &jerr) : NULL;
			if (!json_is_object(settings)) {
				json_decref(settings);
				settings = json_object();
			}
			json_object_set_new(u, "email", json_string(db_text(r, UP_EMAIL)));
			json_object_set_new(u, "role", json_string(db_text(r, UP_ROLE)));
			json_object_set_new(u, "is_email_verified", json_boolean(db_bool(r, UP_IS_EMAIL_VERIFIED)));
			json_object_set_new(u, "settings", settings);
			json_object_set_new(u, "is_banned", json_boolean(db_bool(r, UP_IS_BANNED)));
		}
	}
	db_done(r);
	return u;
}

char *frontend_link(req_t *req, const char *path, const char *token)
{
	return arena_printf(req->arena, "%s%s?token=%s", cfg.frontend_url, path, token);
}
