/*
 * db.h: one thin layer over SQLite and PostgreSQL.
 *
 * SQL is written once with $1, $2 ... placeholders and bound parameters only
 * (never formatted into the text).  Statements are prepared on first use and
 * cached per connection, keyed by their text.
 *
 * Connections are not thread safe: each thread gets its own from
 * db_thread(), opened lazily and closed when the thread ends.  Rows returned
 * by db_query() borrow the connection until db_done(); text returned by
 * db_text() lives until the next db_next() or db_done().
 *
 * Portable SQL conventions: timestamps are BIGINT milliseconds, money BIGINT
 * cents, booleans TRUE/FALSE (INTEGER 0/1 in SQLite, BOOLEAN in PostgreSQL;
 * bind them with P_BOOL and read them with db_bool).  Dialect differences
 * live in the migrations and in the few queries that test db_kind().
 */
#ifndef HWC_DB_H
#define HWC_DB_H

#include <stdbool.h>
#include <stdint.h>
#include "../core/config.h"

typedef struct db db_t;
typedef struct db_rows db_rows_t;

enum db_ptype { DBP_NULL, DBP_INT, DBP_TEXT, DBP_BOOL, DBP_DOUBLE };

typedef struct db_param {
	enum db_ptype type;
	int64_t i;
	double d;
	const char *s;
} db_param_t;

static inline db_param_t p_text_(const char *s)
{
	return (db_param_t){ .type = s ? DBP_TEXT : DBP_NULL, .s = s };
}

#define P_INT(x) ((db_param_t){ .type = DBP_INT, .i = (int64_t)(x) })
#define P_TEXT(x) p_text_(x)
#define P_BOOL(x) ((db_param_t){ .type = DBP_BOOL, .i = (x) ? 1 : 0 })
#define P_DOUBLE(x) ((db_param_t){ .type = DBP_DOUBLE, .d = (x) })
#define P_NULL ((db_param_t){ .type = DBP_NULL })

/* What went wrong, for the cases a handler turns into a status code. */
enum db_err {
	DB_OK = 0,
	DB_ERR_UNIQUE,      /* unique or primary key violation: 409 */
	DB_ERR_FOREIGN_KEY, /* referenced row missing or still referenced: 409/422 */
	DB_ERR_BUSY,        /* lock timeout, serialization failure: retry or 503 */
	DB_ERR_CONN,        /* connection lost or cannot connect */
	DB_ERR_FULL,        /* no room: disk full (SQLite), insufficient resources (PostgreSQL): 503 */
	DB_ERR_OTHER,
};

/* Opens a connection for the configured engine; NULL on failure (logged). */
db_t *db_open(void);
void db_close(db_t *db);
/* This thread's connection, opened on first use; NULL if it cannot be. */
db_t *db_thread(void);
/* Closes this thread's connection (threads that end call it themselves;
 * a pthread key destructor also does it). */
void db_thread_release(void);

enum db_kind db_kind(const db_t *db);

/* Runs a query; NULL on error (logged, see db_error).  Iterate with
 * db_next() and always finish with db_done(), or let the request own the
 * rows (req_rows/RQ in request.h). */
db_rows_t *db_query(db_t *db, const char *sql, const db_param_t *params, int n);
/* False at the end, on an error (db_failed) and after db_done. */
bool db_next(db_rows_t *r);
/* Releases the statement; a second call does nothing.  Frees the handle
 * unless it is kept.
 *
 * When to call it early on rows a request owns: on SQLite a statement that
 * was stepped but not read to the end stays busy (sqlite3_stmt_busy): it
 * holds a read transaction on this thread's connection, which every other
 * request of the same poll thread shares, so their reads see its snapshot
 * and their writes can fail with SQLITE_BUSY_SNAPSHOT; the statement cache
 * meanwhile prepares a fresh copy for the same SQL (db_sqlite.c prepare()).
 * Before a write or a BEGIN outside a transaction, the SQLite engine
 * finishes such reads itself when their current row is their last (it
 * copies the row, and db_next and the accessors answer as before); a read
 * with rows left still pins the snapshot, and is logged as an error.  Rows
 * read to the end hold nothing on SQLite, and PostgreSQL's are plain
 * memory. */
void db_done(db_rows_t *r);
/* For an owner that outlives the rows' use (the request): after db_keep,
 * db_done still releases the statement but the handle stays valid (db_next
 * answers false) until db_free_kept, which also runs db_done if need be. */
void db_keep(db_rows_t *r);
void db_free_kept(db_rows_t *r);
int db_ncols(const db_rows_t *r);
bool db_isnull(const db_rows_t *r, int col);
int64_t db_int(const db_rows_t *r, int col);
double db_double(const db_rows_t *r, int col);
bool db_bool(const db_rows_t *r, int col);
/* NULL for SQL NULL. */
const char *db_text(const db_rows_t *r, int col);
const char *db_colname(const db_rows_t *r, int col);
/* True when the query failed while stepping (SQLite reports some errors
 * only then); db_next() returned false. */
bool db_failed(const db_rows_t *r);

/* Runs a statement; returns the number of rows changed, or -1 on error. */
int64_t db_exec(db_t *db, const char *sql, const db_param_t *params, int n);
/* Runs a query expected to return one integer (e.g. RETURNING id, COUNT);
 * returns 1 with *out set, 0 when there was no row, -1 on error. */
int db_scalar(db_t *db, const char *sql, const db_param_t *params, int n, int64_t *out);

/* Runs several statements with no parameters (migrations, setup). */
int db_exec_script(db_t *db, const char *sql);

bool db_begin(db_t *db);
bool db_commit(db_t *db);
void db_rollback(db_t *db);
bool db_in_transaction(const db_t *db);

enum db_err db_error(const db_t *db);
const char *db_errmsg(const db_t *db);
bool db_ping(db_t *db);

/* Convenience: the parameter array and its length from a list. */
#define DB_PARAMS(...) ((db_param_t[]){ __VA_ARGS__ }), \
	(int)(sizeof((db_param_t[]){ __VA_ARGS__ }) / sizeof(db_param_t))
#define DBQ(db, sql, ...) db_query((db), (sql), DB_PARAMS(__VA_ARGS__))
#define DBQ0(db, sql) db_query((db), (sql), NULL, 0)
#define DBX(db, sql, ...) db_exec((db), (sql), DB_PARAMS(__VA_ARGS__))
#define DBX0(db, sql) db_exec((db), (sql), NULL, 0)
#define DBS(db, out, sql, ...) db_scalar((db), (sql), DB_PARAMS(__VA_ARGS__), (out))
#define DBS0(db, out, sql) db_scalar((db), (sql), NULL, 0, (out))

/* Named columns: a wide row's select list and the enum of its column
 * indexes come from one X-macro table, so that readers use names and the
 * two cannot drift:
 *
 *     #define T_COLUMNS(FIRST, NEXT) FIRST(TC_ID, "t.id") NEXT(TC_NAME, "t.name")
 *     #define T_COLS T_COLUMNS(DB_COL_SQL, DB_COL_SQL_NEXT)  // "t.id" ", " "t.name"
 *     enum t_col { T_COLUMNS(DB_COL_ENUM, DB_COL_ENUM) TC_COUNT };
 *
 * T_COLS stays a string literal, to be pasted into SQL ("SELECT " T_COLS
 * " FROM t"); a query that selects more after it reads those from
 * TC_COUNT on. */
#define DB_COL_SQL(name, sql) sql
#define DB_COL_SQL_NEXT(name, sql) ", " sql
#define DB_COL_ENUM(name, sql) name,

#endif
