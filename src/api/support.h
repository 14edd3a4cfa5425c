/*
 * support.h: what support.c offers outside its routes: the authorisation
 * of the /ws/support/{ticket_id} channel, for the WebSocket hub.
 */
#ifndef HWC_SUPPORT_H
#define HWC_SUPPORT_H

#include <stdbool.h>
#include <stdint.h>
#include "../db/db.h"

enum support_ws_access {
	SUPPORT_WS_ALLOWED,   /* the ticket's owner, or an admin */
	SUPPORT_WS_FORBIDDEN, /* someone else's ticket: close 4403 */
	SUPPORT_WS_MISSING,   /* no such ticket: close 4403 too (or 4404) */
	SUPPORT_WS_ERROR,     /* the database did not answer: close 1011 */
};

/* May user_id subscribe to "support:<ticket_id>"?  One primary-key
 * lookup on db (the caller's connection, any thread). */
enum support_ws_access support_ws_authorize(db_t *db, int64_t user_id, bool is_admin, int64_t ticket_id);

#endif
