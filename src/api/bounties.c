/*
 * bounties.c: commissions (guide section 10, and the admin's side of
 * section 13): the list, post, view and apply, and the flow the guide
 * implies: the owner accepts one application, the accepted creator
 * delivers, the owner asks for changes or completes; the owner may cancel
 * an open bounty.  Admins list, edit and delete any bounty.
 *
 * States: open -> in_progress (accept) -> completed (complete);
 *         open -> cancelled (cancel, owner; or an admin's PUT).
 * No money moves: accepting records the agreed price (the application's
 * proposed price, else the budget) as agreed_price.
 *
 * Who sees what: anyone reads a bounty that is not cancelled (a cancelled
 * one: its owner, its applicants and admins).  Its applications are the
 * owner's (and admins'); others see applications_count and their own
 * application.  Deliveries are for the owner, the accepted creator and
 * admins.  Only creators (user_type creator) apply, never to their own
 * bounty, once, while it is open and before its deadline.
 *
 * Notifications (notify.h, pushed live after the commit):
 * bounty_application to the owner; bounty_accepted / bounty_declined to
 * applicants; bounty_delivered to the owner; bounty_changes_requested and
 * bounty_completed to the creator; bounty_cancelled to the applicants.
 */
#include <time.h>
#include "api.h"
#include "../svc/audit.h"
#include "communities.h"
#include "paged.h"
#include "../core/util.h"
#include "../http/reply.h"
#include "../http/request.h"
#include "../http/validate.h"
#include "../svc/notify.h"
#include "../svc/storage.h"

#define TITLE_MAX 120
#define DESCRIPTION_MAX 5000
#define MESSAGE_MAX 2000
#define IMAGES_MAX 6
#define PORTFOLIO_MAX 6
#define BUDGET_MIN_CENTS 100            /* $1 */
#define BUDGET_MAX_CENTS 100000000      /* $1,000,000 */
#define DAYS_MAX 365
/* Applications one bounty takes: its page lists them all, and a cancel or
 * an accept notifies them all in one transaction. */
#define APPLICATIONS_MAX 200
#define DEADLINE_MAX_MS (2LL * 366 * 24 * 3600 * 1000) /* two years ahead */

static const char *const bounty_categories[] = {
	"characters", "vehicles", "architecture", "environments", "props", "furniture", "animals", "nature",
	"sci-fi", "fantasy", "electronics", "textures-materials", "other", NULL,
};
static const char *const public_statuses[] = { "open", "in_progress", "completed", NULL };
static const char *const all_statuses[] = { "open", "in_progress", "completed", "cancelled", NULL };

static int64_t viewer_id(req_t *req)
{
	return req->user ? req->user->id : 0;
}

static bool viewer_admin(req_t *req)
{
	return req->user && req->user->is_admin;
}

static json_t *money_json(int64_t cents)
{
	return json_real((double)cents / 100.0);
}

static json_t *nullable_time(db_rows_t *r, int col)
{
	return db_isnull(r, col) ? json_null() : json_time(db_int(r, col));
}

/* ========================================================== documents */

#define BOUNTY_COLUMNS(FIRST, NEXT) \
	FIRST(BC_ID, "b.id") \
	NEXT(BC_TITLE, "b.title") \
	NEXT(BC_DESCRIPTION, "b.description") \
	NEXT(BC_CATEGORY, "b.category") \
	NEXT(BC_BUDGET, "b.budget_cents") \
	NEXT(BC_CURRENCY, "b.currency") \
	NEXT(BC_DEADLINE, "b.deadline") \
	NEXT(BC_STATUS, "b.status") \
	NEXT(BC_IS_FEATURED, "b.is_featured") \
	NEXT(BC_APPLICATIONS_COUNT, "b.applications_count") \
	NEXT(BC_AGREED_PRICE, "b.agreed_price_cents") \
	NEXT(BC_ACCEPTED_AT, "b.accepted_at") \
	NEXT(BC_COMPLETED_AT, "b.completed_at") \
	NEXT(BC_CREATED_AT, "b.created_at") \
	NEXT(BC_UPDATED_AT, "b.updated_at") \
	NEXT(BC_OWNER_ID, "o.id") \
	NEXT(BC_OWNER_USERNAME, "o.username") \
	NEXT(BC_OWNER_FULL_NAME, "o.full_name") \
	NEXT(BC_OWNER_AVATAR_URL, "o.avatar_url") \
	NEXT(BC_OWNER_IS_VERIFIED, "o.is_verified") \
	NEXT(BC_THUMB_KEY, "(SELECT up.storage_key FROM bounty_images bi JOIN uploads up ON up.id = bi.upload_id" \
			   " WHERE bi.bounty_id = b.id ORDER BY bi.position LIMIT 1)") \
	NEXT(BC_MY_STATUS, "(SELECT a.status FROM bounty_applications a WHERE a.bounty_id = b.id AND a.creator_id = $1)")
#define BOUNTY_COLS BOUNTY_COLUMNS(DB_COL_SQL, DB_COL_SQL_NEXT)
enum bounty_col { BOUNTY_COLUMNS(DB_COL_ENUM, DB_COL_ENUM) BC_COUNT };
#define BOUNTY_FROM " FROM bounties b JOIN users o ON o.id = b.owner_id"

static json_t *bounty_json(req_t *req, db_rows_t *r)
{
	json_t *o = json_pack("{s:I, s:s, s:s, s:s, s:o, s:s, s:o, s:s, s:b, s:I, s:o, s:o}",
		"id", (json_int_t)db_int(r, BC_ID), "title", db_text(r, BC_TITLE),
		"description", db_text(r, BC_DESCRIPTION), "category", db_text(r, BC_CATEGORY),
		"budget", money_json(db_int(r, BC_BUDGET)), "currency", db_text(r, BC_CURRENCY),
		"deadline", json_time(db_int(r, BC_DEADLINE)), "status", db_text(r, BC_STATUS),
		"is_featured", db_bool(r, BC_IS_FEATURED),
		"applications_count", (json_int_t)db_int(r, BC_APPLICATIONS_COUNT),
		"created_at", json_time(db_int(r, BC_CREATED_AT)), "updated_at", json_time(db_int(r, BC_UPDATED_AT)));
	json_object_set_new(o, "agreed_price", db_isnull(r, BC_AGREED_PRICE) ? json_null()
									     : money_json(db_int(r, BC_AGREED_PRICE)));
	json_object_set_new(o, "accepted_at", nullable_time(r, BC_ACCEPTED_AT));
	json_object_set_new(o, "completed_at", nullable_time(r, BC_COMPLETED_AT));
	json_object_set_new(o, "owner", user_brief_json(r, BC_OWNER_ID));
	if (db_isnull(r, BC_THUMB_KEY)) {
		json_object_set_new(o, "thumbnail_url", json_null());
	} else {
		char *url = store_public_url(db_text(r, BC_THUMB_KEY));
		json_object_set_new(o, "thumbnail_url", json_string(url));
		free(url);
	}
	if (req->user) {
		json_object_set_new(o, "is_owner", json_boolean(db_int(r, BC_OWNER_ID) == req->user->id));
		json_object_set_new(o, "has_applied", json_boolean(!db_isnull(r, BC_MY_STATUS)));
	}
	return o;
}

static json_t *bounties_rows(req_t *req, db_rows_t *r, const void *ctx)
{
	UNUSED(ctx);
	return rows_to_array_req(req, r, bounty_json);
}

/* ============================================================ lookups */

struct bounty_ref {
	int64_t id, owner_id, deadline, budget, accepted_app, applications;
	char status[16];
	bool applied; /* the caller applied */
	int64_t accepted_creator;
};

/* The bounty as the caller may see it, or 404 (replied, false).  A
 * cancelled bounty exists for its owner, its applicants and admins only.
 * The rows are released before returning (callers write next). */
static bool bounty_find_or_404(req_t *req, int64_t id, struct bounty_ref *b)
{
	db_rows_t *r = DBQ(req->db,
		"SELECT b.owner_id, b.status, b.deadline, b.budget_cents, b.accepted_application_id, b.applications_count,"
		" EXISTS (SELECT 1 FROM bounty_applications a WHERE a.bounty_id = b.id AND a.creator_id = $2),"
		" (SELECT a.creator_id FROM bounty_applications a WHERE a.id = b.accepted_application_id)"
		" FROM bounties b WHERE b.id = $1", P_INT(id), P_INT(viewer_id(req)));
	if (!r) {
		reply_db_error(req, "find bounty");
		return false;
	}
	bool found = db_next(r);
	if (found) {
		b->id = id;
		b->owner_id = db_int(r, 0);
		snprintf(b->status, sizeof(b->status), "%s", db_text(r, 1));
		b->deadline = db_int(r, 2);
		b->budget = db_int(r, 3);
		b->accepted_app = db_isnull(r, 4) ? 0 : db_int(r, 4);
		b->applications = db_int(r, 5);
		b->applied = db_bool(r, 6);
		b->accepted_creator = db_isnull(r, 7) ? 0 : db_int(r, 7);
	}
	bool failed = db_failed(r);
	db_done(r);
	if (failed) {
		reply_db_error(req, "find bounty");
		return false;
	}
	if (found && !strcmp(b->status, "cancelled") && !viewer_admin(req) && b->owner_id != viewer_id(req) &&
	    !b->applied)
		found = false;
	if (!found)
		reply_error(req, ERR_NOT_FOUND, "Bounty not found");
	return found;
}

static bool is_owner(req_t *req, const struct bounty_ref *b)
{
	return req->user && b->owner_id == req->user->id;
}

/* ============================================================= detail */

static json_t *image_list(req_t *req, int64_t bounty_id)
{
	db_rows_t *r = RQ(req, "SELECT bi.upload_id, up.storage_key, up.width, up.height FROM bounty_images bi"
			       " JOIN uploads up ON up.id = bi.upload_id WHERE bi.bounty_id = $1 ORDER BY bi.position",
			  P_INT(bounty_id));
	if (!r)
		return NULL;
	json_t *a = json_array();
	while (db_next(r)) {
		char *url = store_public_url(db_text(r, 1));
		json_array_append_new(a, json_pack("{s:I, s:s, s:o, s:o}", "upload_id", (json_int_t)db_int(r, 0),
			"url", url, "width", db_isnull(r, 2) ? json_null() : json_integer(db_int(r, 2)),
			"height", db_isnull(r, 3) ? json_null() : json_integer(db_int(r, 3))));
		free(url);
	}
	if (db_failed(r)) {
		json_decref(a);
		return NULL;
	}
	return a;
}

#define APP_COLUMNS(FIRST, NEXT) \
	FIRST(AC_ID, "a.id") \
	NEXT(AC_BOUNTY_ID, "a.bounty_id") \
	NEXT(AC_STATUS, "a.status") \
	NEXT(AC_MESSAGE, "a.message") \
	NEXT(AC_PRICE, "a.proposed_price_cents") \
	NEXT(AC_DAYS, "a.proposed_days") \
	NEXT(AC_CREATED_AT, "a.created_at") \
	NEXT(AC_USER_ID, "u.id") \
	NEXT(AC_USERNAME, "u.username") \
	NEXT(AC_FULL_NAME, "u.full_name") \
	NEXT(AC_AVATAR_URL, "u.avatar_url") \
	NEXT(AC_IS_VERIFIED, "u.is_verified")
#define APP_COLS APP_COLUMNS(DB_COL_SQL, DB_COL_SQL_NEXT)
enum app_col { APP_COLUMNS(DB_COL_ENUM, DB_COL_ENUM) AC_COUNT };
#define APP_FROM " FROM bounty_applications a JOIN users u ON u.id = a.creator_id"

static json_t *application_json(db_rows_t *r)
{
	json_t *o = json_pack("{s:I, s:I, s:s, s:s, s:o, s:o, s:o, s:o, s:[]}",
		"id", (json_int_t)db_int(r, AC_ID), "bounty_id", (json_int_t)db_int(r, AC_BOUNTY_ID),
		"status", db_text(r, AC_STATUS), "message", db_text(r, AC_MESSAGE),
		"proposed_price", db_isnull(r, AC_PRICE) ? json_null() : money_json(db_int(r, AC_PRICE)),
		"proposed_days", db_isnull(r, AC_DAYS) ? json_null() : json_integer(db_int(r, AC_DAYS)),
		"created_at", json_time(db_int(r, AC_CREATED_AT)), "creator", user_brief_json(r, AC_USER_ID),
		"portfolio");
	return o;
}

/* The applications of a bounty (all of them, or the one of creator when
 * creator > 0), each with its portfolio. */
static json_t *application_list(req_t *req, int64_t bounty_id, int64_t creator)
{
	db_rows_t *r = RQ(req, "SELECT " APP_COLS APP_FROM " WHERE a.bounty_id = $1 AND (CAST($2 AS BIGINT) = 0 OR a.creator_id = CAST($2 AS BIGINT))"
			       " ORDER BY a.created_at, a.id", P_INT(bounty_id), P_INT(creator));
	if (!r)
		return NULL;
	json_t *apps = rows_to_array(r, application_json);
	if (!apps)
		return NULL;
	r = RQ(req, "SELECT am.application_id, m.id, m.title, m.thumbnail_url FROM bounty_application_models am"
		    " JOIN bounty_applications a ON a.id = am.application_id JOIN models m ON m.id = am.model_id"
		    " WHERE a.bounty_id = $1 AND (CAST($2 AS BIGINT) = 0 OR a.creator_id = CAST($2 AS BIGINT)) AND m.deleted_at IS NULL"
		    " ORDER BY am.application_id, am.position", P_INT(bounty_id), P_INT(creator));
	if (!r) {
		json_decref(apps);
		return NULL;
	}
	while (db_next(r)) {
		size_t i;
		json_t *app;
		json_array_foreach(apps, i, app) {
			if (json_integer_value(json_object_get(app, "id")) != db_int(r, 0))
				continue;
			json_array_append_new(json_object_get(app, "portfolio"),
				json_pack("{s:I, s:s, s:s?}", "id", (json_int_t)db_int(r, 1), "title", db_text(r, 2),
					  "thumbnail_url", db_text(r, 3)));
		}
	}
	if (db_failed(r)) {
		json_decref(apps);
		return NULL;
	}
	return apps;
}

static json_t *delivery_json(db_rows_t *r)
{
	json_t *o = json_pack("{s:I, s:s, s:s, s:s?, s:o, s:o}", "id", (json_int_t)db_int(r, 0),
		"status", db_text(r, 1), "message", db_text(r, 2), "response", db_text(r, 3),
		"created_at", json_time(db_int(r, 4)), "responded_at", nullable_time(r, 5));
	json_object_set_new(o, "model", db_isnull(r, 6) ? json_null()
		: json_pack("{s:I, s:s, s:s?}", "id", (json_int_t)db_int(r, 6), "title", db_text(r, 7),
			    "thumbnail_url", db_text(r, 8)));
	if (db_isnull(r, 9)) {
		json_object_set_new(o, "image", json_null());
	} else {
		char *url = store_public_url(db_text(r, 10));
		json_object_set_new(o, "image", json_pack("{s:I, s:s}", "upload_id", (json_int_t)db_int(r, 9), "url", url));
		free(url);
	}
	return o;
}

static json_t *delivery_list(req_t *req, int64_t bounty_id)
{
	db_rows_t *r = RQ(req,
		"SELECT d.id, d.status, d.message, d.response, d.created_at, d.responded_at, m.id, m.title, m.thumbnail_url,"
		" up.id, up.storage_key FROM bounty_deliveries d"
		" LEFT JOIN models m ON m.id = d.model_id AND m.deleted_at IS NULL"
		" LEFT JOIN uploads up ON up.id = d.upload_id"
		" WHERE d.bounty_id = $1 ORDER BY d.created_at, d.id", P_INT(bounty_id));
	return r ? rows_to_array(r, delivery_json) : NULL;
}

/* The bounty document with what the caller may see of its applications
 * and deliveries. */
static int reply_bounty(req_t *req, int status, int64_t id)
{
	/* A banned owner's bounty is hidden (admin ban), but from them and admins. */
	db_rows_t *r = RQ(req, "SELECT " BOUNTY_COLS ", b.accepted_application_id" BOUNTY_FROM " WHERE b.id = $2"
			  " AND (o.is_banned = FALSE OR b.owner_id = $1 OR $3 = TRUE)",
			  P_INT(viewer_id(req)), P_INT(id), P_BOOL(viewer_admin(req)));
	if (!r)
		return reply_db_error(req, "read bounty");
	if (!db_next(r))
		return db_failed(r) ? reply_db_error(req, "read bounty") : reply_error(req, ERR_NOT_FOUND, "Bounty not found");
	json_t *o = bounty_json(req, r);
	int64_t owner = db_int(r, BC_OWNER_ID), accepted = db_isnull(r, BC_COUNT) ? 0 : db_int(r, BC_COUNT);
	bool applied = !db_isnull(r, BC_MY_STATUS);
	db_done(r);
	bool sees_all = viewer_admin(req) || owner == viewer_id(req);
	json_t *images = image_list(req, id);
	json_t *mine = NULL, *apps = NULL, *acc = NULL;
	if (images && sees_all)
		apps = application_list(req, id, 0);
	else if (images && applied)
		mine = application_list(req, id, viewer_id(req));
	bool ok = images && (!sees_all || apps) && (!(applied && !sees_all) || mine);
	int64_t accepted_creator = 0;
	if (ok && accepted) {
		db_rows_t *ar = RQ(req, "SELECT " APP_COLS APP_FROM " WHERE a.id = $1", P_INT(accepted));
		if (ar && db_next(ar)) {
			acc = application_json(ar);
			accepted_creator = db_int(ar, AC_USER_ID);
		}
		ok = ar && !db_failed(ar);
	}
	json_object_set_new(o, "images", images ? images : json_array());
	if (sees_all)
		json_object_set_new(o, "applications", apps ? apps : json_array());
	if (req->user)
		json_object_set_new(o, "my_application",
				    mine && json_array_size(mine) ? json_incref(json_array_get(mine, 0)) : json_null());
	json_decref(mine);
	/* the accepted creator is public (who is doing it); the terms are not */
	json_object_set_new(o, "accepted_creator", acc ? json_incref(json_object_get(acc, "creator")) : json_null());
	json_decref(acc);
	if (ok && (sees_all || (accepted_creator && accepted_creator == viewer_id(req)))) {
		json_t *d = delivery_list(req, id);
		ok = d != NULL;
		json_object_set_new(o, "deliveries", d ? d : json_array());
	}
	if (!ok) {
		json_decref(o);
		return reply_db_error(req, "read bounty details");
	}
	return reply_json(req, status, o);
}

/* =============================================================== list */

enum list_mode { LIST_PUBLIC, LIST_POSTED, LIST_APPLIED, LIST_ADMIN };

static int bounties_page(req_t *req, bool admin)
{
	valid_t v;
	page_t p;
	paged_begin(&v, req, &p);
	static const char *const sorts[] = { "newest", "deadline", "budget_high", "budget_low", NULL };
	static const char *const mines[] = { "posted", "applied", NULL };
	const char *status = q_enum(&v, "status", admin ? all_statuses : public_statuses, NULL);
	const char *category = q_enum(&v, "category", bounty_categories, NULL);
	const char *search = q_str(&v, "search", 100);
	const char *sort = q_enum(&v, "sort", sorts, "newest");
	int64_t bmin = q_money(&v, "budget_min", -1), bmax = q_money(&v, "budget_max", -1);
	const char *mine = admin ? NULL : q_enum(&v, "mine", mines, NULL);
	int featured = -1;
	q_bool(&v, "is_featured", &featured);
	int64_t owner = admin ? q_int(&v, "owner_id", 1, INT64_MAX, 0) : 0;
	if (v_ok(&v) && bmin >= 0 && bmax >= 0 && bmin > bmax)
		v_error(&v, "budget_min", "Must not be above budget_max");
	if (!v_ok(&v))
		return v_reply(&v);
	if (mine && !req->user)
		return reply_error(req, ERR_UNAUTHORIZED, "Sign in to list your bounties");
	int mode = admin ? LIST_ADMIN : !mine ? LIST_PUBLIC : !strcmp(mine, "posted") ? LIST_POSTED : LIST_APPLIED;
	const char *like = search && *search ? like_contains(req->arena, utf8_lower(req->arena, search)) : NULL;
	/* public: every bounty but cancelled ones and banned owners'; posted:
	 * the caller's own, cancelled too; applied: those the caller applied to. */
#define LIST_WHERE BOUNTY_FROM \
	" WHERE (($2 = 0 AND b.status <> 'cancelled' AND o.is_banned = FALSE) OR ($2 = 1 AND b.owner_id = $1)" \
	"     OR ($2 = 2 AND EXISTS (SELECT 1 FROM bounty_applications a WHERE a.bounty_id = b.id AND a.creator_id = $1))" \
	"     OR $2 = 3)" \
	" AND (CAST($3 AS TEXT) IS NULL OR b.status = $3)" \
	" AND (CAST($4 AS TEXT) IS NULL OR b.category = $4)" \
	" AND (CAST($5 AS BIGINT) < 0 OR b.budget_cents >= CAST($5 AS BIGINT))" \
	" AND (CAST($6 AS BIGINT) < 0 OR b.budget_cents <= CAST($6 AS BIGINT))" \
	" AND (CAST($7 AS TEXT) IS NULL OR b.search_text LIKE CAST($7 AS TEXT) ESCAPE '\\')" \
	" AND ($8 < 0 OR b.is_featured = ($8 = 1))" \
	" AND (CAST($9 AS BIGINT) = 0 OR b.owner_id = CAST($9 AS BIGINT))"
#define LIST_SELECT "SELECT " BOUNTY_COLS LIST_WHERE
	const char *rows_sql = !strcmp(sort, "deadline") ? LIST_SELECT " ORDER BY b.deadline, b.id"
			       : !strcmp(sort, "budget_high") ? LIST_SELECT " ORDER BY b.budget_cents DESC, b.id DESC"
			       : !strcmp(sort, "budget_low") ? LIST_SELECT " ORDER BY b.budget_cents, b.id"
							     : LIST_SELECT " ORDER BY b.is_featured DESC, b.created_at DESC, b.id DESC";
	db_param_t filters[] = { P_INT(viewer_id(req)), P_INT(mode), P_TEXT(status), P_TEXT(category), P_INT(bmin),
				 P_INT(bmax), P_TEXT(like), P_INT(featured), P_INT(owner) };
	paged_t q = {
		.what = "list bounties",
		.count_sql = "SELECT COUNT(*)" LIST_WHERE,
		.rows_sql = rows_sql,
		.params = filters, .nparams = 9,
		.rows = bounties_rows,
	};
#undef LIST_SELECT
#undef LIST_WHERE
	return paged_reply(req, &p, &q);
}

static int bounties_list(req_t *req)
{
	return bounties_page(req, false);
}

static int admin_bounties_list(req_t *req)
{
	return bounties_page(req, true);
}

/* ============================================================= create */

/* "2026-12-31", "2026-12-31T18:00:00Z", "2026-12-31T18:00:00.000Z" or
 * "...+00:00" into milliseconds; a date alone means its end (23:59:59
 * UTC).  False for anything else. */
static bool parse_deadline(const char *s, int64_t *out)
{
	int y, mo, d, h = 23, mi = 59, sec = 59, n = 0;
	if (sscanf(s, "%4d-%2d-%2d%n", &y, &mo, &d, &n) != 3 || n != 10)
		return false;
	const char *t = s + 10;
	if (*t) {
		int m = 0;
		if ((*t != 'T' && *t != ' ') || sscanf(t + 1, "%2d:%2d:%2d%n", &h, &mi, &sec, &m) != 3 || m != 8)
			return false;
		t += 9;
		if (*t == '.') {
			t++;
			if (*t < '0' || *t > '9')
				return false;
			while (*t >= '0' && *t <= '9')
				t++;
		}
		if (strcmp(t, "Z") && strcmp(t, "+00:00"))
			return false;
	}
	if (y < 1970 || y > 9999 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 59 || h < 0 ||
	    mi < 0 || sec < 0)
		return false;
	struct tm tm = { .tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d, .tm_hour = h, .tm_min = mi, .tm_sec = sec };
	time_t tt = timegm(&tm);
	if (tt == (time_t)-1 || tm.tm_mday != d) /* 31 February */
		return false;
	*out = (int64_t)tt * 1000;
	return true;
}

static int64_t read_deadline(valid_t *v, int flags)
{
	const char *s = v_str(v, "deadline", flags, 10, 40);
	if (!s)
		return 0;
	int64_t ms = 0, now = now_ms();
	if (!parse_deadline(s, &ms))
		v_error(v, "deadline", "Must be a date (2026-12-31) or an ISO 8601 UTC time (2026-12-31T18:00:00Z)");
	else if (ms <= now)
		v_error(v, "deadline", "Must be in the future");
	else if (ms > now + DEADLINE_MAX_MS)
		v_error(v, "deadline", "Must be within two years");
	else
		return ms;
	return 0;
}

/* A list of at most max distinct ids that each pass `check` (a COUNT
 * query over $1 = id, $2 = the caller); returns how many into ids. */
static size_t read_owned_ids(valid_t *v, const char *field, size_t max, const char *check, const char *msg,
			     int64_t *ids)
{
	json_t *j = json_object_get(v->obj, field);
	if (!j || json_is_null(j))
		return 0;
	if (!json_is_array(j) || json_array_size(j) > max) {
		v_error(v, field, arena_printf(v->req->arena, "Must be a list of at most %zu ids", max));
		return 0;
	}
	size_t n = 0, i;
	json_t *e;
	json_array_foreach(j, i, e) {
		json_int_t id = json_is_integer(e) ? json_integer_value(e) : 0;
		for (size_t k = 0; id > 0 && k < n; k++)
			if (ids[k] == id)
				id = 0;
		int64_t c = 0;
		if (id <= 0 || db_scalar(v->req->db, check, DB_PARAMS(P_INT(id), P_INT(v->req->user->id)), &c) != 1 ||
		    c != 1) {
			v_error(v, field, msg);
			return 0;
		}
		ids[n++] = id;
	}
	return n;
}

/* What ?search= matches: the title and the description, lowercased
 * beyond ASCII (the same lowering as the query's), an arena string. */
static const char *search_text(req_t *req, const char *title, const char *description)
{
	return utf8_lower(req->arena, arena_printf(req->arena, "%s\n%s", title, description));
}

#define OWN_IMAGE_SQL "SELECT COUNT(*) FROM uploads WHERE id = $1 AND user_id = $2 AND kind = 'image'"
#define OWN_MODEL_SQL "SELECT COUNT(*) FROM models WHERE id = $1 AND creator_id = $2 AND deleted_at IS NULL"

static int bounties_create(req_t *req)
{
	valid_t v;
	v_init(&v, req, req_body(req));
	const char *title = v_str(&v, "title", V_REQUIRED, 3, TITLE_MAX);
	const char *description = v_str(&v, "description", V_REQUIRED | V_MULTILINE, 10, DESCRIPTION_MAX);
	int64_t budget = v_money(&v, "budget", V_REQUIRED, BUDGET_MAX_CENTS, 0);
	if (v_ok(&v) && budget < BUDGET_MIN_CENTS)
		v_error(&v, "budget", "Must be at least 1.00");
	int64_t deadline = read_deadline(&v, V_REQUIRED);
	const char *category = v_enum(&v, "category", 0, bounty_categories, "other");
	int64_t images[IMAGES_MAX];
	size_t nimages = read_owned_ids(&v, "reference_image_ids", IMAGES_MAX, OWN_IMAGE_SQL,
					"Each must be the upload_id of an image you uploaded, once", images);
	if (!v_ok(&v))
		return v_reply(&v);
	int64_t now = now_ms(), id = 0;
	if (!db_begin(req->db))
		return reply_db_error(req, "begin");
	bool ok = DBS(req->db, &id,
		"INSERT INTO bounties (owner_id, title, search_text, description, category, budget_cents, deadline,"
		" created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) RETURNING id",
		P_INT(req->user->id), P_TEXT(title), P_TEXT(search_text(req, title, description)), P_TEXT(description),
		P_TEXT(category), P_INT(budget), P_INT(deadline), P_INT(now)) == 1;
	for (size_t i = 0; ok && i < nimages; i++)
		ok = DBX(req->db, "INSERT INTO bounty_images (bounty_id, position, upload_id) VALUES ($1, $2, $3)",
			 P_INT(id), P_INT(i), P_INT(images[i])) == 1;
	if (!ok || !db_commit(req->db)) {
		db_rollback(req->db);
		return reply_db_error(req, "create bounty");
	}
	return reply_bounty(req, 201, id);
}

static int bounties_get(req_t *req)
{
	struct bounty_ref b;
	if (!bounty_find_or_404(req, req_param_int(req, "id"), &b))
		return DONE;
	return reply_bounty(req, 200, b.id);
}

/* For a guarded write (UPDATE ... WHERE status = <what the lookup saw>):
 * true when it changed its one row; 0 rows means another request changed
 * the bounty between the lookup and the write (*raced: answer 409). */
static bool changed_one(int64_t n, bool *raced)
{
	if (n == 0)
		*raced = true;
	return n == 1;
}

static int reply_raced(req_t *req)
{
	return reply_error(req, ERR_CONFLICT, "The bounty changed meanwhile: reload it and try again");
}

/* ============================================================== apply */

static int bounties_apply(req_t *req)
{
	struct bounty_ref b;
	if (!bounty_find_or_404(req, req_param_int(req, "id"), &b))
		return DONE;
	if (is_owner(req, &b))
		return reply_error(req, ERR_FORBIDDEN, "You cannot apply to your own bounty");
	if (strcmp(req->user->user_type, "creator"))
		return reply_error(req, ERR_FORBIDDEN, "Only creators can apply to bounties");
	if (b.applied)
		return reply_error(req, ERR_CONFLICT, "You already applied to this bounty");
	if (strcmp(b.status, "open"))
		return reply_error(req, ERR_CONFLICT, "This bounty is not open for applications");
	if (b.deadline <= now_ms())
		return reply_error(req, ERR_CONFLICT, "The deadline of this bounty has passed");
	if (b.applications >= APPLICATIONS_MAX)
		return reply_error(req, ERR_CONFLICT, "This bounty has all the applications it takes");
	valid_t v;
	v_init(&v, req, req_body(req));
	const char *message = v_str(&v, "message", V_REQUIRED | V_MULTILINE, 10, MESSAGE_MAX);
	int64_t price = v_money(&v, "proposed_price", V_NULLABLE, BUDGET_MAX_CENTS, -1);
	if (v_ok(&v) && price == 0)
		v_error(&v, "proposed_price", "Must be above 0");
	int64_t days = v_int(&v, "proposed_days", V_NULLABLE, 1, DAYS_MAX, 0);
	int64_t models[PORTFOLIO_MAX];
	size_t nmodels = read_owned_ids(&v, "portfolio_model_ids", PORTFOLIO_MAX, OWN_MODEL_SQL,
					"Each must be the id of one of your models, once", models);
	if (!v_ok(&v))
		return v_reply(&v);
	int64_t now = now_ms(), id = 0;
	if (!db_begin(req->db))
		return reply_db_error(req, "begin");
	bool ok = DBS(req->db, &id,
		"INSERT INTO bounty_applications (bounty_id, creator_id, message, proposed_price_cents, proposed_days,"
		" created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING id",
		P_INT(b.id), P_INT(req->user->id), P_TEXT(message), price > 0 ? P_INT(price) : P_NULL,
		days > 0 ? P_INT(days) : P_NULL, P_INT(now)) == 1;
	bool dup = !ok && db_error(req->db) == DB_ERR_UNIQUE;
	for (size_t i = 0; ok && i < nmodels; i++)
		ok = DBX(req->db, "INSERT INTO bounty_application_models (application_id, position, model_id)"
				  " VALUES ($1, $2, $3)", P_INT(id), P_INT(i), P_INT(models[i])) == 1;
	/* the status check again, in the write: an accept or a cancel may
	 * have come between the lookup and now */
	bool raced = false;
	ok = ok && changed_one(DBX(req->db, "UPDATE bounties SET applications_count = applications_count + 1"
					   " WHERE id = $1 AND status = 'open' AND applications_count < $2", P_INT(b.id),
				   P_INT(APPLICATIONS_MAX)), &raced);
	ok = ok && notify(req->db, b.owner_id, "bounty_application", "New application to your bounty",
			  arena_printf(req->arena, "%s applied to your bounty", req->user->username),
			  arena_printf(req->arena, "/bounties/%lld", (long long)b.id));
	if (!ok || !db_commit(req->db)) {
		db_rollback(req->db);
		notify_discard();
		if (dup)
			return reply_error(req, ERR_CONFLICT, "You already applied to this bounty");
		return raced ? reply_raced(req) : reply_db_error(req, "apply to bounty");
	}
	notify_flush();
	json_t *apps = application_list(req, b.id, req->user->id);
	if (!apps || !json_array_size(apps)) {
		json_decref(apps);
		return reply_db_error(req, "read application");
	}
	json_t *app = json_incref(json_array_get(apps, 0));
	json_decref(apps);
	return reply_created(req, app);
}

/* ===================================================== commission flow */

/* Notifies every applicant of bounty but `except` (0: all). */
static bool notify_applicants(req_t *req, int64_t bounty_id, int64_t except, const char *type, const char *title,
			      const char *message)
{
	db_rows_t *r = DBQ(req->db, "SELECT creator_id FROM bounty_applications WHERE bounty_id = $1 AND creator_id <> $2",
			   P_INT(bounty_id), P_INT(except));
	if (!r)
		return false;
	int64_t ids[APPLICATIONS_MAX];
	size_t n = 0;
	while (n < ARRAY_LEN(ids) && db_next(r))
		ids[n++] = db_int(r, 0);
	bool failed = db_failed(r);
	db_done(r);
	const char *url = arena_printf(req->arena, "/bounties/%lld", (long long)bounty_id);
	for (size_t i = 0; !failed && i < n; i++)
		failed = !notify(req->db, ids[i], type, title, message, url);
	return !failed;
}

static int reply_not_owner(req_t *req)
{
	return reply_error(req, ERR_FORBIDDEN, "Only the owner of this bounty can do that");
}

static int bounties_accept(req_t *req)
{
	struct bounty_ref b;
	if (!bounty_find_or_404(req, req_param_int(req, "id"), &b))
		return DONE;
	if (!is_owner(req, &b))
		return reply_not_owner(req);
	int64_t app_id = req_param_int(req, "app_id");
	db_rows_t *r = DBQ(req->db, "SELECT creator_id, proposed_price_cents FROM bounty_applications"
				    " WHERE id = $1 AND bounty_id = $2", P_INT(app_id), P_INT(b.id));
	if (!r)
		return reply_db_error(req, "find application");
	bool found = db_next(r);
	int64_t creator = found ? db_int(r, 0) : 0;
	int64_t price = found && !db_isnull(r, 1) ? db_int(r, 1) : b.budget;
	bool failed = db_failed(r);
	db_done(r);
	if (failed)
		return reply_db_error(req, "find application");
	if (!found)
		return reply_error(req, ERR_NOT_FOUND, "Application not found");
	if (strcmp(b.status, "open"))
		return reply_error(req, ERR_CONFLICT, "Only an open bounty can accept an application");
	int64_t now = now_ms();
	if (!db_begin(req->db))
		return reply_db_error(req, "begin");
	bool raced = false;
	bool ok = changed_one(DBX(req->db, "UPDATE bounties SET status = 'in_progress', accepted_application_id = $2,"
					   " agreed_price_cents = $3, accepted_at = $4, updated_at = $4"
					   " WHERE id = $1 AND status = 'open'",
				  P_INT(b.id), P_INT(app_id), P_INT(price), P_INT(now)), &raced);
	ok = ok && DBX(req->db, "UPDATE bounty_applications SET status = CASE WHEN id = $2 THEN 'accepted' ELSE 'declined' END,"
				" updated_at = $3 WHERE bounty_id = $1", P_INT(b.id), P_INT(app_id), P_INT(now)) >= 1;
	ok = ok && notify(req->db, creator, "bounty_accepted", "Your application was accepted",
			  "The owner accepted your application: you can start now",
			  arena_printf(req->arena, "/bounties/%lld", (long long)b.id));
	ok = ok && notify_applicants(req, b.id, creator, "bounty_declined", "The bounty went to another creator",
				     "The owner chose another application");
	if (!ok || !db_commit(req->db)) {
		db_rollback(req->db);
		notify_discard();
		return raced ? reply_raced(req) : reply_db_error(req, "accept application");
	}
	notify_flush();
	return reply_bounty(req, 200, b.id);
}

static int bounties_deliver(req_t *req)
{
	struct bounty_ref b;
	if (!bounty_find_or_404(req, req_param_int(req, "id"), &b))
		return DONE;
	if (!b.accepted_creator || b.accepted_creator != req->user->id)
		return reply_error(req, ERR_FORBIDDEN, "Only the accepted creator can deliver");
	if (strcmp(b.status, "in_progress"))
		return reply_error(req, ERR_CONFLICT, "This bounty is not in progress");
	valid_t v;
	v_init(&v, req, req_body(req));
	const char *message = v_str(&v, "message", V_REQUIRED | V_MULTILINE, 1, MESSAGE_MAX);
	int64_t model = v_int(&v, "model_id", V_NULLABLE, 1, INT64_MAX, 0);
	int64_t image = v_int(&v, "upload_id", V_NULLABLE, 1, INT64_MAX, 0);
	int64_t c = 0;
	if (model && (DBS(req->db, &c, OWN_MODEL_SQL, P_INT(model), P_INT(req->user->id)) != 1 || c != 1))
		v_error(&v, "model_id", "Must be one of your models");
	if (image && (DBS(req->db, &c, OWN_IMAGE_SQL, P_INT(image), P_INT(req->user->id)) != 1 || c != 1))
		v_error(&v, "upload_id", "Must be the upload_id of an image you uploaded");
	if (v_ok(&v) && !model && !image)
		v_error(&v, "model_id", "Deliver one of your models (model_id) or an image (upload_id)");
	if (!v_ok(&v))
		return v_reply(&v);
	int64_t pending = 0;
	if (DBS(req->db, &pending, "SELECT COUNT(*) FROM bounty_deliveries WHERE bounty_id = $1 AND status = 'submitted'",
		P_INT(b.id)) != 1)
		return reply_db_error(req, "count deliveries");
	if (pending)
		return reply_error(req, ERR_CONFLICT, "Your last delivery is waiting for the owner's answer");
	int64_t now = now_ms();
	if (!db_begin(req->db))
		return reply_db_error(req, "begin");
	bool ok = DBX(req->db, "INSERT INTO bounty_deliveries (bounty_id, creator_id, message, model_id, upload_id, created_at)"
			       " VALUES ($1, $2, $3, $4, $5, $6)", P_INT(b.id), P_INT(req->user->id), P_TEXT(message),
		      model ? P_INT(model) : P_NULL, image ? P_INT(image) : P_NULL, P_INT(now)) == 1;
	ok = ok && DBX(req->db, "UPDATE bounties SET updated_at = $2 WHERE id = $1", P_INT(b.id), P_INT(now)) == 1;
	ok = ok && notify(req->db, b.owner_id, "bounty_delivered", "Your bounty was delivered",
			  arena_printf(req->arena, "%s delivered their work: review it", req->user->username),
			  arena_printf(req->arena, "/bounties/%lld", (long long)b.id));
	if (!ok || !db_commit(req->db)) {
		db_rollback(req->db);
		notify_discard();
		return reply_db_error(req, "deliver");
	}
	notify_flush();
	return reply_bounty(req, 201, b.id);
}

/* The owner's answer to the waiting delivery: complete (accepted) or
 * changes_requested with a message. */
static int answer_delivery(req_t *req, bool complete)
{
	struct bounty_ref b;
	if (!bounty_find_or_404(req, req_param_int(req, "id"), &b))
		return DONE;
	if (!is_owner(req, &b))
		return reply_not_owner(req);
	if (strcmp(b.status, "in_progress"))
		return reply_error(req, ERR_CONFLICT, "This bounty is not in progress");
	valid_t v;
	v_init(&v, req, req_body(req));
	const char *message = v_str(&v, "message", (complete ? 0 : V_REQUIRED) | V_MULTILINE, 1, MESSAGE_MAX);
	if (!v_ok(&v))
		return v_reply(&v);
	int64_t delivery = 0;
	int got = DBS(req->db, &delivery, "SELECT MAX(id) FROM bounty_deliveries WHERE bounty_id = $1 AND status = 'submitted'",
		      P_INT(b.id));
	if (got < 0)
		return reply_db_error(req, "find delivery");
	if (got == 0 || delivery == 0)
		return reply_error(req, ERR_CONFLICT, "There is no delivery waiting for your answer");
	int64_t now = now_ms();
	const char *url = arena_printf(req->arena, "/bounties/%lld", (long long)b.id);
	if (!db_begin(req->db))
		return reply_db_error(req, "begin");
	bool raced = false;
	bool ok = changed_one(DBX(req->db, "UPDATE bounty_deliveries SET status = $2, response = $3, responded_at = $4"
					   " WHERE id = $1 AND status = 'submitted'", P_INT(delivery),
				  P_TEXT(complete ? "accepted" : "changes_requested"), P_TEXT(message), P_INT(now)),
			      &raced);
	if (complete) {
		ok = ok && changed_one(DBX(req->db, "UPDATE bounties SET status = 'completed', completed_at = $2,"
						   " updated_at = $2 WHERE id = $1 AND status = 'in_progress'",
					   P_INT(b.id), P_INT(now)), &raced);
		ok = ok && notify(req->db, b.accepted_creator, "bounty_completed", "Bounty completed",
				  "The owner accepted your delivery: the bounty is complete", url);
	} else {
		ok = ok && DBX(req->db, "UPDATE bounties SET updated_at = $2 WHERE id = $1", P_INT(b.id), P_INT(now)) == 1;
		ok = ok && notify(req->db, b.accepted_creator, "bounty_changes_requested", "Changes requested",
				  message, url);
	}
	if (!ok || !db_commit(req->db)) {
		db_rollback(req->db);
		notify_discard();
		return raced ? reply_raced(req) : reply_db_error(req, "answer delivery");
	}
	notify_flush();
	return reply_bounty(req, 200, b.id);
}

static int bounties_complete(req_t *req)
{
	return answer_delivery(req, true);
}

static int bounties_request_changes(req_t *req)
{
	return answer_delivery(req, false);
}

static int bounties_cancel(req_t *req)
{
	struct bounty_ref b;
	if (!bounty_find_or_404(req, req_param_int(req, "id"), &b))
		return DONE;
	if (!is_owner(req, &b))
		return reply_not_owner(req);
	if (strcmp(b.status, "open"))
		return reply_error(req, ERR_CONFLICT, "Only an open bounty can be cancelled");
	int64_t now = now_ms();
	if (!db_begin(req->db))
		return reply_db_error(req, "begin");
	bool raced = false;
	bool ok = changed_one(DBX(req->db, "UPDATE bounties SET status = 'cancelled', updated_at = $2"
					   " WHERE id = $1 AND status = 'open'", P_INT(b.id), P_INT(now)), &raced);
	ok = ok && DBX(req->db, "UPDATE bounty_applications SET status = 'declined', updated_at = $2 WHERE bounty_id = $1",
		       P_INT(b.id), P_INT(now)) >= 0;
	ok = ok && notify_applicants(req, b.id, 0, "bounty_cancelled", "A bounty you applied to was cancelled",
				     "The owner cancelled the bounty");
	if (!ok || !db_commit(req->db)) {
		db_rollback(req->db);
		notify_discard();
		return raced ? reply_raced(req) : reply_db_error(req, "cancel bounty");
	}
	notify_flush();
	return reply_bounty(req, 200, b.id);
}

/* ============================================================== admin */

/* title, description, category, status, is_featured, deadline (any
 * time: an admin may extend or close it), budget. */
static int admin_bounties_update(req_t *req)
{
	int64_t id = req_param_int(req, "id");
	valid_t v;
	v_init(&v, req, req_body(req));
	const char *title = v_str(&v, "title", 0, 3, TITLE_MAX);
	const char *description = v_str(&v, "description", V_MULTILINE, 10, DESCRIPTION_MAX);
	const char *category = v_enum(&v, "category", 0, bounty_categories, NULL);
	const char *status = v_enum(&v, "status", 0, all_statuses, NULL);
	int featured = v_present(&v, "is_featured") ? v_bool(&v, "is_featured", 0, false) : -1;
	int64_t budget = v_money(&v, "budget", 0, BUDGET_MAX_CENTS, -1);
	if (v_ok(&v) && budget >= 0 && budget < BUDGET_MIN_CENTS)
		v_error(&v, "budget", "Must be at least 1.00");
	int64_t deadline = 0;
	if (v_present(&v, "deadline")) {
		const char *s = v_str(&v, "deadline", V_REQUIRED, 10, 40);
		if (s && !parse_deadline(s, &deadline))
			v_error(&v, "deadline", "Must be a date (2026-12-31) or an ISO 8601 UTC time (2026-12-31T18:00:00Z)");
	}
	if (!v_ok(&v))
		return v_reply(&v);
	const char *text = NULL; /* the new search text when title or description change */
	if (title || description) {
		db_rows_t *r = RQ(req, "SELECT title, description FROM bounties WHERE id = $1", P_INT(id));
		if (!r)
			return reply_db_error(req, "read bounty");
		if (db_next(r))
			text = search_text(req, title ? title : db_text(r, 0), description ? description : db_text(r, 1));
		bool failed = db_failed(r);
		db_done(r);
		if (failed)
			return reply_db_error(req, "read bounty");
	}
	int64_t changed = DBX(req->db,
		"UPDATE bounties SET title = COALESCE($2, title), description = COALESCE($4, description),"
		" search_text = CASE WHEN CAST($3 AS TEXT) IS NULL THEN search_text ELSE $3 END,"
		" category = COALESCE($5, category),"
		" status = COALESCE(CAST($6 AS TEXT), status), is_featured = CASE WHEN $7 < 0 THEN is_featured ELSE $7 = 1 END,"
		" budget_cents = CASE WHEN CAST($8 AS BIGINT) < 0 THEN budget_cents ELSE CAST($8 AS BIGINT) END,"
		" deadline = CASE WHEN CAST($9 AS BIGINT) = 0 THEN deadline ELSE CAST($9 AS BIGINT) END,"
		" completed_at = CASE WHEN CAST($6 AS TEXT) = 'completed' AND completed_at IS NULL THEN CAST($10 AS BIGINT) ELSE completed_at END,"
		" updated_at = CAST($10 AS BIGINT) WHERE id = $1",
		P_INT(id), P_TEXT(title), P_TEXT(text), P_TEXT(description),
		P_TEXT(category), P_TEXT(status), P_INT(featured), P_INT(budget), P_INT(deadline), P_INT(now_ms()));
	if (changed < 0)
		return reply_db_error(req, "update bounty");
	if (changed == 0)
		return reply_error(req, ERR_NOT_FOUND, "Bounty not found");
	audit_log(req->db, req, "bounty.update", "bounty", id,
		  json_pack("{s:s?, s:s?, s:i}", "status", status, "title", title, "is_featured", featured));
	return reply_bounty(req, 200, id);
}

static int admin_bounties_delete(req_t *req)
{
	int64_t id = req_param_int(req, "id");
	int64_t changed = DBX(req->db, "DELETE FROM bounties WHERE id = $1", P_INT(id));
	if (changed < 0)
		return reply_db_error(req, "delete bounty");
	if (changed == 0)
		return reply_error(req, ERR_NOT_FOUND, "Bounty not found");
	audit_log(req->db, req, "bounty.delete", "bounty", id, NULL);
	return reply_ok(req, json_pack("{s:s, s:I}", "message", "Bounty deleted", "id", (json_int_t)id));
}

const route_t bounty_routes[] = {
	{ M_GET, "/api/bounties", bounties_list, ACCESS_OPTIONAL, RL_GENERAL, BODY_NONE, 0, 0, "Bounties: status, category, budget, search, paged" },
	{ M_POST, "/api/bounties", bounties_create, ACCESS_VERIFIED, RL_GENERAL, BODY_JSON, 0, 0, "Post a bounty" },
	{ M_GET, "/api/bounties/{id:int}", bounties_get, ACCESS_OPTIONAL, RL_GENERAL, BODY_NONE, 0, 0, "A bounty (applications for its owner)" },
	{ M_POST, "/api/bounties/{id:int}/apply", bounties_apply, ACCESS_VERIFIED, RL_GENERAL, BODY_JSON, 0, 0, "Apply (creators, once, while open)" },
	{ M_POST, "/api/bounties/{id:int}/applications/{app_id:int}/accept", bounties_accept, ACCESS_USER, RL_GENERAL, BODY_NONE, 0, 0, "Accept an application (owner)" },
	{ M_POST, "/api/bounties/{id:int}/deliver", bounties_deliver, ACCESS_VERIFIED, RL_GENERAL, BODY_JSON, 0, 0, "Deliver (the accepted creator)" },
	{ M_POST, "/api/bounties/{id:int}/request-changes", bounties_request_changes, ACCESS_USER, RL_GENERAL, BODY_JSON, 0, 0, "Ask for changes to the delivery (owner)" },
	{ M_POST, "/api/bounties/{id:int}/complete", bounties_complete, ACCESS_USER, RL_GENERAL, BODY_JSON, 0, 0, "Accept the delivery: completed (owner)" },
	{ M_POST, "/api/bounties/{id:int}/cancel", bounties_cancel, ACCESS_USER, RL_GENERAL, BODY_NONE, 0, 0, "Cancel an open bounty (owner)" },
	{ M_GET, "/api/admin/bounties", admin_bounties_list, ACCESS_ADMIN, RL_ADMIN, BODY_NONE, 0, 0, "Every bounty: filters, paged" },
	{ M_PUT, "/api/admin/bounties/{id:int}", admin_bounties_update, ACCESS_ADMIN, RL_ADMIN, BODY_JSON, 0, 0, "Edit a bounty" },
	{ M_DELETE, "/api/admin/bounties/{id:int}", admin_bounties_delete, ACCESS_ADMIN, RL_ADMIN, BODY_NONE, 0, 0, "Delete a bounty" },
};
EXPORT_ROUTES(bounty_routes);
