/* db_sqlite.c: the SQLite engine (WAL, busy timeout, foreign keys). */
#include <sqlite3.h>
#include <time.h>
#include "db_internal.h"
#include "fts_tier.h"
#include "../core/log.h"
#include "../core/util.h"

struct sq_rows;

struct sq_db {
	struct db base;
	sqlite3 *h;
	struct stmt_cache cache;
	struct sq_rows *open; /* row sets not done yet (finish_reads) */
};

/* A row copied out of its statement, so the statement can be let go. */
struct sq_row_copy {
	int ncols;
	char **text;   /* NULL for SQL NULL */
	int64_t *integer;
	char **name;
};

struct sq_rows {
	struct db_rows base;
	sqlite3_stmt *st; /* NULL once let go (finish_reads) */
	bool owned;   /* not in the cache: finalize when done */
	int pending;  /* result of a step taken ahead, for the next db_next */
	struct sq_row_copy *copy; /* when set, the current row */
	bool copy_unread;         /* db_next has yet to move onto the copy */
	struct sq_rows *prev, *next; /* the connection's open row sets */
};

static void sq_error(struct sq_db *d)
{
	int ext = sqlite3_extended_errcode(d->h);
	enum db_err e = DB_ERR_OTHER;
	switch (ext) {
	case SQLITE_CONSTRAINT_UNIQUE:
	case SQLITE_CONSTRAINT_PRIMARYKEY:
		e = DB_ERR_UNIQUE;
		break;
	case SQLITE_CONSTRAINT_FOREIGNKEY:
		e = DB_ERR_FOREIGN_KEY;
		break;
	default:
		if ((ext & 0xff) == SQLITE_BUSY || (ext & 0xff) == SQLITE_LOCKED)
			e = DB_ERR_BUSY;
		else if ((ext & 0xff) == SQLITE_FULL || ext == SQLITE_IOERR_WRITE || ext == SQLITE_IOERR_FSYNC)
			e = DB_ERR_FULL;
		break;
	}
	db_set_error(&d->base, e, sqlite3_errmsg(d->h));
}

static void finalize(void *st)
{
	sqlite3_finalize(st);
}

/*
 * Waiting for the write lock: SQLite's own busy handler sleeps in steps
 * that grow to 100 ms, and a poll thread asleep there holds up every
 * connection it serves long after the lock is free.  This one polls
 * every 0.25-2 ms, for up to 5 s in all (then SQLITE_BUSY, a 503).
 */
#define BUSY_TIMEOUT_US 5000000

static int on_busy(void *ctx, int tries)
{
	(void)ctx;
	static const int steps_us[] = { 250, 250, 500, 500, 1000, 1000, 2000 };
	int n = (int)ARRAY_LEN(steps_us);
	int64_t waited = 0;
	for (int i = 0; i < tries && i < n; i++)
		waited += steps_us[i];
	if (tries > n)
		waited += (int64_t)(tries - n) * steps_us[n - 1];
	if (waited >= BUSY_TIMEOUT_US)
		return 0;
	struct timespec ts = { 0, (long)steps_us[tries < n ? tries : n - 1] * 1000L };
	nanosleep(&ts, NULL);
	return 1;
}

static db_t *sq_open(void)
{
	struct sq_db *d = xcalloc(1, sizeof(*d));
	d->base.eng = &db_sqlite_engine;
	d->base.kind = DB_SQLITE;
	int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
	if (sqlite3_open_v2(cfg.sqlite_path, &d->h, flags, NULL) != SQLITE_OK) {
		log_error("cannot open SQLite database %s: %s", cfg.sqlite_path,
			  d->h ? sqlite3_errmsg(d->h) : "out of memory");
		sqlite3_close(d->h);
		free(d);
		return NULL;
	}
	sqlite3_extended_result_codes(d->h, 1);
	sqlite3_busy_handler(d->h, on_busy, NULL);
	char *err = NULL;
	/* Reads go through each connection's page cache (SQLITE_CACHE_MB, 16
	 * MB: 4 MB measured 40 list pages/s on 50,000 models), not a memory
	 * map by default (SQLITE_MMAP_MB=0).  With a 256 MB map, reads on the
	 * poll threads stalled while sign-ins and analyses ran beside them:
	 * uncached GET /api/categories p99 78-107 ms in the server, against
	 * 0.5-0.7 ms without it (test_pool, release build); the random read
	 * mix of `make bench` lost 10% (11,534 to 10,435 req/s) and the
	 * server's resident memory dropped from 570 to 322 MB. */
	char setup[256];
	snprintf(setup, sizeof(setup),
		 "PRAGMA journal_mode=WAL;"
		 "PRAGMA synchronous=NORMAL;"
		 "PRAGMA foreign_keys=ON;"
		 "PRAGMA temp_store=MEMORY;"
		 "PRAGMA cache_size=-%lld;"
		 "PRAGMA mmap_size=%lld;",
		 (long long)cfg.sqlite_cache_mb * 1024, (long long)cfg.sqlite_mmap_mb << 20);
	if (sqlite3_exec(d->h, setup, NULL, NULL, &err) != SQLITE_OK) {
		log_error("cannot set up SQLite database %s: %s", cfg.sqlite_path, err ? err : "?");
		sqlite3_free(err);
		sqlite3_close(d->h);
		free(d);
		return NULL;
	}
	if (!fts_tier_register(d->h)) {
		log_error("cannot set up SQLite database %s: no FTS5 (the search needs it)", cfg.sqlite_path);
		sqlite3_close(d->h);
		free(d);
		return NULL;
	}
	return &d->base;
}

static void sq_close(db_t *db)
{
	struct sq_db *d = (struct sq_db *)db;
	stmt_cache_free(&d->cache, finalize);
	sqlite3_close(d->h);
	free(d);
}

/* A prepared statement for sql, from the cache when it is free to use. */
static sqlite3_stmt *prepare(struct sq_db *d, const char *sql, bool *owned)
{
	uint64_t h = db_hash(sql);
	sqlite3_stmt *st = stmt_cache_get(&d->cache, sql, h);
	*owned = false;
	if (st && !sqlite3_stmt_busy(st))
		return st;
	bool cached_busy = st != NULL;
	char *text = db_sql_for_sqlite(sql);
	st = NULL;
	int rc = sqlite3_prepare_v3(d->h, text, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL);
	free(text);
	if (rc != SQLITE_OK) {
		sq_error(d);
		return NULL;
	}
	if (cached_busy || !stmt_cache_put(&d->cache, sql, h, st))
		*owned = true;
	return st;
}

static bool bind(struct sq_db *d, sqlite3_stmt *st, const db_param_t *p, int n)
{
	for (int i = 0; i < n; i++) {
		int rc;
		switch (p[i].type) {
		case DBP_INT:
		case DBP_BOOL:
			rc = sqlite3_bind_int64(st, i + 1, p[i].i);
			break;
		case DBP_DOUBLE:
			rc = sqlite3_bind_double(st, i + 1, p[i].d);
			break;
		case DBP_TEXT:
			rc = sqlite3_bind_text(st, i + 1, p[i].s, -1, SQLITE_STATIC);
			break;
		default:
			rc = sqlite3_bind_null(st, i + 1);
			break;
		}
		if (rc != SQLITE_OK) {
			sq_error(d);
			return false;
		}
	}
	return true;
}

static void release_stmt(sqlite3_stmt *st, bool owned)
{
	if (owned) {
		sqlite3_finalize(st);
	} else {
		sqlite3_reset(st);
		sqlite3_clear_bindings(st);
	}
}

static struct sq_row_copy *copy_row(sqlite3_stmt *st)
{
	int n = sqlite3_column_count(st);
	struct sq_row_copy *c = xcalloc(1, sizeof(*c));
	c->ncols = n;
	c->text = xcalloc((size_t)n + 1, sizeof(*c->text));
	c->integer = xcalloc((size_t)n + 1, sizeof(*c->integer));
	c->name = xcalloc((size_t)n + 1, sizeof(*c->name));
	for (int i = 0; i < n; i++) {
		if (sqlite3_column_type(st, i) != SQLITE_NULL) {
			const char *t = (const char *)sqlite3_column_text(st, i);
			size_t len = (size_t)sqlite3_column_bytes(st, i);
			c->text[i] = xmalloc(len + 1);
			if (len)
				memcpy(c->text[i], t, len);
			c->text[i][len] = '\0';
		}
		c->integer[i] = sqlite3_column_int64(st, i); /* SQLite's own conversion of any value */
		c->name[i] = xstrdup(sqlite3_column_name(st, i));
	}
	return c;
}

static void free_copy(struct sq_row_copy *c)
{
	if (!c)
		return;
	for (int i = 0; i < c->ncols; i++) {
		free(c->text[i]);
		free(c->name[i]);
	}
	free(c->text);
	free(c->integer);
	free(c->name);
	free(c);
}

/*
 * A read still on a row holds a WAL snapshot for the whole connection (a
 * statement stepped but not to its end stays busy).  A write outside a
 * transaction from that snapshot fails once another connection has
 * committed since (SQLITE_BUSY_SNAPSHOT, which no busy handler waits out):
 * the typical case is a lookup (one db_next) kept open across an insert.
 * So before such a write, each open read is finished for its caller: its
 * current row is copied, and a step past it that reaches the end lets the
 * statement go, the snapshot with it.  What db_next and the accessors then
 * answer is unchanged.
 */
static void finish_reads(struct sq_db *d)
{
	for (struct sq_rows *r = d->open; r; r = r->next) {
		if (!r->st || r->copy || !sqlite3_stmt_busy(r->st) || r->pending == SQLITE_DONE)
			continue;
		r->copy = copy_row(r->st);
		r->copy_unread = r->pending == SQLITE_ROW;
		int rc = sqlite3_step(r->st);
		if (rc == SQLITE_ROW) {
			r->pending = SQLITE_ROW; /* more rows: the statement stays */
			continue;
		}
		if (rc != SQLITE_DONE)
			r->base.failed = true;
		r->pending = SQLITE_DONE;
		release_stmt(r->st, r->owned);
		r->st = NULL;
	}
}

/*
 * A write that would start from an open read's snapshot even after
 * finish_reads (the read has rows left): logged on every run, so a test
 * that goes through such a path fails on the log line even when no other
 * writer came in between.  The caller must read to the end, or db_done
 * first, or hold a transaction.
 */
static void check_no_open_read(struct sq_db *d, sqlite3_stmt *st, const char *sql)
{
	if (sqlite3_stmt_readonly(st) || !sqlite3_get_autocommit(d->h))
		return;
	finish_reads(d);
	for (struct sq_rows *r = d->open; r; r = r->next) {
		if (r->st && sqlite3_stmt_busy(r->st)) {
			log_error("db: a write while a read is open on the connection (read: %.120s; write: %.120s)",
				  sqlite3_sql(r->st), sql);
			return;
		}
	}
}

static db_rows_t *sq_query(db_t *db, const char *sql, const db_param_t *params, int n)
{
	struct sq_db *d = (struct sq_db *)db;
	bool owned;
	sqlite3_stmt *st = prepare(d, sql, &owned);
	if (!st)
		return NULL;
	check_no_open_read(d, st, sql);
	if (!bind(d, st, params, n)) {
		release_stmt(st, owned);
		return NULL;
	}
	/* Step once now so that errors (constraints, busy) show up here. */
	int rc = sqlite3_step(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		sq_error(d);
		release_stmt(st, owned);
		return NULL;
	}
	struct sq_rows *r = xcalloc(1, sizeof(*r));
	r->base.db = db;
	r->st = st;
	r->owned = owned;
	r->pending = rc;
	r->next = d->open;
	if (d->open)
		d->open->prev = r;
	d->open = r;
	return &r->base;
}

static bool sq_next(db_rows_t *rows)
{
	struct sq_rows *r = (struct sq_rows *)rows;
	if (r->copy_unread) {
		r->copy_unread = false;
		return true;
	}
	if (r->copy) {
		free_copy(r->copy);
		r->copy = NULL;
	}
	if (!r->st)
		return false; /* let go at its end (finish_reads) */
	int rc = r->pending;
	if (rc)
		r->pending = 0;
	else
		rc = sqlite3_step(r->st);
	if (rc == SQLITE_ROW)
		return true;
	if (rc != SQLITE_DONE) {
		sq_error((struct sq_db *)rows->db);
		rows->failed = true;
	}
	r->pending = SQLITE_DONE; /* stay at the end */
	return false;
}

static void sq_done(db_rows_t *rows)
{
	struct sq_rows *r = (struct sq_rows *)rows;
	struct sq_db *d = (struct sq_db *)rows->db;
	if (r->prev)
		r->prev->next = r->next;
	else
		d->open = r->next;
	if (r->next)
		r->next->prev = r->prev;
	r->prev = r->next = NULL;
	free_copy(r->copy);
	r->copy = NULL;
	if (r->st)
		release_stmt(r->st, r->owned);
	r->st = NULL;
}

static int sq_ncols(const db_rows_t *rows)
{
	const struct sq_rows *r = (const struct sq_rows *)rows;
	return r->copy ? r->copy->ncols : r->st ? sqlite3_column_count(r->st) : 0;
}

/* The copy answers for a column in range; out of range, as SQLite does. */
static bool sq_isnull(const db_rows_t *rows, int col)
{
	const struct sq_rows *r = (const struct sq_rows *)rows;
	if (r->copy)
		return col < 0 || col >= r->copy->ncols || !r->copy->text[col];
	return !r->st || sqlite3_column_type(r->st, col) == SQLITE_NULL;
}

static const char *sq_text(const db_rows_t *rows, int col)
{
	const struct sq_rows *r = (const struct sq_rows *)rows;
	if (r->copy)
		return col >= 0 && col < r->copy->ncols ? r->copy->text[col] : NULL;
	return r->st ? (const char *)sqlite3_column_text(r->st, col) : NULL;
}

static int64_t sq_int(const db_rows_t *rows, int col)
{
	const struct sq_rows *r = (const struct sq_rows *)rows;
	if (r->copy)
		return col >= 0 && col < r->copy->ncols ? r->copy->integer[col] : 0;
	return r->st ? sqlite3_column_int64(r->st, col) : 0;
}

static const char *sq_colname(const db_rows_t *rows, int col)
{
	const struct sq_rows *r = (const struct sq_rows *)rows;
	if (r->copy)
		return col >= 0 && col < r->copy->ncols ? r->copy->name[col] : NULL;
	return r->st ? sqlite3_column_name(r->st, col) : NULL;
}

static int64_t sq_exec(db_t *db, const char *sql, const db_param_t *params, int n)
{
	struct sq_db *d = (struct sq_db *)db;
	db_rows_t *r = sq_query(db, sql, params, n);
	if (!r)
		return -1;
	while (sq_next(r))
		;
	bool failed = r->failed;
	sq_done(r);
	free(r);
	return failed ? -1 : sqlite3_changes64(d->h);
}

static int sq_script(db_t *db, const char *sql)
{
	struct sq_db *d = (struct sq_db *)db;
	char *err = NULL;
	if (sqlite3_get_autocommit(d->h))
		finish_reads(d); /* BEGIN IMMEDIATE takes the write lock from the open snapshot */
	if (sqlite3_exec(d->h, sql, NULL, NULL, &err) != SQLITE_OK) {
		sq_error(d);
		sqlite3_free(err);
		return -1;
	}
	return 0;
}

const struct db_engine db_sqlite_engine = {
	.open = sq_open,
	.close = sq_close,
	.query = sq_query,
	.next = sq_next,
	.done = sq_done,
	.ncols = sq_ncols,
	.isnull = sq_isnull,
	.text = sq_text,
	.integer = sq_int,
	.colname = sq_colname,
	.exec = sq_exec,
	.script = sq_script,
};
