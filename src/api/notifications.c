/*
 * notifications.c: the caller's notifications (issue 12, point 2; guide
 * section 18).
 *
 * The rows are written by notify() (svc/notify.h) in the transaction of
 * the event they tell of: new_follower (social.c), model_liked and
 * comment_received (models.c), model_purchased (orders.c),
 * model_approved / model_rejected (admin_models.c), payout_approved /
 * payout_rejected (revenue.c), and the support and bounty features when
 * they land.
 *
 * Every statement here is keyed by the caller's id: another user's
 * notification answers 404, as a missing one does.  The list is the
 * guide's body {notifications, unread_count} plus the paging fields of
 * CONTRACT.md, newest first, read from notifications_user_time_idx
 * (migration 0014).
 */
#include "api.h"
#include "paged.h"
#include "../core/util.h"
#include "../http/reply.h"
#include "../http/request.h"
#include "../http/validate.h"

#define NOTIF_COLUMNS(FIRST, NEXT) \
	FIRST(NC_ID, "n.id") NEXT(NC_TYPE, "n.type") NEXT(NC_TITLE, "n.title") NEXT(NC_MESSAGE, "n.message") \
	NEXT(NC_IS_READ, "n.is_read") NEXT(NC_CREATED_AT, "n.created_at") NEXT(NC_ACTION_URL, "n.action_url")
#define NOTIF_COLS NOTIF_COLUMNS(DB_COL_SQL, DB_COL_SQL_NEXT)
enum notif_col { NOTIF_COLUMNS(DB_COL_ENUM, DB_COL_ENUM) NC_COUNT };

static json_t *notification_json(db_rows_t *r)
{
	return json_pack("{s:I, s:s, s:s, s:s, s:b, s:o, s:s?}",
			 "id", (json_int_t)db_int(r, NC_ID),
			 "type", db_text(r, NC_TYPE),
			 "title", db_text(r, NC_TITLE),
			 "message", db_text(r, NC_MESSAGE),
			 "is_read", db_bool(r, NC_IS_READ),
			 "created_at", json_time(db_int(r, NC_CREATED_AT)),
			 "action_url", db_text(r, NC_ACTION_URL));
}

/* The caller's unread count; -1 on a database error. */
static int64_t unread_count(req_t *req)
{
	int64_t n = 0;
	if (DBS(req->db, &n, "SELECT COUNT(*) FROM notifications WHERE user_id = $1 AND is_read = FALSE",
		P_INT(req->user->id)) < 0)
		return -1;
	return n;
}

/* GET /api/notifications and /api/users/me/notifications: a page, newest
 * first; ?unread=true keeps the unread ones. */
static int notifications_list(req_t *req)
{
	valid_t v;
	page_t p;
	paged_begin(&v, req, &p);
	int unread_only;
	q_bool(&v, "unread", &unread_only);
	if (!v_ok(&v))
		return v_reply(&v);
	const char *where = unread_only == 1 ? " FROM notifications n WHERE n.user_id = $1 AND n.is_read = FALSE"
					     : " FROM notifications n WHERE n.user_id = $1";
	int64_t total = 0, unread = unread_count(req);
	if (unread < 0)
		return reply_db_error(req, "count unread notifications");
	if (unread_only == 1)
		total = unread;
	else if (db_scalar(req->db, arena_printf(req->arena, "SELECT COUNT(*)%s", where),
			   DB_PARAMS(P_INT(req->user->id)), &total) < 0)
		return reply_db_error(req, "count notifications");
	if (page_too_deep(&p, total))
		return reply_page_too_deep(req);
	json_t *items;
	if (p.offset >= total) {
		items = json_array();
	} else {
		db_rows_t *r = RQ(req, arena_printf(req->arena, "SELECT " NOTIF_COLS "%s"
						    " ORDER BY n.created_at DESC, n.id DESC LIMIT $2 OFFSET $3", where),
				  P_INT(req->user->id), P_INT(p.limit), P_INT(p.offset));
		items = r ? rows_to_array(r, notification_json) : NULL;
		if (!items)
			return reply_db_error(req, "list notifications");
	}
	json_t *body = page_envelope(items, total, &p);
	/* the guide's names: notifications for the items */
	json_object_set(body, "notifications", items);
	json_object_del(body, "items");
	json_object_set_new(body, "unread_count", json_integer(unread));
	return reply_ok(req, body);
}

/* The guide's Social page reads them here. */
static int users_my_notifications(req_t *req)
{
	return notifications_list(req);
}

/* PUT /api/notifications/{id}/read: the caller's own only. */
static int notifications_read(req_t *req)
{
	int64_t id = req_param_int(req, "id");
	int64_t n = DBX(req->db, "UPDATE notifications SET is_read = TRUE WHERE id = $1 AND user_id = $2",
			P_INT(id), P_INT(req->user->id));
	if (n < 0)
		return reply_db_error(req, "mark notification read");
	if (n == 0)
		return reply_error(req, ERR_NOT_FOUND, "Notification not found");
	db_rows_t *r = RQ(req, "SELECT " NOTIF_COLS " FROM notifications n WHERE n.id = $1 AND n.user_id = $2",
			  P_INT(id), P_INT(req->user->id));
	if (!r)
		return reply_db_error(req, "read notification");
	if (!db_next(r))
		return reply_error(req, ERR_NOT_FOUND, "Notification not found"); /* deleted meanwhile */
	json_t *doc = notification_json(r);
	db_done(r);
	int64_t unread = unread_count(req);
	if (unread < 0) {
		json_decref(doc);
		return reply_db_error(req, "count unread notifications");
	}
	return reply_ok(req, json_pack("{s:o, s:I}", "notification", doc, "unread_count", (json_int_t)unread));
}

/* PUT /api/notifications/read-all: every unread notification of the
 * caller, or with ?up_to_id= only those up to that id (the ones the
 * client has shown, so that one arriving meanwhile stays unread). */
static int notifications_read_all(req_t *req)
{
	valid_t v;
	v_init(&v, req, NULL);
	int64_t upto = q_int(&v, "up_to_id", 1, INT64_MAX, INT64_MAX);
	if (!v_ok(&v))
		return v_reply(&v);
	int64_t n = DBX(req->db, "UPDATE notifications SET is_read = TRUE WHERE user_id = $1 AND is_read = FALSE AND id <= $2",
			P_INT(req->user->id), P_INT(upto));
	if (n < 0)
		return reply_db_error(req, "mark notifications read");
	int64_t unread = unread_count(req);
	if (unread < 0)
		return reply_db_error(req, "count unread notifications");
	return reply_ok(req, json_pack("{s:I, s:I}", "updated", (json_int_t)n, "unread_count", (json_int_t)unread));
}

const route_t notification_routes[] = {
	{ M_GET, "/api/notifications", notifications_list, ACCESS_USER, RL_GENERAL, BODY_NONE, 0, 0, "The caller's notifications, newest first, with the unread count" },
	{ M_GET, "/api/users/me/notifications", users_my_notifications, ACCESS_USER, RL_GENERAL, BODY_NONE, 0, 0, "The caller's notifications (as /api/notifications)" },
	{ M_PUT, "/api/notifications/{id:int}/read", notifications_read, ACCESS_USER, RL_GENERAL, BODY_NONE, 0, 0, "Mark one of the caller's notifications read" },
	{ M_PUT, "/api/notifications/read-all", notifications_read_all, ACCESS_USER, RL_GENERAL, BODY_NONE, 0, 0, "Mark every notification of the caller read" },
};
EXPORT_ROUTES(notification_routes);
