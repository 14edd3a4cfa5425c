/*
 * jobs.h: durable background jobs in the `jobs` table (migration 0008).
 *
 * job_enqueue() adds a row (in the caller's transaction, if any).  Worker
 * threads (JOB_WORKERS of them per process, default 2; 0 runs none) claim
 * due rows atomically, so that across any number of threads and instances
 * sharing the database one job runs once at a time:
 *   - PostgreSQL: UPDATE ... WHERE id = (SELECT ... FOR UPDATE SKIP LOCKED
 *     LIMIT 1) RETURNING ...;
 *   - SQLite: the same single UPDATE ... RETURNING, which SQLite runs under
 *     its one write lock.
 * A claim sets status 'running', counts an attempt, and takes a lease
 * (locked_until = now + the kind's timeout + JOB_LEASE_GRACE_MS) with a
 * claim token (locked_by).  Only the holder of the token may finish the
 * row, so a worker that outlived its lease cannot overwrite the work of the
 * one that claimed it after.  A job left 'running' by a crash is claimed
 * again once its lease has expired: jobs survive restarts.
 *
 * A handler's outcome: JOB_DONE stores its result ('done'); JOB_RETRY
 * stores the error and puts the row back to 'queued' with run_at after an
 * exponential backoff (JOB_BACKOFF_MS doubling per attempt, capped at an
 * hour), or 'failed' once max_attempts are spent; JOB_FAILED fails it now;
 * JOB_INTERRUPTED (the process is stopping) re-queues it at once without
 * counting the attempt.
 *
 * Kinds are registered before job_workers_start() (the built-in ones by
 * job_init()); the registry is read-only while workers run.  A worker only
 * claims kinds this process knows, so an older instance leaves a newer
 * kind to the instances that handle it.  Handlers run on a worker thread
 * with that thread's database connection; they must bound their own run
 * time to the registered timeout and poll job_stopping() in long waits.
 *
 * Notifications: when a job whose payload has a "model_id" and that has an
 * owner ends 'done' or 'failed' for good (not a retry), its owner gets a
 * notification (notify.h: a row and the live push), of type "job_done" or
 * "job_failed", linking to the model page.  The payload's "notify" says
 * when: absent or true always, "failed" only on failure, false never.
 *
 * Built-in kind "echo" (for tests and smoke checks, enqueued only by
 * `hwc3d job-enqueue` or SQL, never by an HTTP route): its result is
 * {"echo": payload, "attempt": n}; payload "fail_times": n makes its first
 * n attempts fail, "sleep_ms": n (up to 10000) holds the job that long.
 */
#ifndef HWC_JOBS_H
#define HWC_JOBS_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include "../db/db.h"

#define JOB_KIND_MAX 32          /* registered kinds */
#define JOB_KIND_LEN 40          /* bytes of a kind name */
#define JOB_LEASE_GRACE_MS 30000 /* beyond a kind's timeout before a lease expires */
#define JOB_BACKOFF_CAP_MS 3600000
#define JOB_POLL_MS 500          /* an idle worker looks for due jobs this often */

enum job_outcome { JOB_DONE, JOB_RETRY, JOB_FAILED, JOB_INTERRUPTED };

typedef struct job {
	int64_t id;
	const char *kind;
	json_t *payload;     /* borrowed: an object (or whatever JSON was stored) */
	int attempt;         /* 1 for the first run */
	int max_attempts;
	int64_t owner_id;    /* 0 when none */
} job_t;

/* Runs one job.  On JOB_DONE *result may be set (stolen; NULL stores
 * null); on failure write a one-line reason into err. */
typedef enum job_outcome (*job_fn)(db_t *db, const job_t *job, json_t **result,
				   char *err, size_t errlen);

/* Reads JOB_WORKERS and JOB_BACKOFF_MS (config.h) and registers the
 * built-in kinds.  Call once, before anything else here. */
void job_init(void);
/* Adds a kind; aborts on a duplicate, a bad name or a full registry (bugs).
 * timeout_ms bounds one run and sets the lease. */
void job_register(const char *kind, job_fn fn, int max_attempts, int64_t timeout_ms);
bool job_kind_known(const char *kind);

/* Adds a job due now; *id gets its id (id may be NULL).  owner_id 0: none.
 * payload_json must be valid JSON (checked).  False on a database error or
 * an unknown kind. */
bool job_enqueue(db_t *db, const char *kind, const char *payload_json, int64_t owner_id, int64_t *id);

/* A running job's progress, 0..100 (clamped), and optionally a short
 * stage ("rendering", "encoding"; NULL keeps the last one), shown by
 * GET /api/jobs/{id}.  Handlers call it on their db from their worker
 * thread; it writes at once (outside any transaction) and only while the
 * row is 'running'.  A job that ends 'done' reads 100.  False on a
 * database error (the job goes on). */
bool job_progress(db_t *db, int64_t job_id, int pct, const char *stage);

/* The delay before attempt n+1 after attempt n failed (n >= 1). */
int64_t job_backoff_ms(int attempt, int64_t base_ms);

/* Claims one due job and runs it on db; returns 1 when it ran one, 0 when
 * none was due, -1 on a database error.  worker names the claimer. */
int job_run_once(db_t *db, const char *worker);

void job_workers_start(void);
/* Asks running handlers to stop (job_stopping()), joins the workers. */
void job_workers_stop(void);

#endif
