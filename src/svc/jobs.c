#include <pthread.h>
#include <time.h>
#include <unistd.h>
#include "jobs.h"
#include "mail_tpl.h"
#include "notify.h"
#include "render_jobs.h"
#include "storage.h"
#include "../core/config.h"
#include "../core/log.h"
#include "../core/strbuf.h"
#include "../core/util.h"

static struct kind {
	char name[JOB_KIND_LEN];
	job_fn fn;
	int max_attempts;
	int64_t timeout_ms;
} kinds[JOB_KIND_MAX];
static int nkinds;

static pthread_mutex_t wake_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake = PTHREAD_COND_INITIALIZER;
static uint64_t wake_gen;
static bool stopping;
static pthread_t *workers;
static int nworkers;
static char *claim_sql[2]; /* per db_kind, built when the workers start */

static enum job_outcome echo_run(db_t *db, const job_t *job, json_t **result, char *err, size_t errlen);

void job_init(void)
{
	if (!job_kind_known("echo"))
		job_register("echo", echo_run, 3, 30000);
	/* S3 deletions queued by request handlers (storage.h): the DELETE
	 * has a 60 s curl timeout; 10 tries, over about three hours at the
	 * default backoff. */
	if (!job_kind_known(STORE_DELETE_JOB))
		job_register(STORE_DELETE_JOB, store_delete_job, 10, 70000);
	/* Admin mailings (mail_tpl.h): batches into the outbox, resumable. */
	if (!job_kind_known(MAIL_CAMPAIGN_JOB))
		job_register(MAIL_CAMPAIGN_JOB, mail_campaign_job, 5, 600000);
	render_jobs_register(); /* thumbnails and turntable videos */
}

static const struct kind *kind_find(const char *name)
{
	for (int i = 0; i < nkinds; i++)
		if (!strcmp(kinds[i].name, name))
			return &kinds[i];
	return NULL;
}

bool job_kind_known(const char *kind)
{
	return kind && kind_find(kind) != NULL;
}

void job_register(const char *kind, job_fn fn, int max_attempts, int64_t timeout_ms)
{
	HWC_ASSERT(!workers);
	HWC_ASSERT(nkinds < JOB_KIND_MAX && fn && max_attempts >= 1 && timeout_ms > 0);
	HWC_ASSERT(kind && *kind && strlen(kind) < JOB_KIND_LEN && !kind_find(kind));
	struct kind *k = &kinds[nkinds++];
	snprintf(k->name, sizeof(k->name), "%s", kind);
	k->fn = fn;
	k->max_attempts = max_attempts;
	k->timeout_ms = timeout_ms;
}

static void job_wake(void)
{
	pthread_mutex_lock(&wake_lock);
	wake_gen++;
	pthread_cond_broadcast(&wake);
	pthread_mutex_unlock(&wake_lock);
}

static bool job_stopping(void)
{
	return __atomic_load_n(&stopping, __ATOMIC_ACQUIRE);
}

bool job_enqueue(db_t *db, const char *kind, const char *payload_json, int64_t owner_id, int64_t *id)
{
	const struct kind *k = kind ? kind_find(kind) : NULL;
	if (!k) {
		log_error("job_enqueue: unknown job kind \"%s\"", kind ? kind : "(null)");
		return false;
	}
	json_error_t jerr;
	json_t *p = json_loads(payload_json ? payload_json : "{}", JSON_DECODE_ANY, &jerr);
	if (!p) {
		log_error("job_enqueue: the %s payload is not JSON: %s", kind, jerr.text);
		return false;
	}
	json_decref(p);
	int64_t now = now_ms(), newid = 0;
	if (DBS(db, &newid,
		"INSERT INTO jobs (kind, payload, status, attempts, max_attempts, run_at, owner_id, request_id,"
		" created_at, updated_at) VALUES ($1, $2, 'queued', 0, $3, $4, $5, $6, $4, $4) RETURNING id",
		P_TEXT(kind), P_TEXT(payload_json ? payload_json : "{}"), P_INT(k->max_attempts), P_INT(now),
		owner_id > 0 ? P_INT(owner_id) : P_NULL, log_context_get() ? P_TEXT(log_context_get()) : P_NULL) != 1)
		return false;
	if (id)
		*id = newid;
	/* Inside a transaction the row is not visible yet: the caller wakes
	 * the workers after its commit. */
	if (!db_in_transaction(db))
		job_wake();
	return true;
}

int64_t job_backoff_ms(int attempt, int64_t base_ms)
{
	if (attempt < 1)
		attempt = 1;
	if (base_ms < 1)
		base_ms = 1;
	int shift = MIN(attempt - 1, 30);
	if (base_ms > (JOB_BACKOFF_CAP_MS >> shift))
		return JOB_BACKOFF_CAP_MS;
	return MIN(base_ms << shift, (int64_t)JOB_BACKOFF_CAP_MS);
}

#define CLAIMABLE "((status = 'queued' AND run_at <= $1) OR (status = 'running' AND locked_until < $1))"

/* $1 now, $2 the claim token, then per kind its name and its lease. */
static char *build_claim_sql(enum db_kind dk)
{
	strbuf_t sb;
	sb_init(&sb, 0);
	sb_adds(&sb, "UPDATE jobs SET status = 'running', attempts = attempts + 1, locked_by = $2,"
		" updated_at = $1, locked_until = $1 + CASE kind");
	for (int i = 0; i < nkinds; i++)
		sb_addf(&sb, " WHEN $%d THEN CAST($%d AS BIGINT)", 3 + 2 * i, 4 + 2 * i);
	sb_adds(&sb, " END WHERE id = (SELECT id FROM jobs WHERE kind IN (");
	for (int i = 0; i < nkinds; i++)
		sb_addf(&sb, "%s$%d", i ? ", " : "", 3 + 2 * i);
	sb_adds(&sb, ") AND " CLAIMABLE " ORDER BY run_at, id LIMIT 1");
	if (dk == DB_PG)
		sb_adds(&sb, " FOR UPDATE SKIP LOCKED");
	/* Checked again on the row we update: under PostgreSQL's READ
	 * COMMITTED a row another claimer changed meanwhile is re-read, and
	 * then it no longer qualifies. */
	sb_adds(&sb, ") AND " CLAIMABLE " RETURNING id, kind, payload, attempts, max_attempts, owner_id, request_id");
	return sb_detach(&sb, NULL);
}

static const char *claim_sql_for(db_t *db)
{
	enum db_kind dk = db_kind(db);
	char *s = __atomic_load_n(&claim_sql[dk], __ATOMIC_ACQUIRE);
	if (s)
		return s;
	s = build_claim_sql(dk);
	char *expected = NULL;
	if (!__atomic_compare_exchange_n(&claim_sql[dk], &expected, s, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
		free(s);
		s = expected;
	}
	return s;
}

bool job_progress(db_t *db, int64_t job_id, int pct, const char *stage)
{
	pct = MAX(0, MIN(pct, 100));
	return DBX(db, "UPDATE jobs SET progress = $2, stage = COALESCE($3, stage), updated_at = $4"
		   " WHERE id = $1 AND status = 'running'",
		   P_INT(job_id), P_INT(pct), stage ? P_TEXT(stage) : P_NULL, P_INT(now_ms())) >= 0;
}

/* What a kind did, for its owner's notification. */
static const char *kind_label(const char *kind)
{
	static const struct { const char *kind, *label; } L[] = {
		{ "model_video", "The turntable video" },
		{ "model_thumbnail", "The thumbnail" },
	};
	for (size_t i = 0; i < ARRAY_LEN(L); i++)
		if (!strcmp(kind, L[i].kind))
			return L[i].label;
	return NULL;
}

/* The notification of a job that ended for good (jobs.h). */
static void notify_owner(db_t *db, const job_t *job, bool done, const char *err)
{
	json_t *mid = json_is_object(job->payload) ? json_object_get(job->payload, "model_id") : NULL;
	json_t *when = json_is_object(job->payload) ? json_object_get(job->payload, "notify") : NULL;
	if (job->owner_id <= 0 || !json_is_integer(mid) || json_is_false(when) ||
	    (json_is_string(when) && strcmp(json_string_value(when), "failed") == 0 && done))
		return;
	long long model = (long long)json_integer_value(mid);
	const char *label = kind_label(job->kind);
	char title[120], msg[700], url[64];
	if (label)
		snprintf(title, sizeof(title), "%s %s", label, done ? "is ready" : "failed");
	else
		snprintf(title, sizeof(title), "Job %s %s", job->kind, done ? "finished" : "failed");
	if (done)
		snprintf(msg, sizeof(msg), "Job %lld (%s) for model %lld finished.", (long long)job->id, job->kind, model);
	else
		snprintf(msg, sizeof(msg), "Job %lld (%s) for model %lld failed: %.500s", (long long)job->id, job->kind,
			 model, err ? err : "");
	snprintf(url, sizeof(url), "/model/%lld", model);
	if (!notify(db, job->owner_id, done ? "job_done" : "job_failed", title, msg, url))
		log_warn("job %lld (%s): cannot notify its owner: %s", (long long)job->id, job->kind, db_errmsg(db));
}

/* Writes the outcome, only while we still hold the claim. */
static void finish(db_t *db, const job_t *job, const char *token, enum job_outcome oc,
		   json_t *result, const char *err)
{
	int64_t now = now_ms(), n = -1;
	const char *what = "";
	bool final = false; /* done or failed for good: the owner hears of it */
	if (oc == JOB_DONE) {
		char *res = json_dumps(result ? result : json_null(), JSON_COMPACT | JSON_ENCODE_ANY);
		n = DBX(db, "UPDATE jobs SET status = 'done', result = $3, error = NULL, progress = 100, locked_until = NULL,"
			" locked_by = NULL, updated_at = $4 WHERE id = $1 AND locked_by = $2",
			P_INT(job->id), P_TEXT(token), P_TEXT(res), P_INT(now));
		free(res);
		what = "done";
		final = true;
	} else if (oc == JOB_INTERRUPTED) {
		n = DBX(db, "UPDATE jobs SET status = 'queued', run_at = $3, attempts = attempts - 1,"
			" locked_until = NULL, locked_by = NULL, updated_at = $3 WHERE id = $1 AND locked_by = $2",
			P_INT(job->id), P_TEXT(token), P_INT(now));
		what = "re-queued (interrupted by shutdown)";
	} else if (oc == JOB_RETRY && job->attempt < job->max_attempts) {
		int64_t delay = job_backoff_ms(job->attempt, cfg.job_backoff_ms);
		n = DBX(db, "UPDATE jobs SET status = 'queued', run_at = $3, error = $4, locked_until = NULL,"
			" locked_by = NULL, updated_at = $5 WHERE id = $1 AND locked_by = $2",
			P_INT(job->id), P_TEXT(token), P_INT(now + delay), P_TEXT(err), P_INT(now));
		log_warn("job %lld (%s) attempt %d/%d failed, retry in %lld ms: %s", (long long)job->id, job->kind,
			 job->attempt, job->max_attempts, (long long)delay, err);
		what = NULL;
	} else {
		n = DBX(db, "UPDATE jobs SET status = 'failed', error = $3, locked_until = NULL,"
			" locked_by = NULL, updated_at = $4 WHERE id = $1 AND locked_by = $2",
			P_INT(job->id), P_TEXT(token), P_TEXT(err), P_INT(now));
		log_warn("job %lld (%s) attempt %d/%d failed, giving up: %s", (long long)job->id, job->kind,
			 job->attempt, job->max_attempts, err);
		what = NULL;
		final = true;
	}
	if (n == 1 && final)
		notify_owner(db, job, oc == JOB_DONE, err);
	if (n == 0)
		log_warn("job %lld (%s): its lease expired and another worker claimed it; outcome dropped",
			 (long long)job->id, job->kind);
	else if (n < 0)
		log_error("job %lld (%s): cannot record its outcome: %s", (long long)job->id, job->kind,
			  db_errmsg(db));
	else if (what)
		log_info("job %lld (%s) attempt %d %s", (long long)job->id, job->kind, job->attempt, what);
}

int job_run_once(db_t *db, const char *worker)
{
	if (!nkinds)
		return 0;
	char token[200], rnd[13];
	random_hex(rnd, 6);
	snprintf(token, sizeof(token), "%.160s:%s", worker, rnd);
	int64_t now = now_ms();
	int np = 2 + 2 * nkinds;
	db_param_t params[2 + 2 * JOB_KIND_MAX];
	params[0] = P_INT(now);
	params[1] = P_TEXT(token);
	for (int i = 0; i < nkinds; i++) {
		params[2 + 2 * i] = P_TEXT(kinds[i].name);
		params[3 + 2 * i] = P_INT(kinds[i].timeout_ms + JOB_LEASE_GRACE_MS);
	}
	db_rows_t *r = db_query(db, claim_sql_for(db), params, np);
	if (!r)
		return -1;
	if (!db_next(r)) {
		bool failed = db_failed(r);
		db_done(r);
		return failed ? -1 : 0;
	}
	char kind[JOB_KIND_LEN];
	snprintf(kind, sizeof(kind), "%s", db_text(r, 1));
	job_t job = {
		.id = db_int(r, 0),
		.kind = kind,
		.attempt = (int)db_int(r, 3),
		.max_attempts = (int)db_int(r, 4),
		.owner_id = db_isnull(r, 5) ? 0 : db_int(r, 5),
	};
	json_error_t jerr;
	const char *payload = db_text(r, 2);
	job.payload = json_loads(payload ? payload : "null", JSON_DECODE_ANY, &jerr);
	/* The lines of this run carry the id of the request that queued it. */
	char rid[64] = "";
	if (!db_isnull(r, 6))
		snprintf(rid, sizeof(rid), "%s", db_text(r, 6));
	db_done(r);
	log_context(rid);
	log_info("job %lld (%s) attempt %d/%d started by %s", (long long)job.id, job.kind, job.attempt,
		 job.max_attempts, token);
	const struct kind *k = kind_find(kind);
	char err[512] = "";
	json_t *result = NULL;
	enum job_outcome oc;
	if (!k) { /* cannot happen: we claim only our kinds */
		snprintf(err, sizeof(err), "unknown job kind");
		oc = JOB_FAILED;
	} else if (!job.payload) {
		snprintf(err, sizeof(err), "the payload is not JSON: %s", jerr.text);
		oc = JOB_FAILED;
	} else {
		oc = k->fn(db, &job, &result, err, sizeof(err));
		if (oc != JOB_DONE && !err[0])
			snprintf(err, sizeof(err), "failed (no reason given)");
	}
	/* A handler may leave a transaction open on a failure path. */
	if (db_in_transaction(db))
		db_rollback(db);
	finish(db, &job, token, oc, result, err);
	log_context(NULL);
	json_decref(result);
	json_decref(job.payload);
	return 1;
}

static void *worker_main(void *arg)
{
	int index = (int)(intptr_t)arg;
	char host[64] = "host", name[120];
	gethostname(host, sizeof(host) - 1);
	host[sizeof(host) - 1] = '\0';
	snprintf(name, sizeof(name), "%s:%d:w%d", host, (int)getpid(), index);
	while (!job_stopping()) {
		pthread_mutex_lock(&wake_lock);
		uint64_t gen = wake_gen;
		pthread_mutex_unlock(&wake_lock);
		db_t *db = db_thread();
		int rc = db ? job_run_once(db, name) : -1;
		if (rc == 1)
			continue;
		pthread_mutex_lock(&wake_lock);
		if (!stopping && gen == wake_gen) {
			struct timespec ts;
			clock_gettime(CLOCK_REALTIME, &ts);
			int64_t ns = ts.tv_nsec + (int64_t)JOB_POLL_MS * 1000000;
			ts.tv_sec += (time_t)(ns / 1000000000);
			ts.tv_nsec = (long)(ns % 1000000000);
			pthread_cond_timedwait(&wake, &wake_lock, &ts);
		}
		pthread_mutex_unlock(&wake_lock);
	}
	db_thread_release();
	return NULL;
}

void job_workers_start(void)
{
	HWC_ASSERT(!workers);
	__atomic_store_n(&stopping, false, __ATOMIC_RELEASE);
	workers = xcalloc((size_t)MAX(cfg.job_workers, 1), sizeof(pthread_t));
	nworkers = 0;
	for (int i = 0; i < cfg.job_workers; i++) {
		if (pthread_create(&workers[nworkers], NULL, worker_main, (void *)(intptr_t)(i + 1)) != 0) {
			log_error("cannot start job worker %d", i + 1);
			break;
		}
		nworkers++;
	}
	log_info("jobs: %d worker%s, %d kind%s", nworkers, nworkers == 1 ? "" : "s", nkinds, nkinds == 1 ? "" : "s");
}

void job_workers_stop(void)
{
	if (!workers)
		return;
	pthread_mutex_lock(&wake_lock);
	__atomic_store_n(&stopping, true, __ATOMIC_RELEASE);
	pthread_cond_broadcast(&wake);
	pthread_mutex_unlock(&wake_lock);
	for (int i = 0; i < nworkers; i++)
		pthread_join(workers[i], NULL);
	free(workers);
	workers = NULL;
	nworkers = 0;
	for (size_t i = 0; i < ARRAY_LEN(claim_sql); i++) {
		free(claim_sql[i]);
		claim_sql[i] = NULL;
	}
}

/* ---- the built-in "echo" kind ---- */

static enum job_outcome echo_run(db_t *db, const job_t *job, json_t **result, char *err, size_t errlen)
{
	UNUSED(db);
	json_t *p = job->payload;
	json_int_t fail_times = json_is_object(p) ? json_integer_value(json_object_get(p, "fail_times")) : 0;
	json_int_t sleep_ms = json_is_object(p) ? json_integer_value(json_object_get(p, "sleep_ms")) : 0;
	sleep_ms = MAX(MIN(sleep_ms, 10000), 0);
	for (int64_t waited = 0; waited < sleep_ms; waited += 20) {
		if (job_stopping()) {
			snprintf(err, errlen, "interrupted by shutdown");
			return JOB_INTERRUPTED;
		}
		struct timespec ts = { 0, 20 * 1000000 };
		nanosleep(&ts, NULL);
	}
	if (job->attempt <= fail_times) {
		snprintf(err, errlen, "failing as asked (attempt %d, fail_times %lld)", job->attempt,
			 (long long)fail_times);
		return JOB_RETRY;
	}
	*result = json_pack("{s:O, s:i}", "echo", p, "attempt", job->attempt);
	return JOB_DONE;
}
