/*
 * notify.c: notification rows (notify.h).
 */
#include "notify.h"
#include "../core/util.h"

bool notify(db_t *db, int64_t user_id, const char *type, const char *title, const char *message,
	    const char *action_url)
{
	return DBX(db, "INSERT INTO notifications (user_id, type, title, message, action_url, created_at)"
		   " VALUES ($1, $2, $3, $4, $5, $6)", P_INT(user_id), P_TEXT(type), P_TEXT(title),
		   P_TEXT(message), P_TEXT(action_url), P_INT(now_ms())) == 1;
}
