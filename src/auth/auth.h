/*
 * auth.h: who is calling.  Used by the dispatcher before any handler runs.
 *
 * auth_identify knows nothing of HTTP: the dispatcher hands it the bearer
 * token (request.h, req_bearer_token) and stores the user it returns on the
 * request; the user lives in the arena it is given.
 */
#ifndef HWC_AUTH_H
#define HWC_AUTH_H

#include <stdbool.h>
#include <stdint.h>
#include "../core/arena.h"
#include "../db/db.h"

/* The signed-in caller, as loaded from the database for this request. */
typedef struct auth_user {
	int64_t id;
	const char *role;     /* "user" or "admin" */
	const char *user_type;
	const char *username;
	bool is_admin, is_email_verified, is_verified;
} auth_user_t;

enum auth_result {
	AUTH_NONE,     /* no credentials sent */
	AUTH_OK,       /* *user is set */
	AUTH_INVALID,  /* bad, expired or revoked token, or a user that is gone: 401 */
	AUTH_BANNED,   /* a banned user: 403 */
	AUTH_DB_ERROR, /* the user could not be looked up: 503 */
};

/* Verifies token (NULL: none was sent) and loads its user from db (one
 * primary-key lookup, so revocation and bans apply at once) into arena.
 * *user is set only on AUTH_OK; db may be NULL (AUTH_DB_ERROR for a token
 * that verifies). */
enum auth_result auth_identify(db_t *db, arena_t *arena, const char *token, auth_user_t **user);

#endif
