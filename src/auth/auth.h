/*
 * auth.h: who is calling.  Used by the dispatcher before any handler runs.
 */
#ifndef HWC_AUTH_H
#define HWC_AUTH_H

#include "../http/request.h"

enum auth_result {
	AUTH_NONE,     /* no credentials sent */
	AUTH_OK,       /* req->user is set */
	AUTH_INVALID,  /* bad, expired or revoked token, or a user that is gone: 401 */
	AUTH_BANNED,   /* a banned user: 403 */
	AUTH_DB_ERROR, /* the user could not be looked up: 503 */
};

/* Reads "Authorization: Bearer ..." and loads the user from the database
 * (one primary-key lookup, so revocation and bans apply at once). */
enum auth_result auth_identify(req_t *req);
/* The same from a raw token (WebSocket ?token=). */
enum auth_result auth_from_token(req_t *req, const char *token);

#endif
