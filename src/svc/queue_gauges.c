#include "queue_gauges.h"
#include "metrics.h"
#include "ticker.h"
#include "../core/log.h"
#include "../core/util.h"

static ticker_t *ticker;

/* Sets gauge to the count of rows of table in status; a failed count
 * leaves the gauge as it was (logged once per run by the caller). */
static bool count_into(db_t *db, const char *sql, const char *status, const char *gauge)
{
	int64_t n = 0;
	if (DBS(db, &n, sql, P_TEXT(status)) != 1)
		return false;
	metrics_gauge_set(gauge, n);
	return true;
}

void queue_gauges_sample(db_t *db)
{
	static const char *jobs = "SELECT COUNT(*) FROM jobs WHERE status = $1";
	static const char *mail = "SELECT COUNT(*) FROM mail_outbox WHERE status = $1";
	bool ok = count_into(db, jobs, "queued", "hwc3d_jobs_queued") &&
		  count_into(db, jobs, "failed", "hwc3d_jobs_failed") &&
		  count_into(db, mail, "queued", "hwc3d_mail_outbox_queued") &&
		  count_into(db, mail, "failed", "hwc3d_mail_outbox_failed");
	if (!ok)
		log_warn("queue gauges: counting failed: %s", db_errmsg(db));
}

static void tick(db_t *db, ticker_t *t, void *arg)
{
	UNUSED(t);
	UNUSED(arg);
	if (db)
		queue_gauges_sample(db);
}

void queue_gauges_start(void)
{
	ticker = ticker_start("queue gauges", 0, QUEUE_GAUGES_EVERY_S, tick, NULL);
}

void queue_gauges_stop(void)
{
	ticker_stop(ticker);
	ticker = NULL;
}
