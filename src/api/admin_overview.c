/*
 * admin_overview.c: the admin console's first page (guide section 13):
 * GET /api/admin/stats (counts across the platform, totals and this
 * month), GET /api/admin/recent-activity (the audit log, paged and
 * filtered), GET /api/admin/alerts (what waits for an operator: counts
 * and the first few items, each with a link into the console).
 */
#include <time.h>
#include "api.h"
#include "admin_common.h"
#include "paged.h"
#include "../core/util.h"
#include "../http/reply.h"
#include "../http/request.h"
#include "../http/validate.h"

/* Midnight UTC of the first day of this month, in ms. */
static int64_t month_start_ms(void)
{
	time_t t = time(NULL);
	struct tm tm;
	gmtime_r(&t, &tm);
	tm.tm_mday = 1;
	tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
	return (int64_t)timegm(&tm) * 1000;
}

#define CNT(cond) "CAST(COALESCE(SUM(CASE WHEN " cond " THEN 1 ELSE 0 END), 0) AS BIGINT)"
#define SUMIF(cond, col) "CAST(COALESCE(SUM(CASE WHEN " cond " THEN " col " ELSE 0 END), 0) AS BIGINT)"

/* One scan per table (users, models, purchases) rather than a COUNT per
 * figure: at 50,000 users that was the difference between 7 scans and 1. */
static const char *const stats_sql[] = {
	"SELECT COUNT(*), " CNT("user_type = 'buyer'") ", " CNT("user_type = 'creator'") ", " CNT("role = 'admin'") ", "
	CNT("is_banned = TRUE") ", " CNT("is_email_verified = FALSE") ", " CNT("created_at >= $1")
	" FROM users WHERE deleted_at IS NULL",
	"SELECT COUNT(*), " CNT("status = 'pending'") ", " CNT("status = 'approved'") ", " CNT("status = 'rejected'") ", "
	CNT("status = 'approved' AND is_published = TRUE") ", " CNT("is_featured = TRUE") ", " CNT("created_at >= $1")
	" FROM models WHERE deleted_at IS NULL",
	"SELECT " CNT("refunded_at IS NULL") ", " SUMIF("refunded_at IS NULL", "price_cents") ", "
	SUMIF("refunded_at IS NULL", "fee_cents") ", " CNT("refunded_at IS NULL AND created_at >= $1") ", "
	SUMIF("refunded_at IS NULL AND created_at >= $1", "price_cents") ", "
	SUMIF("refunded_at IS NULL AND created_at >= $1", "fee_cents") ", " CNT("refunded_at IS NOT NULL")
	" FROM purchases",
	"SELECT (SELECT COUNT(*) FROM support_tickets WHERE status <> 'resolved'),"
	" (SELECT COUNT(*) FROM support_tickets WHERE status <> 'resolved' AND assigned_to IS NULL),"
	" (SELECT COUNT(*) FROM payout_requests WHERE status = 'requested'),"
	" (SELECT COALESCE(SUM(amount_cents), 0) FROM payout_requests WHERE status = 'requested'),"
	" (SELECT COUNT(*) FROM communities), (SELECT COUNT(*) FROM communities WHERE status = 'pending'),"
	" (SELECT COUNT(*) FROM community_reports WHERE status = 'open'), CAST($1 AS BIGINT)",
};
#undef CNT
#undef SUMIF

static json_t *stats_compute(req_t *req, db_t *db, void *ctx, const char **what)
{
	UNUSED(req);
	UNUSED(ctx);
	int64_t month = month_start_ms();
	int64_t v[4][7];
	for (size_t q = 0; q < ARRAY_LEN(stats_sql); q++) {
		db_rows_t *r = DBQ(db, stats_sql[q], P_INT(month));
		bool ok = r && db_next(r);
		for (int c = 0; ok && c < 7; c++)
			v[q][c] = db_int(r, c);
		db_done(r);
		if (!ok) {
			*what = "read stats";
			return NULL;
		}
	}
#define I(q, c) ((json_int_t)v[q][c])
	json_t *body = json_pack("{s:{s:I, s:I, s:I, s:I, s:I, s:I, s:I}, s:{s:I, s:I, s:I, s:I, s:I, s:I, s:I}}",
		"users", "total", I(0, 0), "buyers", I(0, 1), "creators", I(0, 2), "admins", I(0, 3), "banned", I(0, 4),
		"unverified", I(0, 5), "new_this_month", I(0, 6),
		"models", "total", I(1, 0), "pending", I(1, 1), "approved", I(1, 2), "rejected", I(1, 3), "published", I(1, 4),
		"featured", I(1, 5), "new_this_month", I(1, 6));
	json_object_set_new(body, "sales", json_pack("{s:I, s:o, s:o, s:I, s:{s:I, s:o, s:o}, s:s}",
		"count", I(2, 0), "revenue", admin_money(v[2][1]), "platform_fees", admin_money(v[2][2]),
		"refunded_count", I(2, 6),
		"this_month", "count", I(2, 3), "revenue", admin_money(v[2][4]), "platform_fees", admin_money(v[2][5]),
		"currency", "USD"));
	json_object_set_new(body, "support", json_pack("{s:I, s:I}", "open_tickets", I(3, 0), "unassigned_tickets", I(3, 1)));
	json_object_set_new(body, "payouts", json_pack("{s:I, s:o}", "pending_count", I(3, 2), "pending_amount",
						       admin_money(v[3][3])));
	json_object_set_new(body, "communities", json_pack("{s:I, s:I, s:I}", "total", I(3, 4), "pending", I(3, 5),
							   "open_reports", I(3, 6)));
#undef I
	json_object_set_new(body, "month_start", json_time(month));
	return body;
}

/* Whole-table counts: on the pool (admin_defer_json). */
static int admin_stats(req_t *req)
{
	return admin_defer_json(req, stats_compute, NULL);
}

static json_t *activity_json(db_rows_t *r)
{
	json_error_t e;
	json_t *detail = json_loads(db_text(r, 6) ? db_text(r, 6) : "{}", 0, &e);
	json_t *actor = db_isnull(r, 1) ? json_null()
		: json_pack("{s:I, s:s?}", "id", (json_int_t)db_int(r, 1), "username", db_text(r, 2));
	return json_pack("{s:I, s:s, s:o, s:s?, s:o, s:o, s:s?, s:o}", "id", (json_int_t)db_int(r, 0),
		"action", db_text(r, 3), "actor", actor, "target_type", db_text(r, 4),
		"target_id", db_isnull(r, 5) ? json_null() : json_integer(db_int(r, 5)),
		"detail", detail ? detail : json_object(), "ip", db_text(r, 7), "created_at", json_time(db_int(r, 8)));
}

static int admin_recent_activity(req_t *req)
{
	valid_t v;
	page_t p;
	paged_begin(&v, req, &p);
	const char *action = q_str(&v, "action", 64);
	int64_t actor = q_int(&v, "actor_id", 0, INT64_MAX, 0);
	const char *target_type = q_str(&v, "target_type", 32);
	int64_t target = q_int(&v, "target_id", 0, INT64_MAX, 0);
	if (!v_ok(&v))
		return v_reply(&v);
	/* "user." matches every user action; "user.ban" that one. */
	const char *pattern = NULL;
	if (action && *action) {
		size_t n = strlen(action);
		pattern = action[n - 1] == '.' ? like_contains(req->arena, action) + 1 : action;
	}
#define ACTIVITY_WHERE " FROM audit_log a WHERE (CAST($1 AS TEXT) IS NULL OR a.action LIKE $1 ESCAPE '\\')" \
	" AND (CAST($2 AS BIGINT) = 0 OR a.actor_id = $2) AND (CAST($3 AS TEXT) IS NULL OR a.target_type = $3)" \
	" AND (CAST($4 AS BIGINT) = 0 OR a.target_id = $4)"
	db_param_t filters[] = { P_TEXT(pattern), P_INT(actor), P_TEXT(target_type && *target_type ? target_type : NULL),
				 P_INT(target) };
	paged_t q = {
		.what = "list activity",
		.count_sql = "SELECT COUNT(*)" ACTIVITY_WHERE,
		.rows_sql = "SELECT a.id, a.actor_id, a.actor_username, a.action, a.target_type, a.target_id, a.detail, a.ip,"
			    " a.created_at" ACTIVITY_WHERE " ORDER BY a.created_at DESC, a.id DESC",
		.params = filters, .nparams = 4,
		.row = activity_json,
	};
#undef ACTIVITY_WHERE
	return paged_reply(req, &p, &q);
}

#define ALERT_ITEMS 5

struct alert_def {
	const char *type, *severity, *title, *link;
	const char *count_sql, *items_sql; /* items: id, title, created_at; $1 = now, $2 = limit */
	const char *item_link; /* the id is appended */
};

static const struct alert_def alert_defs[] = {
	{ "pending_models", "info", "Models waiting for moderation", "/admin/models?status=pending",
	  "SELECT COUNT(*) FROM models WHERE status = 'pending' AND deleted_at IS NULL AND CAST($1 AS BIGINT) >= 0",
	  "SELECT id, title, created_at FROM models WHERE status = 'pending' AND deleted_at IS NULL AND CAST($1 AS BIGINT) >= 0"
	  " ORDER BY created_at, id LIMIT $2", "/admin/models?id=" },
	{ "pending_communities", "info", "Communities waiting for approval", "/admin/communities?status=pending",
	  "SELECT COUNT(*) FROM communities WHERE status = 'pending' AND CAST($1 AS BIGINT) >= 0",
	  "SELECT id, name, created_at FROM communities WHERE status = 'pending' AND CAST($1 AS BIGINT) >= 0 ORDER BY created_at, id LIMIT $2",
	  "/admin/communities?id=" },
	{ "open_reports", "warning", "Open reports of posts", "/admin/communities?tab=reports",
	  "SELECT COUNT(*) FROM community_reports WHERE status = 'open' AND CAST($1 AS BIGINT) >= 0",
	  "SELECT id, reason, created_at FROM community_reports WHERE status = 'open' AND CAST($1 AS BIGINT) >= 0 ORDER BY created_at, id LIMIT $2",
	  "/admin/communities?tab=reports&report=" },
	{ "pending_payouts", "warning", "Payout requests to decide", "/admin/revenue?tab=payouts",
	  "SELECT COUNT(*) FROM payout_requests WHERE status = 'requested' AND CAST($1 AS BIGINT) >= 0",
	  "SELECT p.id, u.username, p.created_at FROM payout_requests p JOIN users u ON u.id = p.creator_id"
	  " WHERE p.status = 'requested' AND CAST($1 AS BIGINT) >= 0 ORDER BY p.created_at, p.id LIMIT $2", "/admin/revenue?tab=payouts&id=" },
	{ "unassigned_tickets", "info", "Support tickets nobody has taken", "/admin/support?assigned=none",
	  "SELECT COUNT(*) FROM support_tickets WHERE status <> 'resolved' AND assigned_to IS NULL AND CAST($1 AS BIGINT) >= 0",
	  "SELECT id, subject, created_at FROM support_tickets WHERE status <> 'resolved' AND assigned_to IS NULL AND CAST($1 AS BIGINT) >= 0"
	  " ORDER BY created_at, id LIMIT $2", "/admin/support?ticket=" },
	{ "failed_jobs", "error", "Background jobs that failed (last 7 days)", "/admin?alerts=failed_jobs",
	  "SELECT COUNT(*) FROM jobs WHERE status = 'failed' AND updated_at >= CAST($1 AS BIGINT) - 604800000",
	  "SELECT id, kind || ': ' || COALESCE(error, ''), updated_at FROM jobs WHERE status = 'failed'"
	  " AND updated_at >= CAST($1 AS BIGINT) - 604800000 ORDER BY updated_at DESC, id DESC LIMIT $2", "/admin?job=" },
	{ "failed_mail", "error", "Mail that could not be delivered", "/admin/emails?tab=history&status=failed",
	  "SELECT COUNT(*) FROM mail_outbox WHERE status = 'failed' AND created_at >= CAST($1 AS BIGINT) - 604800000",
	  "SELECT id, kind || ' to ' || to_addr || ': ' || COALESCE(last_error, ''), created_at FROM mail_outbox"
	  " WHERE status = 'failed' AND created_at >= CAST($1 AS BIGINT) - 604800000 ORDER BY created_at DESC, id DESC LIMIT $2",
	  "/admin/emails?tab=history&id=" },
	/* Queued or sending for more than 15 minutes: the worker is down or
	 * the SMTP server refuses, retrying. */
	{ "stuck_mail", "warning", "Mail waiting more than 15 minutes", "/admin/emails?tab=history&status=queued",
	  "SELECT COUNT(*) FROM mail_outbox WHERE status IN ('queued', 'sending') AND created_at < CAST($1 AS BIGINT) - 900000",
	  "SELECT id, kind || ' to ' || to_addr || ': ' || COALESCE(last_error, 'not sent yet'), created_at FROM mail_outbox"
	  " WHERE status IN ('queued', 'sending') AND created_at < CAST($1 AS BIGINT) - 900000 ORDER BY created_at, id LIMIT $2",
	  "/admin/emails?tab=history&id=" },
};

static json_t *alert_item(req_t *req, db_rows_t *r, const char *link_fmt)
{
	return json_pack("{s:I, s:s?, s:s, s:o}", "id", (json_int_t)db_int(r, 0), "title", db_text(r, 1),
			 "link", arena_printf(req->arena, "%s%lld", link_fmt, (long long)db_int(r, 0)),
			 "created_at", json_time(db_int(r, 2)));
}

static int admin_alerts(req_t *req)
{
	int64_t now = now_ms(), total = 0;
	json_t *alerts = json_array();
	for (size_t i = 0; i < ARRAY_LEN(alert_defs); i++) {
		const struct alert_def *d = &alert_defs[i];
		int64_t n = 0;
		if (DBS(req->db, &n, d->count_sql, P_INT(now)) < 0) {
			json_decref(alerts);
			return reply_db_error(req, d->type);
		}
		if (n == 0)
			continue;
		json_t *items = json_array();
		db_rows_t *r = RQ(req, d->items_sql, P_INT(now), P_INT(ALERT_ITEMS));
		while (r && db_next(r))
			json_array_append_new(items, alert_item(req, r, d->item_link));
		if (!r || db_failed(r)) {
			json_decref(items);
			json_decref(alerts);
			return reply_db_error(req, d->type);
		}
		total += n;
		json_array_append_new(alerts, json_pack("{s:s, s:s, s:s, s:I, s:s, s:o}", "type", d->type, "severity",
			d->severity, "title", d->title, "count", (json_int_t)n, "link", d->link, "items", items));
	}
	return reply_ok(req, json_pack("{s:o, s:I}", "alerts", alerts, "total", (json_int_t)total));
}

const route_t admin_overview_routes[] = {
	{ M_GET, "/api/admin/stats", admin_stats, ACCESS_ADMIN, RL_ADMIN, BODY_NONE, 0, 0, "Platform counts and totals" },
	{ M_GET, "/api/admin/recent-activity", admin_recent_activity, ACCESS_ADMIN, RL_ADMIN, BODY_NONE, 0, 0, "The audit log" },
	{ M_GET, "/api/admin/alerts", admin_alerts, ACCESS_ADMIN, RL_ADMIN, BODY_NONE, 0, 0, "What waits for an operator" },
};
EXPORT_ROUTES(admin_overview_routes);
