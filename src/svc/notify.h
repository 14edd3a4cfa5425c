/*
 * notify.h: a notification row for a user and its WebSocket push (the
 * notification's type as the event, on "user:<id>": events.h).  Used by
 * the handlers (likes, comments, reviews, payouts) and by order
 * settlement (orders.c).
 *
 * The row is written in the caller's transaction; the push must wait
 * for its commit.  Outside a transaction the row is committed at once
 * and the push leaves at once.  Inside one, the push waits on this
 * thread until the caller says how the transaction ended:
 * notify_flush() after db_commit, notify_discard() after db_rollback.
 * The dispatcher discards what a request left, so a forgotten call loses
 * a push, never sends one for a rolled-back row.
 *
 * The event's data is the notification as GET /api/notifications shows
 * it: {id, type, title, message, action_url, is_read, created_at}.
 */
#ifndef HWC_NOTIFY_H
#define HWC_NOTIFY_H

#include <stdbool.h>
#include <stdint.h>
#include "../db/db.h"

bool notify(db_t *db, int64_t user_id, const char *type, const char *title, const char *message,
	    const char *action_url);

/* Publishes the pushes this thread's committed transaction made. */
void notify_flush(void);
/* Forgets them (the transaction was rolled back). */
void notify_discard(void);

#endif
