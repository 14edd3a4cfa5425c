/*
 * rollup.c: the daily rollups and the model_window advancer (rollup.h).
 */
#include "rollup.h"
#include "ticker.h"
#include "../core/log.h"
#include "../core/util.h"

const int rollup_window_days[ROLLUP_WINDOWS] = { 7, 30, 90, 365 };

static int64_t day_of(int64_t ms)
{
	return ms / 86400000;
}

/* ------------------------------------------------------------- events */

#define DAILY_UPSERT(table, key, col)                                                      \
	"INSERT INTO " table " (" key ", day, " col ") VALUES ($1, $2, 1)"                  \
	" ON CONFLICT (" key ", day) DO UPDATE SET " col " = " table "." col " + 1"

static const char *const model_sql[] = {
	[ROLLUP_VIEW] = DAILY_UPSERT("model_daily", "model_id", "views"),
	[ROLLUP_LIKE] = DAILY_UPSERT("model_daily", "model_id", "likes"),
	[ROLLUP_DOWNLOAD] = DAILY_UPSERT("model_daily", "model_id", "downloads"),
};

static const char *const creator_sql[] = {
	[ROLLUP_VIEW] = DAILY_UPSERT("creator_daily", "creator_id", "views"),
	[ROLLUP_LIKE] = DAILY_UPSERT("creator_daily", "creator_id", "likes"),
	[ROLLUP_DOWNLOAD] = DAILY_UPSERT("creator_daily", "creator_id", "downloads"),
};

bool rollup_count(db_t *db, int64_t model_id, int64_t creator_id, enum rollup_event ev, int64_t now)
{
	int64_t day = day_of(now);
	if (DBX(db, model_sql[ev], P_INT(model_id), P_INT(day)) < 0)
		return false;
	/* Views rank models (model_window); likes and downloads do not. */
	if (ev == ROLLUP_VIEW &&
	    DBX(db, "INSERT INTO model_window (model_id, creator_id, as_of_day, views_7d, views_30d, views_90d, views_1y)"
		    " VALUES ($1, $2, $3, 1, 1, 1, 1) ON CONFLICT (model_id) DO UPDATE SET"
		    " views_7d = model_window.views_7d + 1, views_30d = model_window.views_30d + 1,"
		    " views_90d = model_window.views_90d + 1, views_1y = model_window.views_1y + 1",
		P_INT(model_id), P_INT(creator_id), P_INT(day)) < 0)
		return false;
	return DBX(db, creator_sql[ev], P_INT(creator_id), P_INT(day)) >= 0;
}

bool rollup_sale(db_t *db, int64_t model_id, int64_t creator_id, int64_t price_cents, int64_t fee_cents,
		 int64_t now)
{
	int64_t day = day_of(now), net = price_cents - fee_cents;
	return DBX(db, "INSERT INTO model_daily (model_id, day, sales, gross_cents, revenue_cents) VALUES ($1, $2, 1, $3, $4)"
		       " ON CONFLICT (model_id, day) DO UPDATE SET sales = model_daily.sales + 1,"
		       " gross_cents = model_daily.gross_cents + $3, revenue_cents = model_daily.revenue_cents + $4",
		   P_INT(model_id), P_INT(day), P_INT(price_cents), P_INT(net)) >= 0 &&
	       DBX(db, "INSERT INTO model_window (model_id, creator_id, as_of_day, revenue_7d, revenue_30d, revenue_90d,"
		       " revenue_1y) VALUES ($1, $2, $3, $4, $4, $4, $4) ON CONFLICT (model_id) DO UPDATE SET"
		       " revenue_7d = model_window.revenue_7d + $4, revenue_30d = model_window.revenue_30d + $4,"
		       " revenue_90d = model_window.revenue_90d + $4, revenue_1y = model_window.revenue_1y + $4",
		   P_INT(model_id), P_INT(creator_id), P_INT(day), P_INT(net)) >= 0;
}

bool rollup_sale_creators(db_t *db, int64_t order_id, int64_t now)
{
	/* One row per creator, in creator order (the lock order). */
	return DBX(db, "INSERT INTO creator_daily (creator_id, day, sales, gross_cents, revenue_cents)"
		       " SELECT creator_id, $2, COUNT(*), SUM(price_cents), SUM(price_cents - fee_cents)"
		       " FROM order_items WHERE order_id = $1 GROUP BY creator_id ORDER BY creator_id"
		       " ON CONFLICT (creator_id, day) DO UPDATE SET sales = creator_daily.sales + excluded.sales,"
		       " gross_cents = creator_daily.gross_cents + excluded.gross_cents,"
		       " revenue_cents = creator_daily.revenue_cents + excluded.revenue_cents",
		   P_INT(order_id), P_INT(day_of(now))) >= 0;
}

bool rollup_refund(db_t *db, int64_t order_id, int64_t now)
{
	int64_t day = day_of(now);
	/* An order holds a model once, so each statement meets a row once. */
	return DBX(db, "INSERT INTO model_daily (model_id, day, refunds, gross_cents, revenue_cents)"
		       " SELECT model_id, $2, 1, -price_cents, fee_cents - price_cents FROM purchases"
		       " WHERE order_id = $1 AND refunded_at IS NULL ORDER BY model_id"
		       " ON CONFLICT (model_id, day) DO UPDATE SET refunds = model_daily.refunds + 1,"
		       " gross_cents = model_daily.gross_cents + excluded.gross_cents,"
		       " revenue_cents = model_daily.revenue_cents + excluded.revenue_cents",
		   P_INT(order_id), P_INT(day)) >= 0 &&
	       DBX(db, "INSERT INTO model_window (model_id, creator_id, as_of_day, revenue_7d, revenue_30d, revenue_90d,"
		       " revenue_1y) SELECT model_id, creator_id, $2, fee_cents - price_cents, fee_cents - price_cents,"
		       " fee_cents - price_cents, fee_cents - price_cents FROM purchases"
		       " WHERE order_id = $1 AND refunded_at IS NULL ORDER BY model_id"
		       " ON CONFLICT (model_id) DO UPDATE SET revenue_7d = model_window.revenue_7d + excluded.revenue_7d,"
		       " revenue_30d = model_window.revenue_30d + excluded.revenue_30d,"
		       " revenue_90d = model_window.revenue_90d + excluded.revenue_90d,"
		       " revenue_1y = model_window.revenue_1y + excluded.revenue_1y",
		   P_INT(order_id), P_INT(day)) >= 0 &&
	       DBX(db, "INSERT INTO creator_daily (creator_id, day, refunds, gross_cents, revenue_cents)"
		       " SELECT creator_id, $2, COUNT(*), -SUM(price_cents), SUM(fee_cents - price_cents) FROM purchases"
		       " WHERE order_id = $1 AND refunded_at IS NULL GROUP BY creator_id ORDER BY creator_id"
		       " ON CONFLICT (creator_id, day) DO UPDATE SET refunds = creator_daily.refunds + excluded.refunds,"
		       " gross_cents = creator_daily.gross_cents + excluded.gross_cents,"
		       " revenue_cents = creator_daily.revenue_cents + excluded.revenue_cents",
		   P_INT(order_id), P_INT(day)) >= 0;
}

bool rollup_follow(db_t *db, int64_t creator_id, int delta, int64_t now)
{
	return DBX(db, "INSERT INTO creator_daily (creator_id, day, followers) VALUES ($1, $2, $3)"
		       " ON CONFLICT (creator_id, day) DO UPDATE SET followers = creator_daily.followers + $3",
		   P_INT(creator_id), P_INT(day_of(now)), P_INT(delta)) >= 0;
}

/* ----------------------------------------------------------- advancer */

#define GONE(col, n) ROLLUP_GONE("model_window", col, #n, "$2")

static const char ADVANCE_SQL[] =
	"UPDATE model_window SET"
	" views_7d = views_7d - " GONE("views", 7) ","
	" views_30d = views_30d - " GONE("views", 30) ","
	" views_90d = views_90d - " GONE("views", 90) ","
	" views_1y = views_1y - " GONE("views", 365) ","
	" revenue_7d = revenue_7d - " GONE("revenue_cents", 7) ","
	" revenue_30d = revenue_30d - " GONE("revenue_cents", 30) ","
	" revenue_90d = revenue_90d - " GONE("revenue_cents", 90) ","
	" revenue_1y = revenue_1y - " GONE("revenue_cents", 365) ","
	" as_of_day = $2"
	" WHERE model_id = $1 AND as_of_day < $2";

int64_t rollup_advance(db_t *db, int64_t today, int max_rows)
{
	enum { BATCH = 256 };
	int64_t ids[BATCH];
	int n = 0;
	db_rows_t *r = DBQ(db, "SELECT model_id FROM model_window WHERE as_of_day < $1 ORDER BY as_of_day, model_id LIMIT $2",
			   P_INT(today), P_INT(MIN(max_rows, BATCH)));
	if (!r)
		return -1;
	while (db_next(r) && n < BATCH)
		ids[n++] = db_int(r, 0);
	bool failed = db_failed(r);
	db_done(r);
	if (failed)
		return -1;
	int64_t moved = 0;
	for (int i = 0; i < n; i++) {
		int64_t k = DBX(db, ADVANCE_SQL, P_INT(ids[i]), P_INT(today));
		if (k < 0)
			return -1;
		moved += k; /* 0: another advancer came first */
	}
	return moved;
}

static ticker_t *ticker;

static void advance_tick(db_t *db, ticker_t *t, void *arg)
{
	UNUSED(arg);
	if (!db)
		return;
	int64_t total = 0, k;
	while ((k = rollup_advance(db, day_of(now_ms()), 256)) > 0 && !ticker_stopping(t))
		total += k;
	if (k < 0)
		log_warn("rollup: advancing model_window failed: %s (tried again in %d s)", db_errmsg(db),
			 ROLLUP_ADVANCE_EVERY_S);
	if (total)
		log_info("rollup: %lld model windows advanced to today", (long long)total);
}

void rollup_advancer_start(void)
{
	ticker = ticker_start("rollup advancer", 0, ROLLUP_ADVANCE_EVERY_S, advance_tick, NULL);
}

void rollup_advancer_stop(void)
{
	ticker_stop(ticker);
	ticker = NULL;
}
