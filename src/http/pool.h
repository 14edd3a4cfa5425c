/*
 * pool.h: slow work off the poll threads.
 *
 * One poll thread serves many connections, so 75 ms of argon2 or 30 s of
 * model analysis there stalls every one of them.  A handler hands such work
 * to this bounded worker pool instead:
 *
 *     static void work(void *ctx) { ... the slow part, no MHD, no req->db ... }
 *     static int done(req_t *req, void *ctx) { ... return reply_xxx(req, ...); }
 *     return pool_defer(req, POOL_PASSWORD, work, done, ctx);
 *
 * The dispatcher (server.c) then suspends the connection
 * (MHD_suspend_connection), queues the work, and returns to its poll loop;
 * a worker runs work(ctx) and resumes the connection; on the resumed call
 * of the access handler the dispatcher runs done(req, ctx) on the poll
 * thread that owns the connection (so req->db is usable there again) and
 * queues its answer.  done may itself call pool_defer for a next slow step.
 *
 * work runs on a pool thread while the request sleeps: it may use ctx and
 * the request's arena (nothing else touches the request meanwhile), but not
 * MHD, req->db or anything else bound to the poll thread.  POOL_DB work is
 * the exception for req->db: while it runs, req->db is the worker's own
 * connection (db_thread; NULL when the database is unavailable), and the
 * poll thread's comes back before done.  Its results must be released
 * there (db_done, not req_rows).
 *
 * Each kind of work has its own workers and its own queue bound: when a
 * kind already has as many jobs waiting as its bound, pool_defer answers
 * 503 with a Retry-After suited to the kind and runs nothing: never an
 * unbounded wait.  Setting POOL_QUEUE_LIMIT (0..100000, default: the
 * per-kind bounds below) caps the waiting jobs of every kind.
 *
 * Without a running pool (unit tests, fuzz harnesses, requests built
 * without MHD) pool_defer runs work and done at once, on the calling thread.
 */
#ifndef HWC_POOL_H
#define HWC_POOL_H

#include <stdbool.h>
#include "request.h"
#include "../core/strbuf.h"

typedef enum {
	POOL_PASSWORD, /* argon2id hash / verify: ~75-150 ms each */
	POOL_ANALYZE,  /* model analysis in its sandboxed child: up to ANALYZE_TIMEOUT_S */
	POOL_IMAGE,    /* image re-encoding in its child */
	POOL_BLEND,    /* Blender conversion: up to its timeout */
	POOL_NET,      /* outbound HTTP: OAuth providers, S3 transfers */
	POOL_DB,       /* cold reads: a list or search page the cache lacks (its
			* own database connection per worker, db_thread) */
	POOL_LOOKUP,   /* batched lookups by key: one model page the cache lacks,
			* on PostgreSQL (pool_defer_batch; own connections too) */
	POOL_KINDS
} pool_kind_t;

typedef void (*pool_work_fn)(void *ctx);
typedef int (*pool_done_fn)(req_t *req, void *ctx);
/* The work of up to POOL_BATCH_MAX requests at once (pool_defer_batch). */
typedef void (*pool_batch_fn)(void **ctxs, size_t n);

/* The most requests one batch serves. */
#define POOL_BATCH_MAX 64

/* Starts the worker threads; false when they cannot start. */
bool pool_start(void);
/* Cancels the work still waiting (its requests answer 503), waits for the
 * running work to finish, and resumes every suspended connection: call it
 * before MHD_stop_daemon, which must find no suspended connection. */
void pool_stop(void);

/* Defers the slow part of a request (see above).  Returns DONE: either the
 * work is reserved (the dispatcher suspends and runs it) or the 503 has
 * been replied. */
int pool_defer(req_t *req, pool_kind_t kind, pool_work_fn work, pool_done_fn done, void *ctx);

/* pool_defer for work that is cheaper done for many requests at once, such
 * as a lookup by key, where one database round trip for 20 keys costs about
 * what one for a single key does.  A worker that takes such a job also
 * takes every job waiting behind it with the same batch function (up to
 * POOL_BATCH_MAX) and runs batch(ctxs, n) once for them all; then each
 * request's done runs on its own poll thread, as with pool_defer.  Under
 * load the batches grow by themselves while the workers are busy; an idle
 * server runs a batch of one at once.  The same rules hold for the
 * requests' arenas and, on a kind with its own connections, req->db: each
 * request of the batch has the worker's connection while batch runs. */
int pool_defer_batch(req_t *req, pool_kind_t kind, pool_batch_fn batch, pool_done_fn done, void *ctx);

/* Per kind (label kind="password", ...): workers, queue depth (waiting
 * jobs), running jobs, completed and rejected (503) totals, in the
 * Prometheus text format, for /metrics.  Counters count since start. */
void pool_metrics_write(strbuf_t *out);

/* ---- for the dispatcher (server.c) ---- */

/* True when the handler deferred work that is not yet queued. */
bool pool_reserved(req_t *req);
/* Queues the reserved work; call after MHD_suspend_connection. */
void pool_submit(req_t *req);
/* True while the request waits for its work (suspended). */
bool pool_waiting(req_t *req);
/* On the resumed call: runs done (or answers 503 for cancelled work). */
void pool_complete(req_t *req);
/* For a request that ends unanswered (the client went away): drops the
 * work it reserved and did not submit. */
void pool_abandon(req_t *req);

#endif
