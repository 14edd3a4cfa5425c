/*
 * leaderboard.c: creators ranked by sales, downloads or rating.
 *
 * all_time sums the counters kept on models; week and month sum model_daily
 * over the last 7 or 30 days (today included).  rating is the average of
 * every rating of a creator's models whatever the period (ratings are not
 * kept per day), and lists only creators who have ratings.  Only public
 * models count, and only creators with a value above zero are ranked.
 */
#include <string.h>
#include "api.h"
#include "models_common.h"
#include "../auth/account.h"
#include "../core/util.h"
#include "../http/reply.h"
#include "../http/request.h"
#include "../http/validate.h"
#include "paged.h"

static const char *const PERIODS[] = { "week", "month", "all_time", NULL };
static const char *const METRICS[] = { "sales", "downloads", "rating", NULL };

/* Per creator: creator_id, value, with $1 the first day counted. */
static const char *value_source(const char *period, const char *metric)
{
	if (!strcmp(metric, "rating"))
		return "SELECT m.creator_id, CAST(SUM(m.rating_sum) AS DOUBLE PRECISION) / SUM(m.rating_count) AS value"
		       " FROM models m WHERE " MODEL_PUBLIC " AND $1 >= 0"
		       " GROUP BY m.creator_id HAVING SUM(m.rating_count) > 0";
	bool sales = !strcmp(metric, "sales");
	if (!strcmp(period, "all_time"))
		return sales ? "SELECT m.creator_id, SUM(m.sales_count) AS value FROM models m WHERE " MODEL_PUBLIC
			       " AND $1 >= 0 GROUP BY m.creator_id HAVING SUM(m.sales_count) > 0"
			     : "SELECT m.creator_id, SUM(m.downloads_count) AS value FROM models m WHERE " MODEL_PUBLIC
			       " AND $1 >= 0 GROUP BY m.creator_id HAVING SUM(m.downloads_count) > 0";
	return sales ? "SELECT m.creator_id, SUM(d.sales) AS value FROM model_daily d JOIN models m ON m.id = d.model_id"
		       " WHERE " MODEL_PUBLIC " AND d.day >= $1 GROUP BY m.creator_id HAVING SUM(d.sales) > 0"
		     : "SELECT m.creator_id, SUM(d.downloads) AS value FROM model_daily d JOIN models m ON m.id = d.model_id"
		       " WHERE " MODEL_PUBLIC " AND d.day >= $1 GROUP BY m.creator_id HAVING SUM(d.downloads) > 0";
}

struct ranking {
	int64_t offset; /* the rank before the page's first */
	bool rating;    /* the value is an average, rounded to cents */
};

static json_t *entry_json(db_rows_t *r, json_t *value)
{
	return json_pack("{s:o, s:o, s:I}", "user", user_json_row(r), "value", value,
			 "models_count", (json_int_t)db_int(r, UC_COUNT + 1));
}

/* An average rating, rounded to cents. */
static json_t *rating_entry(db_rows_t *r)
{
	return entry_json(r, json_real((double)(int64_t)(db_double(r, UC_COUNT) * 100.0 + 0.5) / 100.0));
}

static json_t *count_entry(db_rows_t *r)
{
	return entry_json(r, json_integer(db_int(r, UC_COUNT)));
}

/* The page's entries, ranked from the offset on. */
static json_t *entries(req_t *req, db_rows_t *r, const void *ctx)
{
	UNUSED(req);
	const struct ranking *k = ctx;
	json_t *items = rows_to_array(r, k->rating ? rating_entry : count_entry);
	size_t i;
	json_t *e;
	json_array_foreach(items, i, e)
		json_object_set_new(e, "rank", json_integer(k->offset + (int64_t)i + 1));
	return items;
}

static int leaderboard_get(req_t *req)
{
	valid_t v;
	page_t p;
	paged_begin(&v, req, &p);
	const char *period = q_enum(&v, "period", PERIODS, "all_time");
	const char *metric = q_enum(&v, "metric", METRICS, "sales");
	if (!v_ok(&v))
		return v_reply(&v);
	int64_t today = epoch_day(now_ms());
	int64_t first_day = !strcmp(period, "week") ? today - 6 : !strcmp(period, "month") ? today - 29 : 0;
	bool rating = !strcmp(metric, "rating");
	const char *src = value_source(period, metric);
	const char *from = arena_printf(req->arena,
		" FROM users u JOIN (%s) s ON s.creator_id = u.id"
		" WHERE u.user_type = 'creator' AND u.deleted_at IS NULL AND u.is_banned = FALSE", src);

	db_param_t filters[] = { P_INT(first_day) };
	paged_t q = {
		.what = "leaderboard",
		.count_sql = arena_printf(req->arena, "SELECT COUNT(*)%s", from),
		.rows_sql = arena_printf(req->arena, "SELECT " USER_PUBLIC_COLS ", s.value," /* UC_COUNT, + 1 */
			" (SELECT COUNT(*) FROM models m WHERE m.creator_id = u.id AND " MODEL_PUBLIC ")"
			"%s ORDER BY s.value DESC, u.id", from),
		.params = filters, .nparams = 1,
		.rows = entries,
		.ctx = &(struct ranking){ p.offset, rating },
	};
	return paged_reply(req, &p, &q);
}

const route_t leaderboard_routes[] = {
	{ M_GET, "/api/leaderboard", leaderboard_get, ACCESS_PUBLIC, RL_GENERAL, BODY_NONE, 0, 0, "Creators ranked by sales, downloads or rating" },
};
EXPORT_ROUTES(leaderboard_routes);
