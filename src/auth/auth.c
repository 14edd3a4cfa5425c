#include "auth.h"
#include "token.h"
#include "../core/util.h"

enum auth_result auth_identify(db_t *db, arena_t *arena, const char *token, auth_user_t **user)
{
	if (!token)
		return AUTH_NONE;
	struct token_claims c;
	if (!token_verify(token, &c))
		return AUTH_INVALID;
	if (!db)
		return AUTH_DB_ERROR;
	db_rows_t *r = DBQ(db,
		"SELECT role, user_type, username, is_email_verified, is_verified, is_banned,"
		" tokens_valid_after, deleted_at, token_version FROM users WHERE id = $1", P_INT(c.sub));
	if (!r)
		return AUTH_DB_ERROR;
	enum auth_result res = AUTH_INVALID;
	/* Sessions ended since the token was issued: its version is behind (a
	 * counter: no clock of any instance is compared), or, for a token
	 * from before versions, it is older than the ending. */
	if (db_next(r) && db_isnull(r, 7) &&
	    (c.version >= 0 ? c.version == db_int(r, 8) : c.iat_ms >= db_int(r, 6))) {
		auth_user_t *u = arena_calloc(arena, sizeof(*u));
		u->id = c.sub;
		u->role = arena_strdup(arena, db_text(r, 0));
		u->user_type = arena_strdup(arena, db_text(r, 1));
		u->username = arena_strdup(arena, db_text(r, 2));
		u->is_email_verified = db_bool(r, 3);
		u->is_verified = db_bool(r, 4);
		/* Admin rights need both: the role in the database, and a token
		 * issued by the admin login with its second factor (role claim
		 * "admin").  An admin who signs in through the normal login acts
		 * as a user. */
		u->is_admin = !strcmp(u->role, "admin") && !strcmp(c.role, "admin");
		if (db_bool(r, 5)) {
			res = AUTH_BANNED;
		} else {
			*user = u;
			res = AUTH_OK;
		}
	} else if (db_failed(r)) {
		res = AUTH_DB_ERROR;
	}
	db_done(r);
	return res;
}
