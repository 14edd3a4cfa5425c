/* The rollups of svc/rollup.h on SQLite: what each event writes, and the
 * model_window advancer; tests/api/test_dashboard.py reads them through
 * the API on both engines. */
#include <unistd.h>
#include "t.h"
#include "core/config.h"
#include "core/util.h"
#include "db/db.h"
#include "db/migrate.h"
#include "svc/rollup.h"

static int64_t q1(db_t *db, const char *sql, int64_t a)
{
	int64_t v = -999;
	if (DBS(db, &v, sql, P_INT(a)) != 1)
		return -999;
	return v;
}

#define WINDOW(col) q1(db, "SELECT " col " FROM model_window WHERE model_id = $1", m)

TEST(rollup_events_and_advance_on_sqlite)
{
	char path[256], err[256];
	memset(&cfg, 0, sizeof(cfg));
	cfg.db_kind = DB_SQLITE;
	snprintf(path, sizeof(path), "/tmp/hwc3d-unit-rollup-%d.db", (int)getpid());
	unlink(path);
	cfg.sqlite_path = path;
	db_t *db = db_open();
	CHECK(db != NULL);
	if (!db)
		return;
	CHECK(migrate_up(db, err, sizeof(err)) > 0);
	int64_t c = 0, m = 0, t = 20000, now = t * 86400000LL + 3600000;
	CHECK(DBS(db, &c, "INSERT INTO users (email, email_normalized, username, username_lower, created_at, updated_at)"
			  " VALUES ('c@x', 'c@x', 'c', 'c', 0, 0) RETURNING id") == 1);
	CHECK(DBS(db, &m, "INSERT INTO models (creator_id, title, created_at, updated_at) VALUES ($1, 'm', 0, 0)"
			  " RETURNING id", P_INT(c)) == 1);

	/* a view: the model's day, the creator's day, every window */
	CHECK(rollup_count(db, m, c, ROLLUP_VIEW, now));
	CHECK(rollup_count(db, m, c, ROLLUP_VIEW, now + 1));
	CHECK(q1(db, "SELECT views FROM model_daily WHERE model_id = $1", m) == 2);
	CHECK(q1(db, "SELECT views FROM creator_daily WHERE creator_id = $1", c) == 2);
	CHECK(WINDOW("views_7d") == 2 && WINDOW("views_30d") == 2 && WINDOW("views_90d") == 2 && WINDOW("views_1y") == 2);
	CHECK(WINDOW("as_of_day") == t);
	/* likes and downloads: days only */
	CHECK(rollup_count(db, m, c, ROLLUP_LIKE, now));
	CHECK(rollup_count(db, m, c, ROLLUP_DOWNLOAD, now));
	CHECK(q1(db, "SELECT likes * 10 + downloads FROM model_daily WHERE model_id = $1", m) == 11);
	CHECK(q1(db, "SELECT likes * 10 + downloads FROM creator_daily WHERE creator_id = $1", c) == 11);
	CHECK(WINDOW("views_7d") == 2);
	/* a sale of 10.00 with a 1.20 fee: the model's rows (the creators'
	 * come from the order's items, rollup_sale_creators) */
	CHECK(rollup_sale(db, m, c, 1000, 120, now));
	CHECK(q1(db, "SELECT sales * 1000000 + gross_cents * 1000 + revenue_cents FROM model_daily WHERE model_id = $1", m) ==
	      1000000 + 1000 * 1000 + 880);
	CHECK(WINDOW("revenue_7d") == 880 && WINDOW("revenue_1y") == 880);
	/* followers: net per day */
	CHECK(rollup_follow(db, c, 1, now));
	CHECK(rollup_follow(db, c, 1, now));
	CHECK(rollup_follow(db, c, -1, now));
	CHECK(q1(db, "SELECT followers FROM creator_daily WHERE creator_id = $1", c) == 1);

	/* ten days earlier: 5 views (in the 30-day window as of t, not in 7) */
	CHECK(DBX(db, "INSERT INTO model_daily (model_id, day, views, revenue_cents) VALUES ($1, $2, 5, 100)",
		  P_INT(m), P_INT(t - 10)) == 1);
	CHECK(DBX(db, "UPDATE model_window SET views_30d = views_30d + 5, views_90d = views_90d + 5,"
		      " views_1y = views_1y + 5, revenue_30d = revenue_30d + 100, revenue_90d = revenue_90d + 100,"
		      " revenue_1y = revenue_1y + 100 WHERE model_id = $1", P_INT(m)) == 1);
	/* current: nothing to move */
	CHECK(rollup_advance(db, t, 100) == 0);
	/* 25 days on: day t has left the 7-day window, day t - 10 the
	 * 30-day one; the longer ones keep both */
	CHECK(rollup_advance(db, t + 25, 100) == 1);
	CHECK(WINDOW("as_of_day") == t + 25);
	CHECK(WINDOW("views_7d") == 0 && WINDOW("revenue_7d") == 0);
	CHECK(WINDOW("views_30d") == 2 && WINDOW("revenue_30d") == 880);
	CHECK(WINDOW("views_90d") == 7 && WINDOW("revenue_90d") == 980);
	CHECK(WINDOW("views_1y") == 7 && WINDOW("revenue_1y") == 980);
	CHECK(rollup_advance(db, t + 25, 100) == 0); /* once */
	/* a year and more on: nothing left in any window */
	CHECK(rollup_advance(db, t + 400, 100) == 1);
	CHECK(WINDOW("views_1y") == 0 && WINDOW("revenue_1y") == 0 && WINDOW("views_90d") == 0);
	/* events after an advance add to the windows again */
	CHECK(rollup_count(db, m, c, ROLLUP_VIEW, (t + 400) * 86400000LL));
	CHECK(WINDOW("views_7d") == 1 && WINDOW("views_1y") == 1);

	db_close(db);
	unlink(path);
	char p[300];
	snprintf(p, sizeof(p), "%s-wal", path);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", path);
	unlink(p);
}
