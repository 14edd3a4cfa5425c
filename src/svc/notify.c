/*
 * notify.c: notification rows and their pushes (notify.h).
 */
#include <jansson.h>
#include "notify.h"
#include "events.h"
#include "../core/util.h"
#include "../http/validate.h"

/* Pushes waiting for their transaction's commit, on this thread. */
struct pending {
	struct pending *next;
	int64_t user_id;
	char *type;
	json_t *data;
};

static __thread struct pending *pending, *pending_tail;

bool notify(db_t *db, int64_t user_id, const char *type, const char *title, const char *message,
	    const char *action_url)
{
	int64_t now = now_ms(), id = 0;
	if (DBS(db, &id, "INSERT INTO notifications (user_id, type, title, message, action_url, created_at)"
		" VALUES ($1, $2, $3, $4, $5, $6) RETURNING id", P_INT(user_id), P_TEXT(type), P_TEXT(title),
		P_TEXT(message), P_TEXT(action_url), P_INT(now)) != 1)
		return false;
	json_t *data = json_pack("{s:I, s:s, s:s?, s:s?, s:s?, s:b, s:o}", "id", (json_int_t)id, "type", type, "title",
				 title, "message", message, "action_url", action_url, "is_read", 0, "created_at",
				 json_time(now));
	if (!db_in_transaction(db)) {
		events_publish_user(user_id, type, data);
		return true;
	}
	struct pending *p = xcalloc(1, sizeof(*p));
	p->user_id = user_id;
	p->type = xstrdup(type);
	p->data = data;
	if (pending_tail)
		pending_tail->next = p;
	else
		pending = p;
	pending_tail = p;
	return true;
}

static void drain(bool publish)
{
	struct pending *p = pending;
	pending = pending_tail = NULL;
	while (p) {
		struct pending *next = p->next;
		if (publish)
			events_publish_user(p->user_id, p->type, p->data);
		else
			json_decref(p->data);
		free(p->type);
		free(p);
		p = next;
	}
}

void notify_flush(void)
{
	drain(true);
}

void notify_discard(void)
{
	drain(false);
}
