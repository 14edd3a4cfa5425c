/*
 * notify.h: a notification row for a user (and, once the real-time issue
 * lands, its WebSocket push), written in the caller's transaction.  Used
 * by the handlers (likes, comments, reviews, payouts) and by order
 * settlement (orders.c).
 */
#ifndef HWC_NOTIFY_H
#define HWC_NOTIFY_H

#include <stdbool.h>
#include <stdint.h>
#include "../db/db.h"

bool notify(db_t *db, int64_t user_id, const char *type, const char *title, const char *message,
	    const char *action_url);

#endif
