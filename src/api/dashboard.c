/*
 * dashboard.c: the creator dashboard (issue 10, point 8): the caller's
 * figures against the previous period, daily series overall and per
 * model, and the inventory with each model's figures.
 *
 *   GET /api/users/me/dashboard   totals, this period, the one before
 *   GET /api/users/me/analytics   zero-filled daily series; top models
 *   GET /api/users/me/models      the inventory, a page of the caller's
 *                                 models with their figures
 *
 * Everything is read from the rollups (svc/rollup.h, migration 0013),
 * never from events, so what a request reads does not grow with the
 * traffic of the caller's models: creator_daily (a row per active day)
 * for totals and the overall series, model_window (a row per model) to
 * rank models in a range, model_daily for the few models shown.  A range
 * is the last 7, 30, 90 or 365 UTC days, today included; the previous
 * period is the as many days just before it.  docs/openapi.yaml says what
 * every figure means.
 */
#include <math.h>
#include <stdlib.h>
#include "api.h"
#include "models_common.h"
#include "../core/jsonw.h"
#include "../core/strbuf.h"
#include "../core/util.h"
#include "../http/reply.h"
#include "../http/request.h"
#include "../http/validate.h"
#include "../svc/rollup.h"
#include "paged.h"

#define DAY_MS 86400000LL
#define TOP_MAX 10    /* models in an analytics answer */
#define TOP_DEFAULT 5

struct range {
	const char *name;
	int64_t days;
	int window;   /* index in rollup_window_days, and of rank_sql */
};

static const struct range RANGES[] = {
	{ "7d", 7, 0 }, { "30d", 30, 1 }, { "90d", 90, 2 }, { "1y", 365, 3 },
};
static const char *const RANGE_NAMES[] = { "7d", "30d", "90d", "1y", NULL };
/* The inventory may also ask for all time. */
static const char *const INVENTORY_RANGES[] = { "7d", "30d", "90d", "1y", "all", NULL };

static const struct range *range_named(const char *name)
{
	for (size_t i = 0; i < ARRAY_LEN(RANGES); i++)
		if (!strcmp(RANGES[i].name, name))
			return &RANGES[i];
	return NULL;
}

/* "2024-02-16" for a day since the epoch. */
static void day_text(int64_t day, char out[32])
{
	iso8601_ms(day * DAY_MS, out);
	out[10] = '\0';
}

static json_t *day_json(int64_t day)
{
	char d[32];
	day_text(day, d);
	return json_string(d);
}

/* ---------------------------------------------------------- dashboard */

/* The figures of a day, in the order of the SQL below. */
#define METRICS(X)                                                                           \
	X(FG_VIEWS, "views", "views", false) X(FG_LIKES, "likes", "likes", false)                 \
	X(FG_DOWNLOADS, "downloads", "downloads", false) X(FG_SALES, "sales", "sales", false)     \
	X(FG_REFUNDS, "refunds", "refunds", false) X(FG_REVENUE, "revenue", "revenue_cents", true) \
	X(FG_GROSS, "gross", "gross_cents", true)
#define METRIC_ENUM(id, json, col, money) id,
enum metric { METRICS(METRIC_ENUM) FG_COUNT };
#define METRIC_INFO(id, json, col, money) { json, money },
static const struct {
	const char *json;
	bool money;
} metric_info[FG_COUNT] = { METRICS(METRIC_INFO) };

/* All time, this period ($2 its first day), the previous ($3 its first). */
#define TRIPLE(id, json, col, money)                                                          \
	", COALESCE(SUM(" col "), 0), COALESCE(SUM(CASE WHEN day >= $2 THEN " col " ELSE 0 END), 0)" \
	", COALESCE(SUM(CASE WHEN day >= $3 AND day < $2 THEN " col " ELSE 0 END), 0)"
static const char DASHBOARD_SQL[] =
	"SELECT COUNT(*)" METRICS(TRIPLE) TRIPLE(FG_FOLLOWERS, "followers", "followers", false)
	" FROM creator_daily WHERE creator_id = $1";

/* {"total", "value", "previous", "change_pct"}: change_pct is the change of
 * value against previous in percent, one decimal, null when previous is 0. */
static json_t *figure(int64_t total, int64_t value, int64_t previous, bool money)
{
	json_t *change = json_null();
	if (previous != 0) {
		double pct = (double)(value - previous) * 100.0 / (double)llabs(previous);
		change = json_real(round(pct * 10.0) / 10.0);
	}
	if (money)
		return json_pack("{s:f, s:f, s:f, s:o}", "total", (double)total / 100.0, "value", (double)value / 100.0,
				 "previous", (double)previous / 100.0, "change_pct", change);
	return json_pack("{s:I, s:I, s:I, s:o}", "total", (json_int_t)total, "value", (json_int_t)value,
			 "previous", (json_int_t)previous, "change_pct", change);
}

static int users_me_dashboard(req_t *req)
{
	valid_t v;
	v_init(&v, req, NULL);
	const char *name = q_enum(&v, "range", RANGE_NAMES, "30d");
	if (!v_ok(&v))
		return v_reply(&v);
	const struct range *rg = range_named(name);
	int64_t me = req->user->id, today = epoch_day(now_ms());
	int64_t from = today - rg->days + 1, prev_from = from - rg->days;

	db_rows_t *r = RQ(req, DASHBOARD_SQL, P_INT(me), P_INT(from), P_INT(prev_from));
	if (!r || !db_next(r))
		return reply_db_error(req, "dashboard");
	json_t *metrics = json_object();
	for (int m = 0; m < FG_COUNT; m++)
		json_object_set_new(metrics, metric_info[m].json,
				    figure(db_int(r, 1 + 3 * m), db_int(r, 2 + 3 * m), db_int(r, 3 + 3 * m),
					   metric_info[m].money));
	/* followers: the total is the live count; the periods are net new
	 * followers (follows minus unfollows) of their days */
	int64_t new_followers = db_int(r, 2 + 3 * FG_COUNT), prev_followers = db_int(r, 3 + 3 * FG_COUNT);

	r = RQ(req, "SELECT u.models_count, u.followers_count,"
		    " (SELECT COUNT(*) FROM models WHERE creator_id = $1 AND deleted_at IS NULL),"
		    " (SELECT COUNT(*) FROM models WHERE creator_id = $1 AND deleted_at IS NULL AND created_at >= $2),"
		    " (SELECT COUNT(*) FROM models WHERE creator_id = $1 AND deleted_at IS NULL"
		    " AND created_at >= $3 AND created_at < $2)"
		    " FROM users u WHERE u.id = $1",
	       P_INT(me), P_INT(from * DAY_MS), P_INT(prev_from * DAY_MS));
	if (!r || !db_next(r)) {
		json_decref(metrics);
		return reply_db_error(req, "dashboard models");
	}
	json_object_set_new(metrics, "followers", figure(db_int(r, 1), new_followers, prev_followers, false));
	json_t *models = figure(db_int(r, 2), db_int(r, 3), db_int(r, 4), false);
	json_object_set_new(models, "public", json_integer(db_int(r, 0)));
	json_object_set_new(metrics, "models", models);
	return reply_ok(req, json_pack("{s:s, s:I, s:s, s:{s:o, s:o}, s:{s:o, s:o}, s:o}", "range", rg->name,
				       "days", (json_int_t)rg->days, "currency", "USD",
				       "period", "from", day_json(from), "to", day_json(today),
				       "previous_period", "from", day_json(prev_from), "to", day_json(from - 1),
				       "metrics", metrics));
}

/* ---------------------------------------------------------- analytics */

/* One rollup row: a key (model or creator), a day and its figures. */
struct day_row {
	int64_t key, day;
	int64_t v[FG_COUNT];
};

struct day_rows {
	struct day_row *rows;
	size_t n;
};

#define ROW_COL(id, json, col, money) ", " col
#define ROW_COLS METRICS(ROW_COL)

/* Reads rows of (key, day, METRICS...) sorted by key and day; expect is
 * how many there may be (room for them is made at once). */
static bool load_rows(req_t *req, const char *sql, const db_param_t *p, int np, size_t expect,
		      struct day_rows *out)
{
	db_rows_t *r = db_query(req->db, sql, p, np);
	if (!r)
		return false;
	size_t cap = MAX(expect, 16);
	out->rows = arena_alloc(req->arena, cap * sizeof(*out->rows));
	out->n = 0;
	while (db_next(r)) {
		if (out->n == cap) {
			struct day_row *more = arena_alloc(req->arena, 2 * cap * sizeof(*more));
			memcpy(more, out->rows, cap * sizeof(*more));
			out->rows = more;
			cap *= 2;
		}
		struct day_row *d = &out->rows[out->n++];
		d->key = db_int(r, 0);
		d->day = db_int(r, 1);
		for (int m = 0; m < FG_COUNT; m++)
			d->v[m] = db_int(r, 2 + m);
	}
	bool failed = db_failed(r);
	db_done(r);
	return !failed;
}

/* Cents as jw_money writes them ("9.99", "9.9", "10.0", "-0.5"), without
 * printf: a year of daily points per model is thousands of numbers, and
 * this is most of an analytics answer's time otherwise.  The same text as
 * %.15g for any amount under 10^13 units. */
static void write_cents(strbuf_t *sb, int64_t cents)
{
	if (cents <= -1000000000000000LL || cents >= 1000000000000000LL) {
		jw_money(sb, cents);
		return;
	}
	uint64_t u = cents < 0 ? (uint64_t)0 - (uint64_t)cents : (uint64_t)cents;
	if (cents < 0)
		sb_addc(sb, '-');
	jw_int(sb, (int64_t)(u / 100));
	char frac[3] = { '.', (char)('0' + u % 100 / 10), (char)('0' + u % 10) };
	sb_add(sb, frac, u % 10 ? 3 : 2);
}

/* The figures' keys, each with its quote, colon and leading comma. */
#define FIGURE_KEY(id, json, col, money) "," "\"" json "\":",
static const char *const figure_key[FG_COUNT] = { METRICS(FIGURE_KEY) };

static void write_figures(strbuf_t *sb, const int64_t *v)
{
	for (int m = 0; m < FG_COUNT; m++) {
		const char *k = figure_key[m] + (m == 0); /* no comma before the first */
		sb_add(sb, k, strlen(k));
		if (metric_info[m].money)
			write_cents(sb, v[m]);
		else
			jw_int(sb, v[m]);
	}
}

/* "YYYY-MM-DD" of a day since the epoch, without gmtime (H. Hinnant's
 * civil_from_days), into out[10]. */
static void civil_date(int64_t day, char out[10])
{
	int64_t z = day + 719468, era = (z >= 0 ? z : z - 146096) / 146097;
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100), mp = (5 * doy + 2) / 153;
	int64_t d = doy - (153 * mp + 2) / 5 + 1, m = mp < 10 ? mp + 3 : mp - 9, y = yoe + era * 400 + (m <= 2);
	if (y < 0 || y > 9999)
		y = 0;
	out[0] = (char)('0' + y / 1000);
	out[1] = (char)('0' + y / 100 % 10);
	out[2] = (char)('0' + y / 10 % 10);
	out[3] = (char)('0' + y % 10);
	out[4] = '-';
	out[5] = (char)('0' + m / 10);
	out[6] = (char)('0' + m % 10);
	out[7] = '-';
	out[8] = (char)('0' + d / 10);
	out[9] = (char)('0' + d % 10);
}

/* "totals":{...},"series":[{"date",...} for each day from..to] of key's
 * rows (zero-filled). */
static void write_series(strbuf_t *sb, const struct day_rows *rows, int64_t key, int64_t from, int64_t to)
{
	int64_t totals[FG_COUNT] = { 0 };
	size_t i = 0;
	while (i < rows->n && (rows->rows[i].key != key || rows->rows[i].day < from))
		i++;
	for (size_t k = i; k < rows->n && rows->rows[k].key == key; k++)
		for (int m = 0; m < FG_COUNT; m++)
			if (rows->rows[k].day <= to)
				totals[m] += rows->rows[k].v[m];
	sb_adds(sb, "\"totals\":{");
	write_figures(sb, totals);
	sb_adds(sb, "},\"series\":[");
	static const int64_t zero[FG_COUNT];
	for (int64_t day = from; day <= to; day++) {
		const int64_t *v = zero;
		if (i < rows->n && rows->rows[i].key == key && rows->rows[i].day == day)
			v = rows->rows[i++].v;
		char point[] = ",{\"date\":\"YYYY-MM-DD\","; /* the date at 10, 22 characters */
		civil_date(day, point + 10);
		sb_add(sb, point + (day == from), sizeof(point) - 1 - (day == from));
		write_figures(sb, v);
		sb_addc(sb, '}');
	}
	sb_addc(sb, ']');
}

/* A creator's models ranked in a range by the window's revenue (or views),
 * the other as the tie-break, then id; models with neither in the range
 * are left out.  $1 creator, $2 today, $3 1 to rank by views, $4 limit.
 * A row not yet advanced to today (rollup.h) is corrected here. */
#define RANK_SQL(sfx, n)                                                                                   \
	"SELECT model_id FROM (SELECT w.model_id,"                                                           \
	" w.revenue_" sfx " - CASE WHEN w.as_of_day < $2 THEN " ROLLUP_GONE("w", "revenue_cents", n, "$2")    \
	" ELSE 0 END AS revenue,"                                                                            \
	" w.views_" sfx " - CASE WHEN w.as_of_day < $2 THEN " ROLLUP_GONE("w", "views", n, "$2")              \
	" ELSE 0 END AS views"                                                                               \
	" FROM model_window w WHERE w.creator_id = $1) t WHERE t.revenue <> 0 OR t.views <> 0"               \
	" ORDER BY CASE WHEN $3 = 1 THEN t.views ELSE t.revenue END DESC,"                                  \
	" CASE WHEN $3 = 1 THEN t.revenue ELSE t.views END DESC, t.model_id LIMIT $4"
static const char *const rank_sql[ROLLUP_WINDOWS] = {
	RANK_SQL("7d", "7"), RANK_SQL("30d", "30"), RANK_SQL("90d", "90"), RANK_SQL("1y", "365"),
};

struct shown {
	int64_t id;
	const char *title, *thumbnail, *status;
	bool published, deleted;
};

#define SHOWN_COLUMNS(FIRST, NEXT)                                                        \
	FIRST(S_ID, "id") NEXT(S_TITLE, "title") NEXT(S_THUMB, "thumbnail_url")           \
	NEXT(S_STATUS, "status") NEXT(S_PUBLISHED, "is_published") NEXT(S_DELETED, "deleted_at IS NOT NULL")
enum { SHOWN_COLUMNS(DB_COL_ENUM, DB_COL_ENUM) };
#define SHOWN_SELECT "SELECT " SHOWN_COLUMNS(DB_COL_SQL, DB_COL_SQL_NEXT) " FROM models"

static void shown_read(req_t *req, db_rows_t *r, struct shown *s)
{
	*s = (struct shown){
		.id = db_int(r, S_ID),
		.title = arena_strdup(req->arena, db_text(r, S_TITLE)),
		.thumbnail = db_text(r, S_THUMB) ? arena_strdup(req->arena, db_text(r, S_THUMB)) : NULL,
		.status = arena_strdup(req->arena, db_text(r, S_STATUS)),
		.published = db_bool(r, S_PUBLISHED),
		.deleted = db_bool(r, S_DELETED),
	};
}

/* The shown models in rank order (ids), their details and rows. */
static bool load_shown(req_t *req, const int64_t *ids, size_t n, int64_t from, int64_t today, struct shown *out,
		       struct day_rows *rows)
{
	db_param_t *p = arena_alloc(req->arena, (n + 1) * sizeof(*p));
	strbuf_t sql;
	sb_init(&sql, 0);
	sb_adds(&sql, SHOWN_SELECT " WHERE id");
	int np = sql_id_in(req, &sql, p, ids, n, 1);
	db_rows_t *r = db_query(req->db, sql.buf, p, np);
	sb_release(&sql);
	if (!r)
		return false;
	while (db_next(r)) {
		struct shown s;
		shown_read(req, r, &s);
		for (size_t i = 0; i < n; i++)
			if (ids[i] == s.id)
				out[i] = s;
	}
	bool failed = db_failed(r);
	db_done(r);
	if (failed)
		return false;
	sb_init(&sql, 0);
	sb_adds(&sql, "SELECT model_id, day" ROW_COLS " FROM model_daily WHERE day >= $1 AND model_id");
	p[0] = P_INT(from);
	np = 1 + sql_id_in(req, &sql, p, ids, n, 2);
	sb_adds(&sql, " ORDER BY model_id, day");
	bool ok = load_rows(req, sql.buf, p, np, n * (size_t)(today - from + 1), rows);
	sb_release(&sql);
	return ok;
}

static int users_me_analytics(req_t *req)
{
	valid_t v;
	v_init(&v, req, NULL);
	static const char *const sorts[] = { "revenue", "views", NULL };
	const char *name = q_enum(&v, "range", RANGE_NAMES, "30d");
	const char *sort = q_enum(&v, "sort", sorts, "revenue");
	int64_t model_id = q_int(&v, "model_id", 1, INT64_MAX, 0);
	int64_t top = q_int(&v, "top", 0, TOP_MAX, TOP_DEFAULT);
	if (!v_ok(&v))
		return v_reply(&v);
	const struct range *rg = range_named(name);
	int64_t me = req->user->id, today = epoch_day(now_ms()), from = today - rg->days + 1;

	int64_t ids[TOP_MAX];
	size_t n = 0;
	struct shown shown[TOP_MAX] = { 0 };
	struct day_rows overall, per_model = { 0 };
	if (model_id) {
		/* one of the caller's models (removed ones too: their figures
		 * stay); anyone else's is missing */
		db_rows_t *r = RQ(req, SHOWN_SELECT " WHERE id = $1 AND creator_id = $2", P_INT(model_id), P_INT(me));
		if (!r)
			return reply_db_error(req, "analytics model");
		if (!db_next(r))
			return reply_error(req, ERR_NOT_FOUND, "Model not found");
		shown_read(req, r, &shown[0]);
		ids[n++] = model_id;
		if (!load_shown(req, ids, n, from, today, shown, &per_model))
			return reply_db_error(req, "analytics model");
		overall = per_model;
	} else {
		if (!load_rows(req, "SELECT creator_id, day" ROW_COLS " FROM creator_daily"
				    " WHERE creator_id = $1 AND day >= $2 ORDER BY day",
			       DB_PARAMS(P_INT(me), P_INT(from)), (size_t)rg->days, &overall))
			return reply_db_error(req, "analytics");
		if (top > 0) {
			db_rows_t *r = RQ(req, rank_sql[rg->window], P_INT(me), P_INT(today),
					  P_INT(!strcmp(sort, "views")), P_INT(top));
			if (!r)
				return reply_db_error(req, "analytics ranking");
			while (db_next(r) && n < TOP_MAX)
				ids[n++] = db_int(r, 0);
			if (db_failed(r))
				return reply_db_error(req, "analytics ranking");
			if (n && !load_shown(req, ids, n, from, today, shown, &per_model))
				return reply_db_error(req, "analytics models");
		}
	}

	strbuf_t sb;
	sb_init(&sb, 0);
	sb_reserve(&sb, (n + 1) * (size_t)rg->days * 128 + 1024); /* a point is about 110 bytes */
	char d0[32], d1[32];
	day_text(from, d0);
	day_text(today, d1);
	sb_addf(&sb, "{\"range\":\"%s\",\"days\":%lld,\"currency\":\"USD\",\"from\":\"%s\",\"to\":\"%s\",\"sort\":",
		rg->name, (long long)rg->days, d0, d1);
	jw_str(&sb, sort);
	sb_adds(&sb, ",\"model_id\":");
	if (model_id)
		jw_int(&sb, model_id);
	else
		sb_adds(&sb, "null");
	sb_addc(&sb, ',');
	write_series(&sb, &overall, model_id ? model_id : me, from, today);
	sb_adds(&sb, ",\"models\":[");
	for (size_t i = 0, wrote = 0; i < n; i++) {
		if (!shown[i].title)
			continue; /* deleted since it was ranked */
		sb_addf(&sb, "%s{\"id\":%lld,\"title\":", wrote++ ? "," : "", (long long)ids[i]);
		jw_str(&sb, shown[i].title);
		sb_adds(&sb, ",\"thumbnail_url\":");
		jw_str(&sb, shown[i].thumbnail);
		sb_adds(&sb, ",\"status\":");
		jw_str(&sb, shown[i].status);
		sb_adds(&sb, ",\"is_published\":");
		jw_bool(&sb, shown[i].published);
		sb_adds(&sb, ",\"is_deleted\":");
		jw_bool(&sb, shown[i].deleted);
		sb_addc(&sb, ',');
		write_series(&sb, &per_model, ids[i], from, today);
		sb_addc(&sb, '}');
	}
	sb_adds(&sb, "]}");
	if (sb.overflow) {
		sb_release(&sb);
		return reply_internal(req, "analytics answer too large");
	}
	size_t len;
	char *text = sb_detach(&sb, &len);
	return reply_json_text(req, 200, text, len);
}

/* ---------------------------------------------------------- inventory */

struct inventory {
	const char *range; /* a RANGES name, or "all" */
	int64_t from;      /* first day counted */
};

/* The caller's models with "stats": their figures in the range. */
static json_t *inventory_rows(req_t *req, db_rows_t *r, const void *ctx)
{
	const struct inventory *inv = ctx;
	json_t *items = models_from_rows(req, r, true);
	size_t n = items ? json_array_size(items) : 0;
	if (!n)
		return items;
	int64_t *ids = arena_alloc(req->arena, n * sizeof(*ids));
	for (size_t i = 0; i < n; i++)
		ids[i] = json_integer_value(json_object_get(json_array_get(items, i), "id"));
	db_param_t *p = arena_alloc(req->arena, (n + 1) * sizeof(*p));
	strbuf_t sql;
	sb_init(&sql, 0);
#define SUM_COL(id, json, col, money) ", COALESCE(SUM(" col "), 0)"
	sb_adds(&sql, "SELECT model_id" METRICS(SUM_COL) " FROM model_daily WHERE day >= $1 AND model_id");
#undef SUM_COL
	p[0] = P_INT(inv->from);
	int np = 1 + sql_id_in(req, &sql, p, ids, n, 2);
	sb_adds(&sql, " GROUP BY model_id");
	db_rows_t *s = db_query(req->db, sql.buf, p, np);
	sb_release(&sql);
	if (!s) {
		json_decref(items);
		return NULL;
	}
	int64_t (*v)[FG_COUNT] = arena_calloc(req->arena, n * sizeof(*v));
	while (db_next(s))
		for (size_t i = 0; i < n; i++)
			if (ids[i] == db_int(s, 0))
				for (int m = 0; m < FG_COUNT; m++)
					v[i][m] = db_int(s, 1 + m);
	bool failed = db_failed(s);
	db_done(s);
	if (failed) {
		json_decref(items);
		return NULL;
	}
	for (size_t i = 0; i < n; i++) {
		json_t *stats = json_pack("{s:s}", "range", inv->range);
		for (int m = 0; m < FG_COUNT; m++)
			json_object_set_new(stats, metric_info[m].json, metric_info[m].money
					    ? json_real((double)v[i][m] / 100.0) : json_integer(v[i][m]));
		json_object_set_new(json_array_get(items, i), "stats", stats);
	}
	return items;
}

static int users_me_models(req_t *req)
{
	valid_t v;
	page_t p;
	paged_begin(&v, req, &p);
	static const char *const statuses[] = { "pending", "approved", "rejected", NULL };
	const char *status = q_enum(&v, "status", statuses, NULL);
	const char *range = q_enum(&v, "range", INVENTORY_RANGES, "all");
	if (!v_ok(&v))
		return v_reply(&v);
	const struct range *rg = range_named(range);
	struct inventory *inv = arena_calloc(req->arena, sizeof(*inv));
	inv->range = range;
	inv->from = rg ? epoch_day(now_ms()) - rg->days + 1 : INT64_MIN / 2;
	db_param_t filters[] = { P_INT(req->user->id), P_TEXT(status) };
	paged_t q = {
		.what = "list models",
		.count_sql = "SELECT COUNT(*) FROM models WHERE creator_id = $1 AND deleted_at IS NULL"
			     " AND (CAST($2 AS TEXT) IS NULL OR status = $2)",
		.rows_sql = "SELECT " MODEL_COLS MODEL_FROM " WHERE m.creator_id = $1 AND m.deleted_at IS NULL"
			    " AND (CAST($2 AS TEXT) IS NULL OR m.status = $2) ORDER BY m.created_at DESC, m.id DESC",
		.params = filters, .nparams = 2,
		.rows = inventory_rows, .ctx = inv,
	};
	return paged_reply(req, &p, &q);
}

const route_t dashboard_routes[] = {
	{ M_GET, "/api/users/me/dashboard", users_me_dashboard, ACCESS_USER, RL_GENERAL, BODY_NONE, 0, 0, "Your figures as a creator against the previous period" },
	{ M_GET, "/api/users/me/analytics", users_me_analytics, ACCESS_USER, RL_GENERAL, BODY_NONE, 0, 0, "Your daily series, overall and of your top models" },
	{ M_GET, "/api/users/me/models", users_me_models, ACCESS_USER, RL_GENERAL, BODY_NONE, 0, 0, "Your models (all statuses) with their figures" },
};
EXPORT_ROUTES(dashboard_routes);
