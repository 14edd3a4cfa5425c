/* db_internal.h: the engine interface behind db.h (db.c, db_sqlite.c, db_pg.c). */
#ifndef HWC_DB_INTERNAL_H
#define HWC_DB_INTERNAL_H

#include "db.h"

struct db_engine {
	db_t *(*open)(void);
	void (*close)(db_t *);
	db_rows_t *(*query)(db_t *, const char *sql, const db_param_t *params, int n);
	bool (*next)(db_rows_t *);
	void (*done)(db_rows_t *); /* releases the statement; db.c frees the handle */
	int (*ncols)(const db_rows_t *);
	bool (*isnull)(const db_rows_t *, int);
	const char *(*text)(const db_rows_t *, int);
	int64_t (*integer)(const db_rows_t *, int);
	const char *(*colname)(const db_rows_t *, int);
	int64_t (*exec)(db_t *, const char *sql, const db_param_t *params, int n);
	int (*script)(db_t *, const char *sql);
};

/* Every connection starts with this header, so db.c can dispatch. */
struct db {
	const struct db_engine *eng;
	enum db_kind kind;
	enum db_err err;
	char errmsg[512];
	bool in_tx; /* between db_begin and db_commit/db_rollback */
};

/* Every row set starts with this header. */
struct db_rows {
	db_t *db;
	bool failed;
	bool closed; /* db_done ran: the statement is released */
	bool kept;   /* db_keep: the handle lives until db_free_kept */
};

extern const struct db_engine db_sqlite_engine;
extern const struct db_engine db_pg_engine;

void db_set_error(db_t *db, enum db_err err, const char *msg);

/* Rewrites $N placeholders outside string literals to ?N (SQLite treats $1
 * as a named parameter numbered by first appearance). */
char *db_sql_for_sqlite(const char *sql);

/* Statement cache keyed by SQL text: a small open-addressing table. */
struct stmt_cache_entry {
	char *sql;
	uint64_t hash;
	void *stmt;
};
struct stmt_cache {
	struct stmt_cache_entry *slots;
	size_t cap, len;
};
uint64_t db_hash(const char *s);
void *stmt_cache_get(struct stmt_cache *c, const char *sql, uint64_t h);
/* Returns false when the cache is full (caller then owns the statement). */
bool stmt_cache_put(struct stmt_cache *c, const char *sql, uint64_t h, void *stmt);
void stmt_cache_free(struct stmt_cache *c, void (*release)(void *));

#endif
