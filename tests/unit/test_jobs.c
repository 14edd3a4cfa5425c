/* The job table's claim, outcome and backoff logic (svc/jobs.h), on SQLite;
 * tests/api/test_jobs.py runs it on both engines across processes. */
#include <unistd.h>
#include "t.h"
#include "core/config.h"
#include "core/util.h"
#include "db/db.h"
#include "db/migrate.h"
#include "svc/jobs.h"

TEST(job_backoff_doubles_and_caps)
{
	CHECK(job_backoff_ms(1, 30000) == 30000);
	CHECK(job_backoff_ms(2, 30000) == 60000);
	CHECK(job_backoff_ms(3, 30000) == 120000);
	CHECK(job_backoff_ms(7, 30000) == 1920000);
	CHECK(job_backoff_ms(8, 30000) == JOB_BACKOFF_CAP_MS);
	CHECK(job_backoff_ms(1000, 30000) == JOB_BACKOFF_CAP_MS);
	CHECK(job_backoff_ms(0, 500) == 500);
	CHECK(job_backoff_ms(64, 1) == JOB_BACKOFF_CAP_MS); /* no overflow */
	CHECK(job_backoff_ms(3, 3600000) == JOB_BACKOFF_CAP_MS);
}

static int unit_runs;

static enum job_outcome unit_ok(db_t *db, const job_t *job, json_t **result, char *err, size_t errlen)
{
	unit_runs++;
	*result = json_pack("{s:i}", "attempt", job->attempt);
	return JOB_DONE;
}

static enum job_outcome unit_fail(db_t *db, const job_t *job, json_t **result, char *err, size_t errlen)
{
	unit_runs++;
	snprintf(err, errlen, "nope %d", job->attempt);
	return JOB_RETRY;
}

/* Another claimer took the row while we ran (our lease expired). */
static enum job_outcome unit_stolen(db_t *db, const job_t *job, json_t **result, char *err, size_t errlen)
{
	unit_runs++;
	DBX(db, "UPDATE jobs SET locked_by = 'thief' WHERE id = $1", P_INT(job->id));
	*result = json_string("mine");
	return JOB_DONE;
}

static const char *col(db_t *db, int64_t id, const char *sql, char *buf, size_t n)
{
	db_rows_t *r = db_query(db, sql, (db_param_t[]){ P_INT(id) }, 1);
	buf[0] = '\0';
	if (r && db_next(r) && db_text(r, 0))
		snprintf(buf, n, "%s", db_text(r, 0));
	if (r)
		db_done(r);
	return buf;
}

TEST(job_claim_outcomes_on_sqlite)
{
	char path[256], err[256], buf[256];
	memset(&cfg, 0, sizeof(cfg));
	cfg.db_kind = DB_SQLITE;
	snprintf(path, sizeof(path), "/tmp/hwc3d-unit-jobs-%d.db", (int)getpid());
	unlink(path);
	cfg.sqlite_path = path;
	cfg.job_backoff_ms = 1000;
	db_t *db = db_open();
	CHECK(db != NULL);
	if (!db)
		return;
	CHECK(migrate_up(db, err, sizeof(err)) > 0);
	job_init();
	if (!job_kind_known("unit_ok")) {
		job_register("unit_ok", unit_ok, 3, 1000);
		job_register("unit_fail", unit_fail, 2, 1000);
		job_register("unit_stolen", unit_stolen, 2, 1000);
	}
	int64_t id = 0, id2 = 0, id3 = 0;
	CHECK(!job_enqueue(db, "no_such_kind", "{}", 0, &id));
	CHECK(!job_enqueue(db, "unit_ok", "{oops", 0, &id));

	/* Due: claimed once, done, lease released; nothing left after. */
	CHECK(job_enqueue(db, "unit_ok", "{\"a\":1}", 0, &id));
	unit_runs = 0;
	CHECK(job_run_once(db, "unit") == 1);
	CHECK(job_run_once(db, "unit") == 0);
	CHECK(unit_runs == 1);
	CHECK_STR(col(db, id, "SELECT status || ':' || attempts || ':' || result FROM jobs WHERE id = $1", buf, sizeof(buf)),
		  "done:1:{\"attempt\":1}");
	CHECK_STR(col(db, id, "SELECT COALESCE(locked_by, 'none') FROM jobs WHERE id = $1", buf, sizeof(buf)), "none");

	/* Failure: back to queued with run_at one backoff ahead; not due yet. */
	int64_t t0 = now_ms();
	CHECK(job_enqueue(db, "unit_fail", "{}", 0, &id));
	CHECK(job_run_once(db, "unit") == 1);
	CHECK_STR(col(db, id, "SELECT status || ':' || attempts || ':' || error FROM jobs WHERE id = $1", buf, sizeof(buf)),
		  "queued:1:nope 1");
	int64_t run_at = 0;
	CHECK(DBS(db, &run_at, "SELECT run_at FROM jobs WHERE id = $1", P_INT(id)) == 1);
	CHECK(run_at >= t0 + 1000 && run_at <= now_ms() + 1000);
	CHECK(job_run_once(db, "unit") == 0);
	/* Due again: the second attempt is the last (max 2): failed. */
	CHECK(DBX(db, "UPDATE jobs SET run_at = 0 WHERE id = $1", P_INT(id)) == 1);
	CHECK(job_run_once(db, "unit") == 1);
	CHECK_STR(col(db, id, "SELECT status || ':' || attempts || ':' || error FROM jobs WHERE id = $1", buf, sizeof(buf)),
		  "failed:2:nope 2");
	CHECK(job_run_once(db, "unit") == 0);

	/* Leases: an expired one is claimed again, a live one is not; a kind
	 * this process does not know is left alone. */
	int64_t now = now_ms();
	CHECK(DBS(db, &id, "INSERT INTO jobs (kind, status, attempts, max_attempts, run_at, locked_until, locked_by,"
		  " created_at, updated_at) VALUES ('unit_ok', 'running', 1, 3, 0, $1, 'dead', 0, 0) RETURNING id",
		  P_INT(now - 1)) == 1);
	CHECK(DBS(db, &id2, "INSERT INTO jobs (kind, status, attempts, max_attempts, run_at, locked_until, locked_by,"
		  " created_at, updated_at) VALUES ('unit_ok', 'running', 1, 3, 0, $1, 'alive', 0, 0) RETURNING id",
		  P_INT(now + 60000)) == 1);
	CHECK(DBS(db, &id3, "INSERT INTO jobs (kind, status, attempts, max_attempts, run_at, created_at, updated_at)"
		  " VALUES ('from_the_future', 'queued', 0, 3, 0, 0, 0) RETURNING id") == 1);
	CHECK(job_run_once(db, "unit") == 1);
	CHECK(job_run_once(db, "unit") == 0);
	CHECK_STR(col(db, id, "SELECT status || ':' || attempts FROM jobs WHERE id = $1", buf, sizeof(buf)), "done:2");
	CHECK_STR(col(db, id2, "SELECT status || ':' || attempts || ':' || locked_by FROM jobs WHERE id = $1", buf, sizeof(buf)),
		  "running:1:alive");
	CHECK_STR(col(db, id3, "SELECT status FROM jobs WHERE id = $1", buf, sizeof(buf)), "queued");

	/* A worker that lost its claim cannot overwrite the new holder's row. */
	CHECK(job_enqueue(db, "unit_stolen", "{}", 0, &id));
	CHECK(job_run_once(db, "unit") == 1);
	CHECK_STR(col(db, id, "SELECT status || ':' || locked_by || ':' || COALESCE(result, 'null') FROM jobs WHERE id = $1",
		      buf, sizeof(buf)), "running:thief:null");

	/* A payload that is not JSON (written by hand) fails at once. */
	CHECK(DBS(db, &id, "INSERT INTO jobs (kind, payload, status, attempts, max_attempts, run_at, created_at, updated_at)"
		  " VALUES ('unit_ok', '{bad', 'queued', 0, 3, 0, 0, 0) RETURNING id") == 1);
	CHECK(job_run_once(db, "unit") == 1);
	CHECK_STR(col(db, id, "SELECT status || ':' || attempts FROM jobs WHERE id = $1", buf, sizeof(buf)), "failed:1");

	db_close(db);
	unlink(path);
	char p[300];
	snprintf(p, sizeof(p), "%s-wal", path);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", path);
	unlink(p);
}
