/*
 * account.h: sessions, one-time codes, reset links and user documents,
 * shared by the auth and user handlers.
 *
 * Secrets are never stored: refresh and reset tokens as SHA-256, codes as
 * HMAC-SHA256 under the server secret (a leaked table does not give the
 * 10^6 codes away to an offline search).
 */
#ifndef HWC_ACCOUNT_H
#define HWC_ACCOUNT_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include "../http/request.h"

#define REFRESH_COOKIE "refresh_token"
#define REFRESH_TTL_MS ((int64_t)7 * 24 * 3600 * 1000)
#define OTP_TTL_MS ((int64_t)10 * 60 * 1000)
#define OTP_MAX_ATTEMPTS 5
#define RESET_TTL_MS ((int64_t)30 * 60 * 1000)

/* Starts a session: a new refresh-token family (scope "user" or "admin"),
 * the cookie on the response, and 200 {access_token, token_type,
 * expires_in, user}. */
int session_reply_new(req_t *req, int64_t user_id, const char *scope);
/* Stores token as a new member of family; *expires_out is its end
 * (7 days, never past the family's).  False on a database error. */
bool session_store(req_t *req, int64_t user_id, const char *scope, const char *family,
		   int64_t family_expires_at, const char *token, int64_t *expires_out);
/* Answers 200 with a new access token and `refresh` as the cookie. */
int session_reply_token(req_t *req, int64_t user_id, const char *scope, const char *refresh, int64_t expires);

/* Refresh reuse interval: a rotated token's successor, sealed (hex, in the
 * request arena) under a key derived from the rotated token and the server
 * secret; NULL if new_token is too long.  open gives it back to whoever
 * presents the rotated token; false when it does not open. */
#define REFRESH_GRACE_MS 10000
const char *refresh_seal_successor(req_t *req, const char *old_token, const char *new_token);
bool refresh_open_successor(const char *old_token, const char *sealed, char out[48]);
/* Sets the cookie that removes the refresh token from the browser. */
void session_clear_cookie(req_t *req);
/* Ends every session of the user and every access token issued until now. */
bool session_revoke_all(db_t *db, int64_t user_id);
/* SHA-256 of a token as 64 hex chars. */
void token_hash(const char *token, char out[65]);
/* 32 random bytes, base64url without padding (43 chars). */
void token_random(char out[48]);

/* Replaces the user's code for purpose with a new one (6 digits in code). */
bool otp_issue(db_t *db, int64_t user_id, const char *purpose, char code[7]);
enum otp_result { OTP_OK, OTP_WRONG, OTP_NONE, OTP_ERROR };
/* Checks a code; a wrong one counts, the fifth burns it; a right one is
 * consumed. */
enum otp_result otp_check(db_t *db, int64_t user_id, const char *purpose, const char *code);

/* Issues a new code unless the live one is younger than min_interval_ms
 * (and neither expired nor burnt), atomically.  1 with the new code in
 * code, 0 when the live one stays (code is ""), -1 on a database error. */
int otp_issue_limited(db_t *db, int64_t user_id, const char *purpose, int64_t min_interval_ms, char code[7]);
/* 1 when the user has a live (unexpired, unburnt) code for purpose, 0 when
 * not, -1 on a database error. */
int otp_live(db_t *db, int64_t user_id, const char *purpose);
/* Counts a try at a code in a fixed window per account and purpose, apart
 * from the code itself (a new code does not reset it).  1 when this try may
 * go ahead, 0 past max_tries (with *retry_after_s), -1 on a database
 * error.  otp_tries_clear() forgets the count after a right code. */
int otp_claim_try(db_t *db, int64_t user_id, const char *purpose, int max_tries, int64_t window_ms,
		  int *retry_after_s);
bool otp_tries_clear(db_t *db, int64_t user_id, const char *purpose);

/* The user as others see it, or with the private fields (email, role,
 * is_email_verified, settings) for the user themself.  NULL when absent. */
json_t *user_json(db_t *db, int64_t user_id, bool private_view);
/* The public document from a row of USER_PUBLIC_COLS. */
json_t *user_json_row(db_rows_t *r);

/* The public columns of a user row (users u): USER_PUBLIC_COLS is the
 * select list, enum user_col their indexes; what a query selects after
 * them starts at UC_COUNT (db.h, named columns). */
#define USER_PUBLIC_COLUMNS(FIRST, NEXT) \
	FIRST(UC_ID, "u.id") \
	NEXT(UC_USERNAME, "u.username") \
	NEXT(UC_FULL_NAME, "u.full_name") \
	NEXT(UC_AVATAR_URL, "u.avatar_url") \
	NEXT(UC_BIO, "u.bio") \
	NEXT(UC_USER_TYPE, "u.user_type") \
	NEXT(UC_IS_VERIFIED, "u.is_verified") \
	NEXT(UC_COUNTRY, "u.country") \
	NEXT(UC_SKILLS, "u.skills") \
	NEXT(UC_FOLLOWERS_COUNT, "u.followers_count") \
	NEXT(UC_FOLLOWING_COUNT, "u.following_count") \
	NEXT(UC_MODELS_COUNT, "u.models_count") \
	NEXT(UC_CREATED_AT, "u.created_at")
#define USER_PUBLIC_COLS USER_PUBLIC_COLUMNS(DB_COL_SQL, DB_COL_SQL_NEXT)
enum user_col { USER_PUBLIC_COLUMNS(DB_COL_ENUM, DB_COL_ENUM) UC_COUNT };

/* The web client's link for a token: FRONTEND_URL + path + "?token=". */
char *frontend_link(req_t *req, const char *path, const char *token);

#endif
