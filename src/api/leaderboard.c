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

/*
 * Where a ranking's creators come from (u: users, the creator), the value
 * and its order, with $1 the first day counted.  all_time and rating read
 * creator_totals (migration 0027) in the order of one of its partial
 * indexes, so a page touches its own rows, not every model; week and month
 * sum the period's days of model_daily (7 or 30 days of activity, whatever
 * the number of models).  models_count is users.models_count, the public
 * models (migration 0009).
 */
struct source {
	const char *count, *from, *value, *order;
};

#define CREATOR_OK " u.user_type = 'creator' AND u.deleted_at IS NULL AND u.is_banned = FALSE"
/* listed: the creator may be ranked (CREATOR_OK, kept by migration 0027),
 * so that the count reads the ranking's index alone. */
#define TOTALS_WHERE(cond) " WHERE t.listed = TRUE AND " cond " AND $1 >= 0"
#define TOTALS(cond) "SELECT COUNT(*) FROM creator_totals t" TOTALS_WHERE(cond), \
	" FROM creator_totals t JOIN users u ON u.id = t.creator_id" TOTALS_WHERE(cond)
/* The period's days from model_daily's day index, and their models.  The
 * upper bound (no day is later than today, $1 + 6 or + 29) is for
 * SQLite, which has no histogram: it takes a range open at one end for a
 * quarter of the table, and walked every model in creator order instead,
 * probing its days. */
#define DAILY_FROM(col)                                                                                 \
	" FROM users u JOIN (SELECT m.creator_id, SUM(d." col ") AS value FROM model_daily d"          \
	" JOIN models m ON m.id = d.model_id WHERE " MODEL_PUBLIC " AND d.day >= $1 AND d.day <= $1 + 30" \
	" GROUP BY m.creator_id HAVING SUM(d." col ") > 0) s ON s.creator_id = u.id WHERE" CREATOR_OK

static struct source value_source(const char *period, const char *metric)
{
	if (!strcmp(metric, "rating"))
		return (struct source){ TOTALS("t.rating_count > 0"),
					"CAST(t.rating_sum AS DOUBLE PRECISION) / t.rating_count",
					"CAST(t.rating_sum AS DOUBLE PRECISION) / t.rating_count DESC, t.creator_id" };
	bool sales = !strcmp(metric, "sales");
	if (!strcmp(period, "all_time"))
		return sales ? (struct source){ TOTALS("t.sales > 0"), "t.sales", "t.sales DESC, t.creator_id" }
			     : (struct source){ TOTALS("t.downloads > 0"), "t.downloads", "t.downloads DESC, t.creator_id" };
	return sales ? (struct source){ "SELECT COUNT(*)" DAILY_FROM("sales"), DAILY_FROM("sales"), "s.value", "s.value DESC, u.id" }
		     : (struct source){ "SELECT COUNT(*)" DAILY_FROM("downloads"), DAILY_FROM("downloads"), "s.value",
					"s.value DESC, u.id" };
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
	struct source src = value_source(period, metric);

	db_param_t filters[] = { P_INT(first_day) };
	paged_t q = {
		.what = "leaderboard",
		.count_sql = src.count,
		.rows_sql = arena_printf(req->arena, "SELECT " USER_PUBLIC_COLS ", %s, u.models_count" /* UC_COUNT, + 1 */
					 "%s ORDER BY %s", src.value, src.from, src.order),
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
