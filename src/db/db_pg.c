/* db_pg.c: the PostgreSQL engine (libpq, named prepared statements, text format). */
#include <libpq-fe.h>
#include "db_internal.h"
#include "../core/log.h"
#include "../core/util.h"

struct pg_db {
	struct db base;
	PGconn *conn;
	struct stmt_cache cache; /* sql -> malloc'd statement name */
	unsigned next_name;
};

struct pg_rows {
	struct db_rows base;
	PGresult *res;
	int row, nrows;
};

static void pg_error(struct pg_db *d, const PGresult *res)
{
	const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	enum db_err e = DB_ERR_OTHER;
	/* 57P01-03: the server shuts down or is not accepting connections yet
	 * (a restart under way). */
	if (PQstatus(d->conn) != CONNECTION_OK || (state && !strncmp(state, "57P0", 4)))
		e = DB_ERR_CONN;
	else if (state && !strncmp(state, "53", 2)) /* disk full, out of memory, too many connections */
		e = DB_ERR_FULL;
	else if (state && !strcmp(state, "23505"))
		e = DB_ERR_UNIQUE;
	else if (state && !strcmp(state, "23503"))
		e = DB_ERR_FOREIGN_KEY;
	else if (state && (!strcmp(state, "40001") || !strcmp(state, "40P01") || !strcmp(state, "55P03")))
		e = DB_ERR_BUSY;
	const char *msg = res ? PQresultErrorMessage(res) : PQerrorMessage(d->conn);
	char buf[512];
	snprintf(buf, sizeof(buf), "%s", msg && *msg ? msg : PQerrorMessage(d->conn));
	size_t n = strlen(buf);
	while (n && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = '\0';
	db_set_error(&d->base, e, buf);
}

static void quiet_notice(void *arg, const char *msg)
{
	UNUSED(arg);
	log_debug("postgresql: %s", msg);
}

static db_t *pg_open(void)
{
	struct pg_db *d = xcalloc(1, sizeof(*d));
	d->base.eng = &db_pg_engine;
	d->base.kind = DB_PG;
	d->conn = PQconnectdb(cfg.pg_conninfo);
	if (PQstatus(d->conn) != CONNECTION_OK) {
		char msg[512];
		snprintf(msg, sizeof(msg), "%s", PQerrorMessage(d->conn));
		size_t n = strlen(msg);
		while (n && msg[n - 1] == '\n')
			msg[--n] = '\0';
		log_error("cannot connect to PostgreSQL: %s", msg);
		PQfinish(d->conn);
		free(d);
		return NULL;
	}
	PQsetNoticeProcessor(d->conn, quiet_notice, NULL);
	PGresult *res = PQexec(d->conn, "SET TIME ZONE 'UTC'");
	PQclear(res);
	return &d->base;
}

static void pg_close(db_t *db)
{
	struct pg_db *d = (struct pg_db *)db;
	stmt_cache_free(&d->cache, free);
	PQfinish(d->conn);
	free(d);
}

/* Text-format parameter values; numbers are written into scratch. */
static void params_text(const db_param_t *p, int n, const char **vals, char (*scratch)[32])
{
	for (int i = 0; i < n; i++) {
		switch (p[i].type) {
		case DBP_INT:
			snprintf(scratch[i], 32, "%lld", (long long)p[i].i);
			vals[i] = scratch[i];
			break;
		case DBP_BOOL:
			vals[i] = p[i].i ? "t" : "f";
			break;
		case DBP_DOUBLE:
			snprintf(scratch[i], 32, "%.17g", p[i].d);
			vals[i] = scratch[i];
			break;
		case DBP_TEXT:
			vals[i] = p[i].s;
			break;
		default:
			vals[i] = NULL;
			break;
		}
	}
}

/* A page of PAGE_MAX_LIMIT ids (models_by_ids, models_mark_mine) and a few more. */
#define PG_MAX_PARAMS 128

static PGresult *run(struct pg_db *d, const char *sql, const db_param_t *params, int n)
{
	if (n > PG_MAX_PARAMS) {
		db_set_error(&d->base, DB_ERR_OTHER, "too many parameters");
		return NULL;
	}
	uint64_t h = db_hash(sql);
	const char *name = stmt_cache_get(&d->cache, sql, h);
	char tmpname[32];
	if (!name) {
		snprintf(tmpname, sizeof(tmpname), "s%u", d->next_name++);
		PGresult *pr = PQprepare(d->conn, tmpname, sql, 0, NULL);
		if (PQresultStatus(pr) != PGRES_COMMAND_OK) {
			pg_error(d, pr);
			PQclear(pr);
			return NULL;
		}
		PQclear(pr);
		char *owned = xstrdup(tmpname);
		if (stmt_cache_put(&d->cache, sql, h, owned)) {
			name = owned;
		} else {
			free(owned);
			name = tmpname; /* cache full: run it, then deallocate */
		}
	}
	const char *vals[PG_MAX_PARAMS];
	char scratch[PG_MAX_PARAMS][32];
	params_text(params, n, vals, scratch);
	PGresult *res = PQexecPrepared(d->conn, name, n, vals, NULL, NULL, 0);
	if (name == tmpname) {
		char dealloc[64];
		snprintf(dealloc, sizeof(dealloc), "DEALLOCATE %s", tmpname);
		PQclear(PQexec(d->conn, dealloc));
	}
	ExecStatusType st = PQresultStatus(res);
	if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
		pg_error(d, res);
		PQclear(res);
		return NULL;
	}
	return res;
}

static db_rows_t *pg_query(db_t *db, const char *sql, const db_param_t *params, int n)
{
	struct pg_db *d = (struct pg_db *)db;
	PGresult *res = run(d, sql, params, n);
	if (!res)
		return NULL;
	struct pg_rows *r = xcalloc(1, sizeof(*r));
	r->base.db = db;
	r->res = res;
	r->row = -1;
	r->nrows = PQntuples(res);
	return &r->base;
}

static bool pg_next(db_rows_t *rows)
{
	struct pg_rows *r = (struct pg_rows *)rows;
	if (r->row + 1 >= r->nrows) {
		r->row = r->nrows;
		return false;
	}
	r->row++;
	return true;
}

static void pg_done(db_rows_t *rows)
{
	struct pg_rows *r = (struct pg_rows *)rows;
	PQclear(r->res);
}

static int pg_ncols(const db_rows_t *rows)
{
	return PQnfields(((const struct pg_rows *)rows)->res);
}

static bool pg_isnull(const db_rows_t *rows, int col)
{
	const struct pg_rows *r = (const struct pg_rows *)rows;
	return PQgetisnull(r->res, r->row, col);
}

static const char *pg_text(const db_rows_t *rows, int col)
{
	const struct pg_rows *r = (const struct pg_rows *)rows;
	if (r->row < 0 || r->row >= r->nrows || col >= PQnfields(r->res) || PQgetisnull(r->res, r->row, col))
		return NULL;
	return PQgetvalue(r->res, r->row, col);
}

static int64_t pg_int(const db_rows_t *rows, int col)
{
	const char *t = pg_text(rows, col);
	if (!t)
		return 0;
	if (t[0] == 't')
		return 1;
	if (t[0] == 'f')
		return 0;
	return strtoll(t, NULL, 10);
}

static const char *pg_colname(const db_rows_t *rows, int col)
{
	return PQfname(((const struct pg_rows *)rows)->res, col);
}

static int64_t pg_exec(db_t *db, const char *sql, const db_param_t *params, int n)
{
	struct pg_db *d = (struct pg_db *)db;
	PGresult *res = run(d, sql, params, n);
	if (!res)
		return -1;
	const char *t = PQcmdTuples(res);
	int64_t changed = t && *t ? strtoll(t, NULL, 10) : 0;
	PQclear(res);
	return changed;
}

static int pg_script(db_t *db, const char *sql)
{
	struct pg_db *d = (struct pg_db *)db;
	PGresult *res = PQexec(d->conn, sql);
	ExecStatusType st = PQresultStatus(res);
	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK && st != PGRES_EMPTY_QUERY) {
		pg_error(d, res);
		PQclear(res);
		return -1;
	}
	PQclear(res);
	return 0;
}

const struct db_engine db_pg_engine = {
	.open = pg_open,
	.close = pg_close,
	.query = pg_query,
	.next = pg_next,
	.done = pg_done,
	.ncols = pg_ncols,
	.isnull = pg_isnull,
	.text = pg_text,
	.integer = pg_int,
	.colname = pg_colname,
	.exec = pg_exec,
	.script = pg_script,
};
