/*
 * rollup.h: the daily rollups behind the analytics and the creator
 * dashboard (migration 0013 says what each column means).
 *
 * Every event that a dashboard counts writes its rollups here, in the
 * caller's transaction, so a rollup never disagrees with the row it
 * counts:
 *   - model_daily (model, day): views, likes, downloads, sales, refunds,
 *     gross and net revenue;
 *   - creator_daily (creator, day): the same summed over the creator's
 *     models, plus net new followers;
 *   - model_window (model): views and net revenue over the trailing 7, 30,
 *     90 and 365 days, for ranking a creator's models in a range without
 *     summing their days.
 *
 * Lock order (PostgreSQL takes row locks as it goes): within a
 * transaction, a model's rows (models, model_daily, model_window) before
 * any creator_daily row, models in ascending id and creators in ascending
 * id.  Every writer here follows it, so two events never wait on each
 * other in a cycle; a caller booking several models (an order) calls
 * rollup_sale for each, in model order, then rollup_sale_creators once.
 *
 * Each function returns false on a database error (the caller rolls
 * back).  `now` is the event's time in ms; its UTC day is the row's day.
 */
#ifndef HWC_ROLLUP_H
#define HWC_ROLLUP_H

#include <stdbool.h>
#include <stdint.h>
#include "../db/db.h"

/* The trailing windows of model_window, in days. */
#define ROLLUP_WINDOWS 4
extern const int rollup_window_days[ROLLUP_WINDOWS]; /* 7, 30, 90, 365 */

enum rollup_event {
	ROLLUP_VIEW,     /* a counted view (once per viewer and hour) */
	ROLLUP_LIKE,     /* a like given (an unlike is not counted) */
	ROLLUP_DOWNLOAD, /* a download through a signed link */
};

/* One event of model_id (made by creator_id). */
bool rollup_count(db_t *db, int64_t model_id, int64_t creator_id, enum rollup_event ev, int64_t now);

/* A sale of model_id at price_cents with the platform's fee_cents: the
 * model's rows.  Then rollup_sale_creators for the creators' rows. */
bool rollup_sale(db_t *db, int64_t model_id, int64_t creator_id, int64_t price_cents, int64_t fee_cents,
		 int64_t now);
/* The creators' rows of every item of order_id (order_items), summed per
 * creator: after the rollup_sale of each item. */
bool rollup_sale_creators(db_t *db, int64_t order_id, int64_t now);

/* A refund of order_id: every purchase of it not yet refunded counts one
 * refund, minus its price (gross) and minus its net (revenue), on the day
 * of the refund.  Call it before the purchases are marked refunded. */
bool rollup_refund(db_t *db, int64_t order_id, int64_t now);

/* delta (+1 a follow, -1 an unfollow) on creator_id's followers of the
 * day: for the follow handler. */
bool rollup_follow(db_t *db, int64_t creator_id, int delta, int64_t now);

/* SQL: what has left row w's N-day window (n, as text) between its
 * as_of_day and the day `today` (a parameter or expression): the sum of
 * the model's daily `col` over days as_of_day - N + 1 .. today - N, 0 when
 * the row is current.  The window's value today is w's column minus it. */
#define ROLLUP_GONE(w, col, n, today)                                                      \
	"COALESCE((SELECT SUM(g." col ") FROM model_daily g WHERE g.model_id = " w ".model_id" \
	" AND g.day > " w ".as_of_day - " n " AND g.day <= " today " - " n "), 0)"

/* Brings at most max_rows model_window rows older than today up to today
 * (see the migration); returns how many it moved, -1 on a database error.
 * Each row is one statement of its own (no transaction holds many rows'
 * locks), and is safe beside writers and another advancer. */
int64_t rollup_advance(db_t *db, int64_t today, int max_rows);

/* The advancer thread: rollup_advance until nothing is stale, at start and
 * every ROLLUP_ADVANCE_EVERY_S after.  Thread safe. */
#define ROLLUP_ADVANCE_EVERY_S 60
void rollup_advancer_start(void);
void rollup_advancer_stop(void);

#endif
