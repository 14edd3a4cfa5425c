#include <microhttpd.h>
#include <pthread.h>
#include <stddef.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "pool.h"
#include "reply.h"
#include "../db/db.h"
#include "../core/config.h"
#include "../core/log.h"
#include "../core/num.h"
#include "../core/strbuf.h"
#include "../core/util.h"
#include "../media/sandbox.h"

/* Workers run below the poll threads' priority (sandbox_background: nice
 * 10 and SCHED_BATCH; Linux keeps both per thread, and the sandboxed
 * children they start inherit them): with every core busy hashing and
 * analysing, the poll loops still get the CPU first.  The lookups' short
 * batches are the exception (kinds[].foreground). */

enum job_state { JOB_RESERVED, JOB_QUEUED, JOB_RUNNING, JOB_DONE, JOB_CANCELLED };

struct pool_job {
	struct pool_job *next;
	req_t *req;
	struct MHD_Connection *conn;
	pool_kind_t kind;
	pool_work_fn work;
	pool_batch_fn batch; /* instead of work, for pool_defer_batch */
	pool_done_fn done;
	void *ctx;
	enum job_state state; /* under lock, except once DONE/CANCELLED (then the poll thread's) */
};

struct kind_info {
	const char *name;
	int workers;     /* threads */
	int queue;       /* waiting jobs beyond the running ones */
	int retry_after; /* seconds, for the 503 of a full queue */
	const char *busy;
	bool own_db;     /* the work queries through the worker's own connection */
	bool foreground; /* at the poll threads' priority (short work a page waits for) */
};

/* Workers: argon2 at most 2 at once (64 MiB each, see password.h); model
 * analysis and images: ANALYZE_CONCURRENCY each (workers = -1 below), the
 * children the machine can run, which sandbox_media_slots also bounds
 * across both kinds; Blender: two conversions run (its slots in blend.c),
 * two more wait for a slot at most BLEND_SLOT_WAIT_S, and no queue, so
 * every wait is bounded; outbound HTTP mostly waits; cold reads:
 * DB_WORKERS (workers = -2). */
static const struct kind_info kinds[POOL_KINDS] = {
	[POOL_PASSWORD] = { "password", 2, 64, 2, "Too many sign-ins at once; try again in a moment", false, false },
	[POOL_ANALYZE] = { "analyze", -1, 16, 15, "Too many models are being analysed; try again shortly", false, false },
	[POOL_IMAGE] = { "image", -1, 32, 5, "Too many images are being processed; try again shortly", false, false },
	[POOL_BLEND] = { "blend", 4, 0, 60, "Too many Blender files are being converted; try again later", false, false },
	[POOL_NET] = { "net", 4, 64, 5, "Too many outside requests at once; try again shortly", false, false },
	/* Cold reads: as many at once as DB_WORKERS (default 4: the database's
	 * own parallelism, on PostgreSQL a server process each), and 512 may
	 * wait (8 per connection of a 64-connection load) before 503.  Below
	 * the poll threads too: measured, cached answers then keep flowing
	 * while the cold ones compute (random list p99 37 ms instead of 133 on
	 * PostgreSQL, mix 81 instead of 138). */
	[POOL_DB] = { "db", -2, 512, 1, "The server is busy; try again in a moment", true, false },
	/* Lookups by key, batched: two workers, each answering up to
	 * POOL_BATCH_MAX waiting lookups with one query, so a slow list query
	 * on POOL_DB never holds a model page up.  Measured on PostgreSQL (2
	 * cores): one query for 16 model ids costs what three for one id do.
	 * At the poll threads' priority: a batch takes a millisecond, and
	 * below them the cold pages waited behind the cached ones (random
	 * model pages p99 33 ms; 7-11 ms at the same priority). */
	[POOL_LOOKUP] = { "lookup", 2, 1024, 1, "The server is busy; try again in a moment", true, true },
};

struct kind_state {
	struct pool_job *head, *tail;
	int waiting;  /* reserved or queued, not yet running */
	int busy;     /* workers running a job or a batch */
	int bound;
	int64_t completed; /* work run to its end */
	int64_t runs;      /* runs of work: a batch counts once */
	int64_t rejected;  /* answered 503: the kind was full */
	pthread_t *threads;
	int nthreads;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake[POOL_KINDS];
static struct kind_state st[POOL_KINDS];
static bool running, stopping;

static void resume(struct pool_job *j)
{
	MHD_resume_connection(j->conn);
}

struct worker_arg {
	pool_kind_t kind;
};
static struct worker_arg worker_args[POOL_KINDS];

/* Takes the head job of a kind and, when it is a batch, every job queued
 * behind it with the same batch function, up to POOL_BATCH_MAX; under the
 * lock.  Returns how many. */
static size_t take(struct kind_state *s, struct pool_job **out)
{
	struct pool_job *j = s->head;
	size_t n = 0;
	out[n++] = j;
	s->head = j->next;
	struct pool_job **link = &s->head;
	while (j->batch && *link && n < POOL_BATCH_MAX) {
		struct pool_job *c = *link;
		if (c->batch == j->batch) {
			*link = c->next;
			out[n++] = c;
		} else {
			link = &c->next;
		}
	}
	/* The queue's end moved only when what is left ends at link. */
	if (!*link)
		s->tail = link == &s->head ? NULL : (struct pool_job *)((char *)link - offsetof(struct pool_job, next));
	return n;
}

/* Runs a job, or a batch of them, with the worker's connection as their
 * req->db on a kind that has its own. */
static void run(pool_kind_t k, struct pool_job **jobs, size_t n)
{
	db_t *poll_db[POOL_BATCH_MAX];
	db_t *own = kinds[k].own_db ? db_thread() : NULL;
	for (size_t i = 0; i < n; i++) {
		poll_db[i] = jobs[i]->req->db;
		if (kinds[k].own_db)
			jobs[i]->req->db = own;
	}
	log_context(jobs[0]->req->request_id);
	if (jobs[0]->batch) {
		void *ctxs[POOL_BATCH_MAX];
		for (size_t i = 0; i < n; i++)
			ctxs[i] = jobs[i]->ctx;
		jobs[0]->batch(ctxs, n);
	} else {
		jobs[0]->work(jobs[0]->ctx);
	}
	log_context(NULL);
	for (size_t i = 0; i < n; i++)
		jobs[i]->req->db = poll_db[i];
}

static void *worker_main(void *arg)
{
	pool_kind_t k = ((struct worker_arg *)arg)->kind;
	struct kind_state *s = &st[k];
	if (!kinds[k].foreground && !sandbox_background())
		log_debug("pool %s: cannot lower the worker's priority", kinds[k].name);
	if (kinds[k].own_db && !db_thread()) /* opened now, not by the first request */
		log_warn("pool %s: cannot open a database connection yet", kinds[k].name);
	pthread_mutex_lock(&lock);
	for (;;) {
		while (!s->head && !stopping)
			pthread_cond_wait(&wake[k], &lock);
		if (!s->head)
			break; /* stopping, nothing left */
		struct pool_job *jobs[POOL_BATCH_MAX];
		size_t n = take(s, jobs);
		s->waiting -= (int)n;
		s->busy++;
		for (size_t i = 0; i < n; i++)
			jobs[i]->state = JOB_RUNNING;
		pthread_mutex_unlock(&lock);
		int64_t t0 = mono_us();
		run(k, jobs, n);
		int64_t dt = mono_us() - t0;
		if (dt > 5 * 1000000)
			log_info("pool %s: work took %lld ms", kinds[k].name, (long long)(dt / 1000));
		pthread_mutex_lock(&lock);
		s->busy--;
		s->completed += (int64_t)n;
		s->runs++;
		for (size_t i = 0; i < n; i++)
			jobs[i]->state = JOB_DONE;
		pthread_mutex_unlock(&lock);
		for (size_t i = 0; i < n; i++)
			resume(jobs[i]); /* MHD's own lock orders this after the state */
		pthread_mutex_lock(&lock);
	}
	pthread_mutex_unlock(&lock);
	db_thread_release(); /* the connection work opened with db_thread */
	return NULL;
}

static int setting(const char *name, int lo, int hi, int def)
{
	const char *v = config_get(name);
	int64_t n;
	if (!v || !*v)
		return def;
	if (!parse_i64_range(v, lo, hi, &n)) {
		log_warn("%s=\"%.32s\" is not an integer from %d to %d; using the default", name, v, lo, hi);
		return def;
	}
	return (int)n;
}

bool pool_start(void)
{
	int cap = setting("POOL_QUEUE_LIMIT", 0, 100000, -1);
	pthread_mutex_lock(&lock);
	stopping = false;
	pthread_mutex_unlock(&lock);
	for (int k = 0; k < POOL_KINDS; k++) {
		pthread_cond_init(&wake[k], NULL);
		struct kind_state *s = &st[k];
		s->bound = cap >= 0 ? cap : kinds[k].queue;
		int workers = kinds[k].workers == -1   ? sandbox_concurrency()
			      : kinds[k].workers == -2 ? setting("DB_WORKERS", 1, 64, 4)
						       : kinds[k].workers;
		s->threads = xcalloc((size_t)workers, sizeof(pthread_t));
		worker_args[k].kind = (pool_kind_t)k;
		for (int i = 0; i < workers; i++) {
			if (pthread_create(&s->threads[i], NULL, worker_main, &worker_args[k]) != 0) {
				log_error("pool %s: cannot start a worker thread", kinds[k].name);
				pool_stop();
				return false;
			}
			s->nthreads++;
		}
	}
	pthread_mutex_lock(&lock);
	running = true;
	pthread_mutex_unlock(&lock);
	return true;
}

void pool_stop(void)
{
	pthread_mutex_lock(&lock);
	running = false;
	stopping = true;
	int cancelled = 0;
	struct pool_job *drop = NULL;
	for (int k = 0; k < POOL_KINDS; k++) {
		struct kind_state *s = &st[k];
		while (s->head) {
			struct pool_job *j = s->head;
			s->head = j->next;
			s->waiting--;
			j->state = JOB_CANCELLED;
			j->next = drop;
			drop = j;
			cancelled++;
		}
		s->tail = NULL;
		pthread_cond_broadcast(&wake[k]);
	}
	pthread_mutex_unlock(&lock);
	for (struct pool_job *j = drop, *next; j; j = next) {
		next = j->next;
		resume(j);
	}
	if (cancelled)
		log_info("pool: %d waiting jobs cancelled", cancelled);
	/* Running work finishes (each kind bounds its own time) and resumes
	 * its connection itself. */
	for (int k = 0; k < POOL_KINDS; k++) {
		struct kind_state *s = &st[k];
		for (int i = 0; i < s->nthreads; i++)
			pthread_join(s->threads[i], NULL);
		free(s->threads);
		s->threads = NULL;
		s->nthreads = 0;
		pthread_cond_destroy(&wake[k]);
	}
}

static int defer(req_t *req, pool_kind_t kind, pool_work_fn work, pool_batch_fn batch, pool_done_fn done,
		 void *ctx)
{
	HWC_ASSERT(kind < POOL_KINDS && !req->job);
	pthread_mutex_lock(&lock);
	bool inline_run = !running || !req->conn;
	/* Room: an idle worker, or a place in the queue. */
	struct kind_state *s = &st[kind];
	bool full = !inline_run && s->waiting >= s->bound + (s->nthreads - s->busy);
	if (!inline_run && !full)
		st[kind].waiting++;
	if (full)
		st[kind].rejected++;
	pthread_mutex_unlock(&lock);
	if (inline_run) {
		if (batch)
			batch(&ctx, 1);
		else
			work(ctx);
		return done(req, ctx);
	}
	if (full) {
		log_info("request %s: pool %s full, answered 503", req->request_id, kinds[kind].name);
		req->retry_after = kinds[kind].retry_after;
		return reply_error(req, ERR_UNAVAILABLE, kinds[kind].busy);
	}
	struct pool_job *j = arena_calloc(req->arena, sizeof(*j));
	*j = (struct pool_job){ .req = req, .conn = req->conn, .kind = kind, .work = work, .batch = batch,
				.done = done, .ctx = ctx, .state = JOB_RESERVED };
	req->job = j;
	return DONE;
}

int pool_defer(req_t *req, pool_kind_t kind, pool_work_fn work, pool_done_fn done, void *ctx)
{
	return defer(req, kind, work, NULL, done, ctx);
}

int pool_defer_batch(req_t *req, pool_kind_t kind, pool_batch_fn batch, pool_done_fn done, void *ctx)
{
	return defer(req, kind, NULL, batch, done, ctx);
}

bool pool_reserved(req_t *req)
{
	return req->job && req->job->state == JOB_RESERVED;
}

void pool_submit(req_t *req)
{
	struct pool_job *j = req->job;
	HWC_ASSERT(j && j->state == JOB_RESERVED);
	pthread_mutex_lock(&lock);
	if (stopping) {
		/* Reserved as the pool stopped: nobody will run it. */
		st[j->kind].waiting--;
		j->state = JOB_CANCELLED;
		pthread_mutex_unlock(&lock);
		resume(j);
		return;
	}
	j->state = JOB_QUEUED;
	if (st[j->kind].tail)
		st[j->kind].tail->next = j;
	else
		st[j->kind].head = j;
	st[j->kind].tail = j;
	pthread_cond_signal(&wake[j->kind]);
	pthread_mutex_unlock(&lock);
}

void pool_abandon(req_t *req)
{
	if (!pool_reserved(req))
		return;
	pthread_mutex_lock(&lock);
	st[req->job->kind].waiting--;
	pthread_mutex_unlock(&lock);
	req->job = NULL; /* in the request's arena */
}

bool pool_waiting(req_t *req)
{
	if (!req->job)
		return false;
	pthread_mutex_lock(&lock);
	bool w = req->job->state != JOB_DONE && req->job->state != JOB_CANCELLED;
	pthread_mutex_unlock(&lock);
	return w;
}

void pool_complete(req_t *req)
{
	struct pool_job *j = req->job;
	req->job = NULL;
	if (j->state == JOB_CANCELLED) {
		req->retry_after = kinds[j->kind].retry_after;
		reply_error(req, ERR_UNAVAILABLE, "The server is shutting down; try again shortly");
		return;
	}
	j->done(req, j->ctx);
}

void pool_metrics_write(strbuf_t *out)
{
	static const struct {
		const char *name, *type, *help;
	} m[] = {
		{ "hwc3d_pool_workers", "gauge", "Worker threads of each kind of slow work." },
		{ "hwc3d_pool_queue_depth", "gauge", "Jobs waiting for a worker." },
		{ "hwc3d_pool_running", "gauge", "Workers running a job (a batch of lookups counts once)." },
		{ "hwc3d_pool_completed_total", "counter", "Jobs run to their end." },
		{ "hwc3d_pool_rejected_total", "counter", "Requests answered 503 because their kind was full." },
		{ "hwc3d_pool_runs_total", "counter", "Runs of work: a batch of lookups counts once." },
	};
	int64_t v[ARRAY_LEN(m)][POOL_KINDS];
	pthread_mutex_lock(&lock);
	for (int k = 0; k < POOL_KINDS; k++) {
		v[0][k] = st[k].nthreads;
		v[1][k] = st[k].waiting;
		v[2][k] = st[k].busy;
		v[3][k] = st[k].completed;
		v[4][k] = st[k].rejected;
		v[5][k] = st[k].runs;
	}
	pthread_mutex_unlock(&lock);
	for (size_t i = 0; i < ARRAY_LEN(m); i++) {
		sb_addf(out, "# HELP %s %s\n# TYPE %s %s\n", m[i].name, m[i].help, m[i].name, m[i].type);
		for (int k = 0; k < POOL_KINDS; k++)
			sb_addf(out, "%s{kind=\"%s\"} %lld\n", m[i].name, kinds[k].name, (long long)v[i][k]);
	}
}
