/*
 * admin_analytics.c: GET /api/admin/analytics/{overview,users,models,revenue}
 * ?from=YYYY-MM-DD&to=YYYY-MM-DD&period=day|week|month: time series over a
 * chosen range, every bucket present (empty ones are zeros).
 *
 * Each metric is one query grouping its rows by UTC day (created_at /
 * 86400000: integer division on both engines); the days are then put in
 * their buckets here, in C (weeks start on Monday, months on the 1st), so
 * no date function differs between SQLite and PostgreSQL.  Distinct active
 * users are counted per bucket from (day, user) pairs.  The range is
 * widened to whole buckets and bounded (ANALYTICS_MAX_BUCKETS), and the
 * default is the last 30 days by day.
 *
 * Sources: users.created_at (sign-ups), refresh_tokens.created_at (a
 * sign-in or a refresh: an active user), models.created_at (uploads),
 * the audit log (approvals, rejections), model_daily (views, downloads,
 * likes: the rollup), purchases (sales, revenue, fees, refunds).
 */
#include <time.h>
#include "api.h"
#include "admin_common.h"
#include "../core/num.h"
#include "../core/util.h"
#include "../http/reply.h"
#include "../http/request.h"
#include "../http/validate.h"

#define DAY_MS 86400000LL
#define ANALYTICS_MAX_DAYS 731   /* two years of days */
#define ANALYTICS_MAX_BUCKETS 731

enum period { P_DAY, P_WEEK, P_MONTH };

struct range {
	enum period period;
	int64_t from_day, to_day; /* inclusive, days since the epoch, aligned to buckets */
	int64_t *starts;          /* first day of each bucket */
	size_t n;
};

enum metric_kind {
	MK_SUM,      /* rows (day, value): summed */
	MK_DISTINCT, /* rows (day, id): distinct ids per bucket */
};

struct metric {
	const char *name;
	bool money;
	enum metric_kind kind;
	const char *sql; /* $1, $2: the range in ms; for model_daily $3, $4: days */
};

#define M_SIGNUPS { "signups", false, MK_SUM, "SELECT created_at / 86400000, COUNT(*) FROM users" \
	" WHERE created_at >= $1 AND created_at < $2 AND CAST($3 AS BIGINT) >= 0 AND CAST($4 AS BIGINT) >= 0 GROUP BY created_at / 86400000" }
#define M_CREATOR_SIGNUPS { "creator_signups", false, MK_SUM, "SELECT created_at / 86400000, COUNT(*) FROM users" \
	" WHERE created_at >= $1 AND created_at < $2 AND user_type = 'creator' AND CAST($3 AS BIGINT) >= 0 AND CAST($4 AS BIGINT) >= 0" \
	" GROUP BY created_at / 86400000" }
#define M_ACTIVE { "active_users", false, MK_DISTINCT, "SELECT DISTINCT created_at / 86400000, user_id" \
	" FROM refresh_tokens WHERE created_at >= $1 AND created_at < $2 AND CAST($3 AS BIGINT) >= 0 AND CAST($4 AS BIGINT) >= 0" }
#define M_UPLOADS { "uploads", false, MK_SUM, "SELECT created_at / 86400000, COUNT(*) FROM models" \
	" WHERE created_at >= $1 AND created_at < $2 AND CAST($3 AS BIGINT) >= 0 AND CAST($4 AS BIGINT) >= 0 GROUP BY created_at / 86400000" }
#define M_APPROVALS { "approvals", false, MK_SUM, "SELECT created_at / 86400000, COUNT(*) FROM audit_log" \
	" WHERE action = 'model.approve' AND created_at >= $1 AND created_at < $2 AND CAST($3 AS BIGINT) >= 0 AND CAST($4 AS BIGINT) >= 0" \
	" GROUP BY created_at / 86400000" }
#define M_REJECTIONS { "rejections", false, MK_SUM, "SELECT created_at / 86400000, COUNT(*) FROM audit_log" \
	" WHERE action = 'model.reject' AND created_at >= $1 AND created_at < $2 AND CAST($3 AS BIGINT) >= 0 AND CAST($4 AS BIGINT) >= 0" \
	" GROUP BY created_at / 86400000" }
#define M_DAILY(name, col) { name, false, MK_SUM, "SELECT day, CAST(SUM(" col ") AS BIGINT) FROM model_daily" \
	" WHERE day >= $3 AND day <= $4 AND CAST($1 AS BIGINT) >= 0 AND CAST($2 AS BIGINT) >= 0 GROUP BY day" }
#define M_SALES { "sales", false, MK_SUM, "SELECT created_at / 86400000, COUNT(*) FROM purchases" \
	" WHERE created_at >= $1 AND created_at < $2 AND CAST($3 AS BIGINT) >= 0 AND CAST($4 AS BIGINT) >= 0 GROUP BY created_at / 86400000" }
#define M_REVENUE { "revenue", true, MK_SUM, "SELECT created_at / 86400000, CAST(SUM(price_cents) AS BIGINT) FROM purchases" \
	" WHERE created_at >= $1 AND created_at < $2 AND CAST($3 AS BIGINT) >= 0 AND CAST($4 AS BIGINT) >= 0 GROUP BY created_at / 86400000" }
#define M_FEE { "fee", true, MK_SUM, "SELECT created_at / 86400000, CAST(SUM(fee_cents) AS BIGINT) FROM purchases" \
	" WHERE created_at >= $1 AND created_at < $2 AND CAST($3 AS BIGINT) >= 0 AND CAST($4 AS BIGINT) >= 0 GROUP BY created_at / 86400000" }
#define M_REFUNDS { "refunds", false, MK_SUM, "SELECT refunded_at / 86400000, COUNT(*) FROM purchases" \
	" WHERE refunded_at >= $1 AND refunded_at < $2 AND CAST($3 AS BIGINT) >= 0 AND CAST($4 AS BIGINT) >= 0 GROUP BY refunded_at / 86400000" }
#define M_REFUNDED { "refunded_amount", true, MK_SUM, "SELECT refunded_at / 86400000, CAST(SUM(price_cents) AS BIGINT) FROM purchases" \
	" WHERE refunded_at >= $1 AND refunded_at < $2 AND CAST($3 AS BIGINT) >= 0 AND CAST($4 AS BIGINT) >= 0 GROUP BY refunded_at / 86400000" }

static const struct metric overview_metrics[] = { M_SIGNUPS, M_ACTIVE, M_UPLOADS, M_APPROVALS, M_SALES, M_REVENUE, M_FEE };
static const struct metric user_metrics[] = { M_SIGNUPS, M_CREATOR_SIGNUPS, M_ACTIVE };
static const struct metric model_metrics[] = { M_UPLOADS, M_APPROVALS, M_REJECTIONS, M_DAILY("views", "views"),
					       M_DAILY("downloads", "downloads"), M_DAILY("likes", "likes") };
static const struct metric revenue_metrics[] = { M_SALES, M_REVENUE, M_FEE, M_REFUNDS, M_REFUNDED };

/* "YYYY-MM-DD" (a real date) as days since the epoch. */
static bool parse_date(const char *s, int64_t *day)
{
	if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
		return false;
	for (int i = 0; i < 10; i++)
		if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
			return false;
	struct tm tm = { 0 };
	tm.tm_year = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0') - 1900;
	tm.tm_mon = (s[5] - '0') * 10 + (s[6] - '0') - 1;
	tm.tm_mday = (s[8] - '0') * 10 + (s[9] - '0');
	if (tm.tm_year < 70 || tm.tm_year > 1100 || tm.tm_mon < 0 || tm.tm_mon > 11 || tm.tm_mday < 1)
		return false;
	int mon = tm.tm_mon;
	time_t t = timegm(&tm);
	if (tm.tm_mon != mon) /* 2026-02-30 rolled over */
		return false;
	*day = (int64_t)t / 86400;
	return true;
}

static char *day_text(req_t *req, int64_t day)
{
	time_t t = (time_t)(day * 86400);
	struct tm tm;
	gmtime_r(&t, &tm);
	return arena_printf(req->arena, "%04d-%02d-%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
}

/* The first day of the month after (or of) day's month. */
static int64_t month_start(int64_t day, int add)
{
	time_t t = (time_t)(day * 86400);
	struct tm tm;
	gmtime_r(&t, &tm);
	tm.tm_mday = 1;
	tm.tm_mon += add;
	tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
	return (int64_t)timegm(&tm) / 86400;
}

/* Reads from, to and period; false after replying 422. */
static bool range_read(req_t *req, struct range *rg)
{
	valid_t v;
	v_init(&v, req, NULL);
	static const char *const periods[] = { "day", "week", "month", NULL };
	const char *period = q_enum(&v, "period", periods, "day");
	const char *from = q_str(&v, "from", 10), *to = q_str(&v, "to", 10);
	int64_t today = now_ms() / DAY_MS;
	rg->to_day = today;
	if (to && *to && !parse_date(to, &rg->to_day))
		v_error(&v, "to", "Must be a date, YYYY-MM-DD");
	rg->from_day = rg->to_day - 29;
	if (from && *from && !parse_date(from, &rg->from_day))
		v_error(&v, "from", "Must be a date, YYYY-MM-DD");
	if (v_ok(&v) && rg->from_day > rg->to_day)
		v_error(&v, "from", "Must not be after to");
	if (v_ok(&v) && rg->to_day - rg->from_day + 1 > ANALYTICS_MAX_DAYS * (period && !strcmp(period, "day") ? 1 : 5))
		v_error(&v, "from", arena_printf(req->arena, "The range may span at most %d days by day, %d by week or month",
						 ANALYTICS_MAX_DAYS, ANALYTICS_MAX_DAYS * 5));
	if (!v_ok(&v)) {
		v_reply(&v);
		return false;
	}
	rg->period = !strcmp(period, "week") ? P_WEEK : !strcmp(period, "month") ? P_MONTH : P_DAY;
	/* Whole buckets: a week from its Monday (1970-01-01 was a Thursday). */
	int64_t start = rg->from_day, end = rg->to_day + 1; /* end exclusive */
	if (rg->period == P_WEEK) {
		start -= ((start + 3) % 7 + 7) % 7;
		end += (7 - (end - start) % 7) % 7;
	} else if (rg->period == P_MONTH) {
		start = month_start(start, 0);
		if (month_start(end, 0) != end)
			end = month_start(end, 1);
	}
	rg->starts = arena_alloc(req->arena, (ANALYTICS_MAX_BUCKETS + 1) * sizeof(int64_t));
	rg->n = 0;
	for (int64_t d = start; d < end && rg->n < ANALYTICS_MAX_BUCKETS;) {
		rg->starts[rg->n++] = d;
		d = rg->period == P_DAY ? d + 1 : rg->period == P_WEEK ? d + 7 : month_start(d, 1);
	}
	rg->from_day = start;
	rg->to_day = end - 1;
	return true;
}

/* The bucket of a day, or -1 outside the range. */
static long bucket_of(const struct range *rg, int64_t day)
{
	if (rg->n == 0 || day < rg->starts[0] || day > rg->to_day)
		return -1;
	size_t lo = 0, hi = rg->n; /* the last start <= day */
	while (hi - lo > 1) {
		size_t mid = (lo + hi) / 2;
		if (rg->starts[mid] <= day)
			lo = mid;
		else
			hi = mid;
	}
	return (long)lo;
}

struct pair {
	long bucket;
	int64_t id;
};

static int pair_cmp(const void *a, const void *b)
{
	const struct pair *x = a, *y = b;
	if (x->bucket != y->bucket)
		return x->bucket < y->bucket ? -1 : 1;
	return x->id < y->id ? -1 : x->id > y->id;
}

/* One metric's values per bucket into vals (zeros first). */
static bool metric_run(db_t *db, const struct range *rg, const struct metric *m, int64_t *vals)
{
	memset(vals, 0, rg->n * sizeof(*vals));
	db_rows_t *r = DBQ(db, m->sql, P_INT(rg->from_day * DAY_MS), P_INT((rg->to_day + 1) * DAY_MS),
			  P_INT(rg->from_day), P_INT(rg->to_day));
	if (!r)
		return false;
	if (m->kind == MK_SUM) {
		while (db_next(r)) {
			long b = bucket_of(rg, db_int(r, 0));
			if (b >= 0)
				vals[b] += db_int(r, 1);
		}
		bool ok = !db_failed(r);
		db_done(r);
		return ok;
	}
	size_t n = 0, cap = 256;
	struct pair *pairs = xmalloc(cap * sizeof(*pairs));
	while (db_next(r)) {
		long b = bucket_of(rg, db_int(r, 0));
		if (b < 0)
			continue;
		if (n == cap)
			pairs = xrealloc(pairs, (cap *= 2) * sizeof(*pairs));
		pairs[n++] = (struct pair){ b, db_int(r, 1) };
	}
	bool ok = !db_failed(r);
	db_done(r);
	qsort(pairs, n, sizeof(*pairs), pair_cmp);
	for (size_t i = 0; i < n; i++)
		if (i == 0 || pairs[i].bucket != pairs[i - 1].bucket || pairs[i].id != pairs[i - 1].id)
			vals[pairs[i].bucket]++;
	free(pairs);
	return ok;
}

struct series_job {
	struct range rg;
	const struct metric *metrics;
	size_t nm;
};

/* Every metric over the range: on the pool (admin_defer_json). */
static json_t *series_compute(req_t *req, db_t *db, void *ctx, const char **what)
{
	struct series_job *j = ctx;
	const struct range *rg = &j->rg;
	json_t *buckets = json_array(), *series = json_object(), *totals = json_object(), *points = json_array();
	for (size_t i = 0; i < rg->n; i++) {
		json_array_append_new(buckets, json_string(day_text(req, rg->starts[i])));
		json_array_append_new(points, json_pack("{s:s}", "date", day_text(req, rg->starts[i])));
	}
	int64_t *vals = arena_alloc(req->arena, (rg->n + 1) * sizeof(int64_t));
	for (size_t k = 0; k < j->nm; k++) {
		const struct metric *m = &j->metrics[k];
		if (!metric_run(db, rg, m, vals)) {
			json_decref(buckets);
			json_decref(series);
			json_decref(totals);
			json_decref(points);
			*what = m->name;
			return NULL;
		}
		json_t *a = json_array();
		int64_t total = 0;
		for (size_t i = 0; i < rg->n; i++) {
			json_t *x = m->money ? admin_money(vals[i]) : json_integer(vals[i]);
			json_array_append(a, x);
			json_object_set_new(json_array_get(points, i), m->name, x);
			total += vals[i];
		}
		json_object_set_new(series, m->name, a);
		json_object_set_new(totals, m->name, m->money ? admin_money(total) : json_integer(total));
	}
	static const char *const names[] = { "day", "week", "month" };
	return json_pack("{s:s, s:s, s:s, s:o, s:o, s:o, s:o, s:s}", "period", names[rg->period],
		"from", day_text(req, rg->from_day), "to", day_text(req, rg->to_day), "buckets", buckets, "series", series,
		"totals", totals, "points", points, "currency", "USD");
}

static int reply_series(req_t *req, const struct metric *metrics, size_t nm)
{
	struct series_job *j = arena_calloc(req->arena, sizeof(*j));
	if (!range_read(req, &j->rg))
		return DONE;
	j->metrics = metrics;
	j->nm = nm;
	return admin_defer_json(req, series_compute, j);
}

static int admin_analytics_overview(req_t *req)
{
	return reply_series(req, overview_metrics, ARRAY_LEN(overview_metrics));
}

static int admin_analytics_users(req_t *req)
{
	return reply_series(req, user_metrics, ARRAY_LEN(user_metrics));
}

static int admin_analytics_models(req_t *req)
{
	return reply_series(req, model_metrics, ARRAY_LEN(model_metrics));
}

static int admin_analytics_revenue(req_t *req)
{
	return reply_series(req, revenue_metrics, ARRAY_LEN(revenue_metrics));
}

const route_t admin_analytics_routes[] = {
	{ M_GET, "/api/admin/analytics/overview", admin_analytics_overview, ACCESS_ADMIN, RL_ADMIN, BODY_NONE, 0, 0, "Sign-ups, active users, uploads, approvals, sales, revenue, fees over time" },
	{ M_GET, "/api/admin/analytics/users", admin_analytics_users, ACCESS_ADMIN, RL_ADMIN, BODY_NONE, 0, 0, "Sign-ups and active users over time" },
	{ M_GET, "/api/admin/analytics/models", admin_analytics_models, ACCESS_ADMIN, RL_ADMIN, BODY_NONE, 0, 0, "Uploads, moderation, views, downloads, likes over time" },
	{ M_GET, "/api/admin/analytics/revenue", admin_analytics_revenue, ACCESS_ADMIN, RL_ADMIN, BODY_NONE, 0, 0, "Sales, revenue, fees, refunds over time" },
};
EXPORT_ROUTES(admin_analytics_routes);
