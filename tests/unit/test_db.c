/* The database layer on SQLite and, when TEST_PG_URL is set, PostgreSQL. */
#include <unistd.h>
#include "t.h"
#include "core/config.h"
#include "core/util.h"
#include "db/db.h"
#include "db/db_internal.h"
#include "db/migrate.h"
#include "http/request.h"

static db_t *open_engine(enum db_kind kind, char *path, size_t n)
{
	memset(&cfg, 0, sizeof(cfg));
	cfg.db_kind = kind;
	if (kind == DB_SQLITE) {
		snprintf(path, n, "/tmp/hwc3d-unit-%d.db", (int)getpid());
		unlink(path);
		cfg.sqlite_path = path;
	} else {
		cfg.pg_conninfo = t_pg_url();
	}
	return db_open();
}

static void close_engine(db_t *db, enum db_kind kind, const char *path)
{
	if (kind == DB_PG)
		db_exec_script(db, "DROP TABLE IF EXISTS unit_u; DROP TABLE IF EXISTS unit_t");
	db_close(db);
	if (kind == DB_SQLITE) {
		char p[300];
		unlink(path);
		snprintf(p, sizeof(p), "%s-wal", path);
		unlink(p);
		snprintf(p, sizeof(p), "%s-shm", path);
		unlink(p);
	}
}

/* Rows the request owns (req_rows): released by req_rows_release (the
 * dispatcher, when the handler returns) and freed with the arena, with or
 * without an early db_done. */
static void request_rows(db_t *db)
{
	arena_t *a = arena_new();
	req_t *req = arena_calloc(a, sizeof(*req));
	req->arena = a;
	req->db = db;
	db_rows_t *early = RQ0(req, "SELECT id FROM unit_t ORDER BY id");
	CHECK(early && db_next(early));
	db_done(early);
	db_done(early); /* a second call does nothing */
	CHECK(!db_next(early));
	/* A lookup read once, not to the end: on SQLite its statement stays
	 * busy and pins this connection's snapshot until it is released. */
	db_rows_t *lookup = RQ(req, "SELECT id FROM unit_t WHERE id >= $1 ORDER BY id", P_INT(1));
	CHECK(lookup && db_next(lookup));
	db_t *other = db_open();
	CHECK(other && DBX(other, "INSERT INTO unit_t (name) VALUES ($1)", P_TEXT("other")) == 1);
	req_rows_release(req);
	CHECK(!db_next(lookup));
	/* Released: this connection sees the other's write and may write. */
	CHECK(DBX(db, "INSERT INTO unit_t (name) VALUES ($1)", P_TEXT("after")) == 1);
	int64_t n = 0;
	CHECK(DBS(db, &n, "SELECT COUNT(*) FROM unit_t WHERE name = $1", P_TEXT("other")) == 1 && n == 1);
	db_close(other);
	/* Still open at the end (no dispatcher): the arena releases it. */
	db_rows_t *open = RQ0(req, "SELECT id FROM unit_t");
	CHECK(open && db_next(open));
	arena_free(a);
}

/* SQLite: a lookup kept open across a write (one db_next, not to the end)
 * while another connection commits.  The write must not fail on the
 * lookup's stale snapshot, and the lookup must answer as before. */
static void open_read_then_write(db_t *db)
{
	db_t *other = db_open();
	CHECK(other != NULL);
	if (!other)
		return;
	/* read once (its row current) */
	db_rows_t *seen = DBQ(db, "SELECT name, n, id FROM unit_t WHERE name = $1", P_TEXT("x"));
	CHECK(seen && db_next(seen));
	/* not read yet (its first row stepped ahead) */
	db_rows_t *unread = DBQ(db, "SELECT n, name FROM unit_t WHERE name = $1", P_TEXT("y"));
	CHECK(unread != NULL);
	CHECK(DBX(other, "INSERT INTO unit_t (name) VALUES ($1)", P_TEXT("other-1")) == 1);
	CHECK(DBX(db, "INSERT INTO unit_t (name) VALUES ($1)", P_TEXT("mine-1")) == 1);
	CHECK_STR(db_text(seen, 0), "x");
	CHECK(db_int(seen, 1) == 0 && !db_isnull(seen, 1));
	CHECK_STR(db_text(seen, 1), "0"); /* SQLite's own conversions, kept */
	CHECK_STR(db_colname(seen, 2), "id");
	CHECK(db_ncols(seen) == 3 && db_isnull(seen, 7) && db_text(seen, 7) == NULL);
	CHECK(!db_next(seen) && !db_failed(seen));
	CHECK(db_next(unread) && db_int(unread, 0) == 1);
	CHECK_STR(db_text(unread, 1), "y");
	CHECK(!db_next(unread) && !db_failed(unread));
	db_done(seen);
	db_done(unread);
	/* a transaction from under an open lookup */
	db_rows_t *lookup = DBQ(db, "SELECT id FROM unit_t WHERE name = $1", P_TEXT("z"));
	CHECK(lookup && db_next(lookup));
	CHECK(DBX(other, "INSERT INTO unit_t (name) VALUES ($1)", P_TEXT("other-2")) == 1);
	CHECK(db_begin(db));
	CHECK(DBX(db, "INSERT INTO unit_t (name) VALUES ($1)", P_TEXT("mine-2")) == 1);
	CHECK(db_commit(db));
	CHECK(db_int(lookup, 0) > 0 && !db_next(lookup));
	db_done(lookup);
	/* rows left: every row still comes once, in order, across the write */
	db_rows_t *all = DBQ0(db, "SELECT id FROM unit_t ORDER BY id");
	int64_t last = 0, n = 0, count = 0;
	CHECK(all && db_next(all));
	last = db_int(all, 0);
	CHECK(DBX(db, "UPDATE unit_t SET n = n WHERE id = $1", P_INT(last)) == 1);
	n = 1;
	while (db_next(all)) {
		CHECK(db_int(all, 0) > last);
		last = db_int(all, 0);
		n++;
	}
	db_done(all);
	CHECK(DBS0(db, &count, "SELECT COUNT(*) FROM unit_t") == 1 && count == n);
	db_close(other);
}

static void exercise(enum db_kind kind)
{
	char path[256];
	db_t *db = open_engine(kind, path, sizeof(path));
	CHECK(db != NULL);
	if (!db)
		return;
	CHECK(db_ping(db));
	char *ddl = migrate_render(
		"DROP TABLE IF EXISTS unit_u; DROP TABLE IF EXISTS unit_t;"
		"CREATE TABLE unit_t (id {{PK}}, name TEXT NOT NULL UNIQUE, n BIGINT, flag {{BOOL}} NOT NULL DEFAULT FALSE);"
		"CREATE TABLE unit_u (id {{PK}}, t_id BIGINT NOT NULL REFERENCES unit_t(id));", kind);
	CHECK(db_exec_script(db, ddl) == 0);
	free(ddl);

	int64_t id = 0;
	CHECK(DBS(db, &id, "INSERT INTO unit_t (name, n, flag) VALUES ($1, $2, $3) RETURNING id",
		  P_TEXT("a'b\"c"), P_INT(-5), P_BOOL(true)) == 1);
	CHECK(id == 1);
	/* $2 before $1: SQLite must bind by number, not by first appearance */
	db_rows_t *r = DBQ(db, "SELECT name, n, flag FROM unit_t WHERE n = $2 AND id = $1", P_INT(id), P_INT(-5));
	CHECK(r != NULL);
	if (r) {
		CHECK(db_next(r));
		CHECK_STR(db_text(r, 0), "a'b\"c");
		CHECK(db_int(r, 1) == -5);
		CHECK(db_bool(r, 2));
		CHECK(!db_next(r));
		CHECK(!db_failed(r));
		db_done(r);
	}
	/* NULLs, and '$1' inside a string literal is not a parameter */
	r = DBQ(db, "SELECT CAST($1 AS TEXT), '$1'", P_TEXT(NULL));
	CHECK(r && db_next(r) && db_isnull(r, 0) && db_text(r, 0) == NULL);
	if (r) {
		CHECK_STR(db_text(r, 1), "$1");
		db_done(r);
	}
	/* unique violation is classified */
	CHECK(DBX(db, "INSERT INTO unit_t (name) VALUES ($1)", P_TEXT("a'b\"c")) == -1);
	CHECK(db_error(db) == DB_ERR_UNIQUE);
	/* foreign keys are enforced on both */
	CHECK(DBX(db, "INSERT INTO unit_u (t_id) VALUES ($1)", P_INT(999)) == -1);
	CHECK(db_error(db) == DB_ERR_FOREIGN_KEY);
	/* exec counts changes; a transaction rolls back */
	CHECK(db_begin(db));
	CHECK(DBX(db, "UPDATE unit_t SET n = n + 1") == 1);
	db_rollback(db);
	int64_t n = 0;
	CHECK(DBS0(db, &n, "SELECT n FROM unit_t") == 1 && n == -5);
	/* nested use of the same cached statement */
	for (int i = 0; i < 3; i++)
		DBX(db, "INSERT INTO unit_t (name, n) VALUES ($1, $2)", P_TEXT(i == 0 ? "x" : i == 1 ? "y" : "z"), P_INT(i));
	db_rows_t *outer = DBQ0(db, "SELECT id FROM unit_t ORDER BY id");
	int rows = 0;
	while (outer && db_next(outer)) {
		db_rows_t *inner = DBQ0(db, "SELECT id FROM unit_t ORDER BY id");
		int k = 0;
		while (inner && db_next(inner))
			k++;
		db_done(inner);
		CHECK(k == 4);
		rows++;
	}
	db_done(outer);
	CHECK(rows == 4);
	/* a syntax error is an error, not a crash */
	CHECK(DBQ0(db, "SELEC nonsense") == NULL);
	CHECK(db_error(db) == DB_ERR_OTHER);
	request_rows(db);
	if (kind == DB_SQLITE)
		open_read_then_write(db);
	close_engine(db, kind, path);
}

TEST(db_sqlite_layer)
{
	exercise(DB_SQLITE);
}

TEST(db_pg_layer)
{
	if (!t_pg_url()) {
		fprintf(stderr, "    (TEST_PG_URL unset: PostgreSQL layer not tested)\n");
		if (getenv("CI"))
			t_fail(__FILE__, __LINE__, "TEST_PG_URL must be set in CI");
		return;
	}
	exercise(DB_PG);
}

TEST(db_sql_rewrite_for_sqlite)
{
	char *s = db_sql_for_sqlite("SELECT $1, '$2', \"$3\", $10 FROM t WHERE a = $2");
	CHECK_STR(s, "SELECT ?1, '$2', \"$3\", ?10 FROM t WHERE a = ?2");
	free(s);
}

TEST(migrate_render_dialects)
{
	const char *src = "CREATE TABLE t (id {{PK}}, b {{BOOL}});\n-- @sqlite\nSQLITE ONLY;\n-- @end\n-- @pg\nPG ONLY;\n-- @end\nDONE;\n";
	char *s = migrate_render(src, DB_SQLITE);
	CHECK(strstr(s, "INTEGER PRIMARY KEY AUTOINCREMENT") && strstr(s, "SQLITE ONLY") && !strstr(s, "PG ONLY") && strstr(s, "DONE"));
	free(s);
	s = migrate_render(src, DB_PG);
	CHECK(strstr(s, "GENERATED BY DEFAULT AS IDENTITY") && strstr(s, "BOOLEAN") && !strstr(s, "SQLITE ONLY") && strstr(s, "PG ONLY"));
	free(s);
}

TEST(migrations_apply_once_and_refuse_newer)
{
	char path[256];
	db_t *db = open_engine(DB_SQLITE, path, sizeof(path));
	CHECK(db != NULL);
	if (!db)
		return;
	char err[256];
	CHECK(migrate_up(db, err, sizeof(err)) == hwc_n_migrations);
	CHECK(migrate_up(db, err, sizeof(err)) == 0);
	CHECK(migrate_current(db) == hwc_migrations[hwc_n_migrations - 1].version);
	CHECK(DBX0(db, "INSERT INTO schema_migrations VALUES (99999, 'future', 0)") == 1);
	CHECK(migrate_up(db, err, sizeof(err)) == -1);
	CHECK(strstr(err, "newer") != NULL);
	close_engine(db, DB_SQLITE, path);
}
