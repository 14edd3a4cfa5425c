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

/* Inserts a refresh token of the family and answers with both tokens. */
static int issue(req_t *req, int64_t user_id, const char *scope, const char *family, int64_t family_expires_at)
{
	char refresh[48], hash[65];
	token_random(refresh);
	token_hash(refresh, hash);
	int64_t now = now_ms();
	int64_t expires = MIN(now + REFRESH_TTL_MS, family_expires_at);
	const char *ua = req_header(req, "User-Agent");
	char ua_short[256];
	snprintf(ua_short, sizeof(ua_short), "%s", ua ? ua : "");
	if (DBX(req->db,
		"INSERT INTO refresh_tokens (user_id, family, scope, token_hash, expires_at, family_expires_at,"
		" ip, user_agent, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
		P_INT(user_id), P_TEXT(family), P_TEXT(scope), P_TEXT(hash), P_INT(expires),
		P_INT(family_expires_at), P_TEXT(req->ip), P_TEXT(ua_short), P_INT(now)) != 1)
		return reply_db_error(req, "store refresh token");
	char *access = token_issue(user_id, scope, ACCESS_TOKEN_TTL_S);
	if (!access)
		return reply_internal(req, "token_issue failed");
	json_t *user = user_json(req->db, user_id, true);
	if (!user) {
		free(access);
		return reply_internal(req, "session for a missing user");
	}
	set_cookie(req, refresh, (expires - now) / 1000);
	json_t *body = json_pack("{s:s, s:s, s:i, s:o}", "access_token", access, "token_type", "bearer",
				 "expires_in", ACCESS_TOKEN_TTL_S, "user", user);
	free(access);
	return reply_ok(req, body);
}

int session_reply_new(req_t *req, int64_t user_id, const char *scope)
{
	char family[33];
	random_hex(family, 16);
	DBX(req->db, "UPDATE users SET last_login_at = $2 WHERE id = $1", P_INT(user_id), P_INT(now_ms()));
	return issue(req, user_id, scope, family, now_ms() + REFRESH_TTL_MS);
}

int session_reply_rotated(req_t *req, int64_t user_id, const char *scope, const char *family,
			  int64_t family_expires_at)
{
	return issue(req, user_id, scope, family, family_expires_at);
}

bool session_revoke_all(db_t *db, int64_t user_id)
{
	int64_t now = now_ms();
	return DBX(db, "UPDATE refresh_tokens SET revoked_at = $2 WHERE user_id = $1 AND revoked_at IS NULL",
		   P_INT(user_id), P_INT(now)) >= 0 &&
	       DBX(db, "UPDATE users SET tokens_valid_after = $2 WHERE id = $1", P_INT(user_id), P_INT(now)) >= 0;
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

json_t *user_json_row(db_rows_t *r)
{
	json_error_t jerr;
	json_t *skills = db_text(r, 8) ? json_loads(db_text(r, 8), 0, &jerr) : NULL;
	if (!json_is_array(skills)) {
		json_decref(skills);
		skills = json_array();
	}
	return json_pack("{s:I, s:s, s:s?, s:s?, s:s?, s:s, s:b, s:s?, s:o, s:I, s:I, s:I, s:o}",
			 "id", (json_int_t)db_int(r, 0),
			 "username", db_text(r, 1),
			 "full_name", db_text(r, 2),
			 "avatar_url", db_text(r, 3),
			 "bio", db_text(r, 4),
			 "user_type", db_text(r, 5),
			 "is_verified", db_bool(r, 6),
			 "country", db_text(r, 7),
			 "skills", skills,
			 "followers_count", (json_int_t)db_int(r, 9),
			 "following_count", (json_int_t)db_int(r, 10),
			 "models_count", (json_int_t)db_int(r, 11),
			 "created_at", json_time(db_int(r, 12)));
}

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
			json_t *settings = db_text(r, 16) ? json_loads(db_text(r, 16), 0, &jerr) : NULL;
			if (!json_is_object(settings)) {
				json_decref(settings);
				settings = json_object();
			}
			json_object_set_new(u, "email", json_string(db_text(r, 13)));
			json_object_set_new(u, "role", json_string(db_text(r, 14)));
			json_object_set_new(u, "is_email_verified", json_boolean(db_bool(r, 15)));
			json_object_set_new(u, "settings", settings);
			json_object_set_new(u, "is_banned", json_boolean(db_bool(r, 17)));
		}
	}
	db_done(r);
	return u;
}

char *frontend_link(req_t *req, const char *path, const char *token)
{
	return arena_printf(req->arena, "%s%s?token=%s", cfg.frontend_url, path, token);
}
