#include <pthread.h>
#include "db_internal.h"
#include "../core/log.h"
#include "../core/strbuf.h"
#include "../core/util.h"

static const struct db_engine *engine(void)
{
	return cfg.db_kind == DB_PG ? &db_pg_engine : &db_sqlite_engine;
}

db_t *db_open(void)
{
	return engine()->open();
}

void db_close(db_t *db)
{
	if (db)
		db->eng->close(db);
}

static pthread_key_t thread_key;
static pthread_once_t key_once = PTHREAD_ONCE_INIT;

static void thread_db_destroy(void *p)
{
	db_close(p);
}

static void make_key(void)
{
	pthread_key_create(&thread_key, thread_db_destroy);
}

db_t *db_thread(void)
{
	pthread_once(&key_once, make_key);
	db_t *db = pthread_getspecific(thread_key);
	if (db && db->err == DB_ERR_CONN) {
		/* The last use lost the connection: start over with a new one. */
		db_close(db);
		db = NULL;
	}
	if (!db) {
		db = db_open();
		pthread_setspecific(thread_key, db);
	}
	return db;
}

void db_thread_release(void)
{
	pthread_once(&key_once, make_key);
	db_t *db = pthread_getspecific(thread_key);
	if (db) {
		pthread_setspecific(thread_key, NULL);
		db_close(db);
	}
}

enum db_kind db_kind(const db_t *db)
{
	return db->kind;
}

void db_set_error(db_t *db, enum db_err err, const char *msg)
{
	db->err = err;
	snprintf(db->errmsg, sizeof(db->errmsg), "%s", msg ? msg : "");
	/* Constraint violations are expected outcomes the caller maps to 409. */
	if (err != DB_OK && err != DB_ERR_UNIQUE && err != DB_ERR_FOREIGN_KEY)
		log_error("database: %s", db->errmsg);
}

db_rows_t *db_query(db_t *db, const char *sql, const db_param_t *params, int n)
{
	db->err = DB_OK;
	return db->eng->query(db, sql, params, n);
}

bool db_next(db_rows_t *r)
{
	return !r->closed && r->db->eng->next(r);
}

void db_done(db_rows_t *r)
{
	if (!r || r->closed)
		return;
	r->closed = true;
	r->db->eng->done(r);
	if (!r->kept)
		free(r);
}

void db_keep(db_rows_t *r)
{
	r->kept = true;
}

void db_free_kept(db_rows_t *r)
{
	if (!r)
		return;
	r->kept = false;
	if (r->closed)
		free(r);
	else
		db_done(r);
}

int db_ncols(const db_rows_t *r)
{
	return r->db->eng->ncols(r);
}

bool db_isnull(const db_rows_t *r, int col)
{
	return r->db->eng->isnull(r, col);
}

const char *db_text(const db_rows_t *r, int col)
{
	return r->db->eng->text(r, col);
}

const char *db_colname(const db_rows_t *r, int col)
{
	return r->db->eng->colname(r, col);
}

int64_t db_int(const db_rows_t *r, int col)
{
	return r->db->eng->integer(r, col);
}

double db_double(const db_rows_t *r, int col)
{
	const char *t = db_text(r, col);
	return t ? strtod(t, NULL) : 0.0;
}

bool db_bool(const db_rows_t *r, int col)
{
	const char *t = db_text(r, col);
	return t && (t[0] == '1' || t[0] == 't' || t[0] == 'T');
}

bool db_failed(const db_rows_t *r)
{
	return r->failed;
}

int64_t db_exec(db_t *db, const char *sql, const db_param_t *params, int n)
{
	db->err = DB_OK;
	return db->eng->exec(db, sql, params, n);
}

int db_scalar(db_t *db, const char *sql, const db_param_t *params, int n, int64_t *out)
{
	db_rows_t *r = db_query(db, sql, params, n);
	if (!r)
		return -1;
	int rc = 0;
	if (db_next(r)) {
		*out = db_isnull(r, 0) ? 0 : db_int(r, 0);
		rc = 1;
	} else if (db_failed(r)) {
		rc = -1;
	}
	db_done(r);
	return rc;
}

int db_exec_script(db_t *db, const char *sql)
{
	db->err = DB_OK;
	return db->eng->script(db, sql);
}

bool db_begin(db_t *db)
{
	/* BEGIN IMMEDIATE takes SQLite's write lock up front, so two writers
	 * wait on the busy timeout instead of failing on upgrade. */
	const char *sql = db->kind == DB_SQLITE ? "BEGIN IMMEDIATE" : "BEGIN";
	db->in_tx = db_exec_script(db, sql) == 0;
	return db->in_tx;
}

bool db_commit(db_t *db)
{
	bool ok = db_exec_script(db, "COMMIT") == 0;
	if (ok)
		db->in_tx = false;
	return ok;
}

bool db_in_transaction(const db_t *db)
{
	return db->in_tx;
}

void db_rollback(db_t *db)
{
	enum db_err keep = db->err;
	char msg[sizeof(db->errmsg)];
	memcpy(msg, db->errmsg, sizeof(msg));
	db_exec_script(db, "ROLLBACK");
	db->in_tx = false;
	db->err = keep;
	memcpy(db->errmsg, msg, sizeof(msg));
}

enum db_err db_error(const db_t *db)
{
	return db->err;
}

const char *db_errmsg(const db_t *db)
{
	return db->errmsg;
}

bool db_ping(db_t *db)
{
	int64_t one = 0;
	return DBS0(db, &one, "SELECT 1") == 1 && one == 1;
}

char *db_sql_for_sqlite(const char *sql)
{
	size_t n = strlen(sql);
	char *out = xmalloc(n + 1);
	char quote = 0;
	size_t j = 0;
	for (size_t i = 0; i < n; i++) {
		char c = sql[i];
		if (quote) {
			if (c == quote)
				quote = 0;
		} else if (c == '\'' || c == '"') {
			quote = c;
		} else if (c == '$' && i + 1 < n && sql[i + 1] >= '1' && sql[i + 1] <= '9') {
			c = '?';
		}
		out[j++] = c;
	}
	out[j] = '\0';
	return out;
}

uint64_t db_hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL;
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ULL;
	}
	return h ? h : 1;
}

#define CACHE_MAX 512

void *stmt_cache_get(struct stmt_cache *c, const char *sql, uint64_t h)
{
	if (!c->cap)
		return NULL;
	for (size_t i = h & (c->cap - 1);; i = (i + 1) & (c->cap - 1)) {
		struct stmt_cache_entry *e = &c->slots[i];
		if (!e->sql)
			return NULL;
		if (e->hash == h && !strcmp(e->sql, sql))
			return e->stmt;
	}
}

bool stmt_cache_put(struct stmt_cache *c, const char *sql, uint64_t h, void *stmt)
{
	if (c->len >= CACHE_MAX)
		return false;
	if (!c->cap) {
		c->cap = 2 * CACHE_MAX;
		c->slots = xcalloc(c->cap, sizeof(*c->slots));
	}
	size_t i = h & (c->cap - 1);
	while (c->slots[i].sql)
		i = (i + 1) & (c->cap - 1);
	c->slots[i].sql = xstrdup(sql);
	c->slots[i].hash = h;
	c->slots[i].stmt = stmt;
	c->len++;
	return true;
}

void stmt_cache_free(struct stmt_cache *c, void (*release)(void *))
{
	for (size_t i = 0; i < c->cap; i++) {
		if (c->slots[i].sql) {
			if (release)
				release(c->slots[i].stmt);
			free(c->slots[i].sql);
		}
	}
	free(c->slots);
	c->slots = NULL;
	c->cap = c->len = 0;
}
