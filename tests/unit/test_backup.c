/* cli/backup.c: the online copy under concurrent writes, the file check,
 * and telling whether another process has a database open. */
#include <pthread.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>
#include "t.h"
#include "cli/cli.h"
#include "core/util.h"
#include "db/migrate.h"

static void rm_db(const char *dir, const char *name)
{
	static const char *suffix[] = { "", "-wal", "-shm", "-journal" };
	for (size_t i = 0; i < ARRAY_LEN(suffix); i++) {
		char *p = xasprintf("%s/%s%s", dir, name, suffix[i]);
		unlink(p);
		free(p);
	}
}

static sqlite3 *open_wal(const char *path)
{
	sqlite3 *h = NULL;
	if (sqlite3_open(path, &h) != SQLITE_OK)
		return h;
	sqlite3_busy_timeout(h, 5000);
	sqlite3_exec(h, "PRAGMA journal_mode=WAL; PRAGMA synchronous=OFF", NULL, NULL, NULL);
	return h;
}

static int64_t scalar(sqlite3 *h, const char *sql)
{
	sqlite3_stmt *q = NULL;
	int64_t v = -1;
	if (sqlite3_prepare_v2(h, sql, -1, &q, NULL) == SQLITE_OK && sqlite3_step(q) == SQLITE_ROW)
		v = sqlite3_column_int64(q, 0);
	sqlite3_finalize(q);
	return v;
}

struct writer {
	const char *path;
	volatile int stop;
	volatile int64_t commits;
	int failed;
};

/* One transaction at a time: a row and the counter that counts rows, so a
 * torn copy shows as a counter that disagrees with its rows. */
static void *write_loop(void *arg)
{
	struct writer *w = arg;
	sqlite3 *h = open_wal(w->path);
	while (!__atomic_load_n(&w->stop, __ATOMIC_ACQUIRE)) {
		if (sqlite3_exec(h, "BEGIN IMMEDIATE; INSERT INTO t (body) VALUES (randomblob(900));"
				    " UPDATE c SET n = n + 1; COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
			sqlite3_exec(h, "ROLLBACK", NULL, NULL, NULL);
			w->failed++;
		}
		__atomic_add_fetch(&w->commits, 1, __ATOMIC_RELEASE);
	}
	sqlite3_close(h);
	return NULL;
}

TEST(backup_copy_is_one_snapshot_under_writes)
{
	char dir[] = "/tmp/hwc3d-unit-backup-XXXXXX";
	CHECK(mkdtemp(dir) != NULL);
	char *src = xasprintf("%s/live.db", dir), *dst = xasprintf("%s/copy.db", dir);
	sqlite3 *h = open_wal(src);
	CHECK(sqlite3_exec(h, "CREATE TABLE t (id INTEGER PRIMARY KEY, body BLOB);"
			      "CREATE TABLE c (n INTEGER); INSERT INTO c VALUES (0);"
			      "WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < 2000)"
			      " INSERT INTO t (body) SELECT randomblob(900) FROM s;"
			      "UPDATE c SET n = 2000", NULL, NULL, NULL) == SQLITE_OK);
	sqlite3_close(h);

	struct writer w = { .path = src };
	pthread_t th;
	CHECK(pthread_create(&th, NULL, write_loop, &w) == 0);
	while (__atomic_load_n(&w.commits, __ATOMIC_ACQUIRE) < 5)
		usleep(1000);
	struct backup_stats st;
	char err[512] = "";
	/* 8 pages a step and 1 ms between: the writer commits between steps,
	 * so the copy starts over until the one-step fallback finishes it. */
	int rc = backup_sqlite_copy(src, dst, 8, 1, &st, err, sizeof(err));
	__atomic_store_n(&w.stop, 1, __ATOMIC_RELEASE);
	pthread_join(th, NULL);
	CHECK(rc == 0);
	if (rc)
		fprintf(stderr, "    %s\n", err);
	CHECK(w.failed == 0);
	CHECK(st.restarts >= 1);
	CHECK(st.steps > 1);
	CHECK(st.page_size == 4096);

	sqlite3 *c = NULL;
	CHECK(sqlite3_open_v2(dst, &c, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK);
	sqlite3_stmt *q = NULL;
	CHECK(sqlite3_prepare_v2(c, "PRAGMA integrity_check", -1, &q, NULL) == SQLITE_OK);
	CHECK(sqlite3_step(q) == SQLITE_ROW && !strcmp((const char *)sqlite3_column_text(q, 0), "ok"));
	sqlite3_finalize(q);
	int64_t rows = scalar(c, "SELECT COUNT(*) FROM t"), n = scalar(c, "SELECT n FROM c");
	CHECK(rows >= 2005 && rows == n);
	CHECK(st.pages == scalar(c, "PRAGMA page_count"));
	/* a self-contained file: rollback journal, no -wal beside it */
	CHECK(scalar(c, "SELECT 1 WHERE (SELECT journal_mode FROM pragma_journal_mode) = 'delete'") == 1);
	sqlite3_close(c);
	char *wal = xasprintf("%s-wal", dst);
	CHECK(access(wal, F_OK) != 0);
	free(wal);

	rm_db(dir, "live.db");
	rm_db(dir, "copy.db");
	rmdir(dir);
	free(src);
	free(dst);
}

TEST(backup_check_wants_this_projects_migrations)
{
	char dir[] = "/tmp/hwc3d-unit-backup-XXXXXX";
	CHECK(mkdtemp(dir) != NULL);
	char *p = xasprintf("%s/x.db", dir), err[512];
	int version = -1;
	sqlite3 *h = NULL;
	CHECK(sqlite3_open(p, &h) == SQLITE_OK);
	CHECK(sqlite3_exec(h, "CREATE TABLE notes (id INTEGER)", NULL, NULL, NULL) == SQLITE_OK);
	CHECK(backup_sqlite_check(p, true, &version, err, sizeof(err)) == -1);
	CHECK(strstr(err, "not an hwc3d database") != NULL);

	CHECK(sqlite3_exec(h, "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL,"
			      " applied_at BIGINT NOT NULL)", NULL, NULL, NULL) == SQLITE_OK);
	CHECK(backup_sqlite_check(p, false, &version, err, sizeof(err)) == -1); /* empty */
	sqlite3_stmt *q = NULL;
	CHECK(sqlite3_prepare_v2(h, "INSERT INTO schema_migrations VALUES (?1, ?2, 0)", -1, &q, NULL) == SQLITE_OK);
	sqlite3_bind_int(q, 1, hwc_migrations[0].version);
	sqlite3_bind_text(q, 2, hwc_migrations[0].name, -1, SQLITE_STATIC);
	CHECK(sqlite3_step(q) == SQLITE_DONE);
	sqlite3_finalize(q);
	CHECK(backup_sqlite_check(p, true, &version, err, sizeof(err)) == 0);
	CHECK(version == hwc_migrations[0].version);

	/* a version beyond the binary's is reported, not judged: restore decides */
	CHECK(sqlite3_exec(h, "INSERT INTO schema_migrations VALUES (100000, 'future', 0)", NULL, NULL, NULL)
	      == SQLITE_OK);
	CHECK(backup_sqlite_check(p, false, &version, err, sizeof(err)) == 0);
	CHECK(version == 100000);

	CHECK(sqlite3_exec(h, "UPDATE schema_migrations SET name = 'not_ours' WHERE version < 100000", NULL, NULL, NULL)
	      == SQLITE_OK);
	CHECK(backup_sqlite_check(p, false, &version, err, sizeof(err)) == -1);
	CHECK(strstr(err, "not_ours") != NULL);
	sqlite3_close(h);

	CHECK(backup_sqlite_check(dir, false, &version, err, sizeof(err)) == -1);
	rm_db(dir, "x.db");
	CHECK(backup_sqlite_check(p, false, &version, err, sizeof(err)) == -1);
	rmdir(dir);
	free(p);
}

TEST(backup_in_use_sees_another_process)
{
	char dir[] = "/tmp/hwc3d-unit-backup-XXXXXX";
	CHECK(mkdtemp(dir) != NULL);
	char *p = xasprintf("%s/live.db", dir);
	long pid = 0;
	CHECK(backup_sqlite_in_use(p, &pid) == 0); /* no file */
	sqlite3 *h = open_wal(p);
	CHECK(sqlite3_exec(h, "CREATE TABLE t (x)", NULL, NULL, NULL) == SQLITE_OK);
	/* this process's own connection is not "another process" */
	CHECK(backup_sqlite_in_use(p, &pid) == 0);
	sqlite3_close(h);

	int ready[2], go[2];
	CHECK(pipe(ready) == 0 && pipe(go) == 0);
	pid_t child = fork();
	if (child == 0) {
		/* an idle WAL connection, like a server's worker between jobs */
		sqlite3 *ch = open_wal(p);
		sqlite3_exec(ch, "SELECT COUNT(*) FROM t", NULL, NULL, NULL);
		char b = 1;
		if (write(ready[1], &b, 1) != 1 || read(go[0], &b, 1) != 1)
			_exit(1);
		sqlite3_close(ch);
		_exit(0);
	}
	char b;
	CHECK(read(ready[0], &b, 1) == 1);
	CHECK(backup_sqlite_in_use(p, &pid) == 1);
	CHECK(pid == (long)child);
	CHECK(write(go[1], &b, 1) == 1);
	int status = -1;
	waitpid(child, &status, 0);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	CHECK(backup_sqlite_in_use(p, &pid) == 0);
	close(ready[0]);
	close(ready[1]);
	close(go[0]);
	close(go[1]);
	rm_db(dir, "live.db");
	rmdir(dir);
	free(p);
}
