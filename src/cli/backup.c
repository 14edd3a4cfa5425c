/*
 * backup.c: `hwc3d backup FILE [--force]` and `hwc3d restore FILE` for the
 * SQLite default (docs/deployment.md, "Backup and restore").
 *
 * Backup copies the live database with SQLite's online backup API, beside
 * a running server: in steps of BACKUP_STEP_PAGES with a short pause
 * between them.  A write by another connection between two steps makes
 * SQLite start the copy again from the first page (so what is finished is
 * one snapshot); after BACKUP_MAX_RESTARTS of those the rest is copied in
 * one step, which in WAL mode holds a read snapshot only and never blocks
 * the server's writers.  The copy goes to FILE.tmp, is switched to a
 * rollback journal (one self-contained file, no -wal beside it), checked
 * with PRAGMA quick_check, and renamed to FILE.
 *
 * Restore checks FILE (integrity_check, the schema_migrations table with
 * this binary's migration names, a version no newer than the binary's),
 * refuses while any process has the live database open, then writes FILE
 * into the live database with the backup API: one write transaction, so a
 * crash leaves the old database whole.  A live file too damaged to be
 * written that way (SQLITE_CORRUPT, SQLITE_NOTADB: often why one restores)
 * is renamed to hwc3d.db.damaged-<ms> and the backup goes to a new file.
 * Then the migrations run.
 *
 * "A server is running" is read from the locks SQLite itself holds: in WAL
 * mode (which the server always uses, db_sqlite.c) every open connection
 * keeps a POSIX read lock on the database file's shared-lock range for as
 * long as it is open, and a server always has connections open (its job
 * and mail workers hold theirs from start to stop).  F_GETLK sees that
 * lock from any other process, including one on another instance sharing
 * DATA_DIR on the same host, with no lock file of our own to go stale.
 *
 * PostgreSQL is backed up with pg_dump and restored with pg_restore; both
 * commands say so and exit 2.
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <sqlite3.h>
#include <stdio.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "cli.h"
#include "../core/config.h"
#include "../core/strbuf.h"
#include "../core/util.h"
#include "../db/migrate.h"

#define BACKUP_STEP_PAGES 1024 /* 4 MiB of 4 KiB pages per step */
#define BACKUP_PAUSE_MS 2
#define BACKUP_MAX_RESTARTS 3
#define BACKUP_BUSY_MS 5000 /* each connection's busy timeout */
#define BACKUP_BUSY_RETRIES 20

/* unix VFS (os_unix.c): the byte range a SHARED lock covers. */
#define SQLITE_SHARED_FIRST (0x40000000 + 2)
#define SQLITE_SHARED_SIZE 510

static void pause_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

int backup_sqlite_in_use(const char *path, long *pid)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : -1;
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET,
			    .l_start = SQLITE_SHARED_FIRST, .l_len = SQLITE_SHARED_SIZE };
	int rc = fcntl(fd, F_GETLK, &fl);
	close(fd);
	if (rc < 0)
		return -1;
	if (fl.l_type == F_UNLCK)
		return 0;
	if (pid)
		*pid = (long)fl.l_pid;
	return 1;
}

static sqlite3 *open_raw(const char *path, int flags, char *err, size_t errlen)
{
	sqlite3 *h = NULL;
	if (sqlite3_open_v2(path, &h, flags | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "cannot open %s: %s", path, h ? sqlite3_errmsg(h) : "out of memory");
		sqlite3_close(h);
		return NULL;
	}
	sqlite3_extended_result_codes(h, 1);
	sqlite3_busy_timeout(h, BACKUP_BUSY_MS);
	return h;
}

/* A backup file, read only.  Alone (no -wal or -journal beside it) it is
 * opened immutable: SQLite then takes no locks and, for a file whose header
 * says WAL, creates no -wal and -shm beside the operator's backup. */
static sqlite3 *open_backup_file(const char *path, char *err, size_t errlen)
{
	char *wal = xasprintf("%s-wal", path), *journal = xasprintf("%s-journal", path);
	bool alone = access(wal, F_OK) && access(journal, F_OK);
	free(wal);
	free(journal);
	if (!alone)
		return open_raw(path, SQLITE_OPEN_READONLY, err, errlen);
	strbuf_t uri;
	sb_init(&uri, 0);
	sb_adds(&uri, path[0] == '/' ? "file://" : "file:");
	sb_add_uri_encoded(&uri, path, true);
	sb_adds(&uri, "?immutable=1");
	char *u = sb_detach(&uri, NULL);
	sqlite3 *h = open_raw(u, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, err, errlen);
	free(u);
	return h;
}

static bool exec_raw(sqlite3 *h, const char *sql, const char *path, char *err, size_t errlen)
{
	char *msg = NULL;
	if (sqlite3_exec(h, sql, NULL, NULL, &msg) == SQLITE_OK)
		return true;
	snprintf(err, errlen, "%s: %s", path, msg ? msg : sqlite3_errmsg(h));
	sqlite3_free(msg);
	return false;
}

/* The step loop.  SQLITE_BUSY/LOCKED from a step (a lock held past the
 * busy timeout, a WAL recovery in progress) is retried after a pause, up
 * to BACKUP_BUSY_RETRIES times. */
static int copy_steps(sqlite3_backup *b, int step_pages, int gap_ms, struct backup_stats *st)
{
	int rc, busy = 0, step = step_pages > 0 ? step_pages : -1;
	int64_t copied_before = 0;
	for (;;) {
		rc = sqlite3_backup_step(b, step);
		st->steps++;
		if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED) {
			if (++busy > BACKUP_BUSY_RETRIES)
				return rc;
			pause_ms(100);
			continue;
		}
		if (rc != SQLITE_OK)
			break;
		int64_t copied = (int64_t)sqlite3_backup_pagecount(b) - sqlite3_backup_remaining(b);
		if (copied <= copied_before && ++st->restarts >= BACKUP_MAX_RESTARTS)
			step = -1; /* the rest in one snapshot */
		copied_before = copied;
		if (gap_ms > 0)
			pause_ms(gap_ms);
	}
	st->pages = sqlite3_backup_pagecount(b);
	return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

int backup_sqlite_copy(const char *src_path, const char *dst_path, int step_pages, int gap_ms,
		       struct backup_stats *st, char *err, size_t errlen)
{
	*st = (struct backup_stats){ 0 };
	struct stat sb;
	if (stat(src_path, &sb)) {
		snprintf(err, errlen, "no database at %s: %s", src_path, strerror(errno));
		return -1;
	}
	sqlite3 *src = open_raw(src_path, SQLITE_OPEN_READWRITE, err, errlen), *dst = NULL;
	if (!src)
		return -1;
	int ret = -1;
	dst = open_raw(dst_path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, err, errlen);
	if (!dst)
		goto done;
	sqlite3_backup *b = sqlite3_backup_init(dst, "main", src, "main");
	if (!b) {
		snprintf(err, errlen, "cannot start the backup: %s", sqlite3_errmsg(dst));
		goto done;
	}
	int64_t t0 = mono_us();
	int rc = copy_steps(b, step_pages, gap_ms, st);
	sqlite3_backup_finish(b);
	st->ms = (mono_us() - t0) / 1000;
	if (rc != SQLITE_OK) {
		snprintf(err, errlen, "the backup failed: %s", sqlite3_errstr(rc));
		goto done;
	}
	/* The copied header says WAL (the live file's); a backup is one file. */
	if (!exec_raw(dst, "PRAGMA journal_mode=DELETE", dst_path, err, errlen))
		goto done;
	sqlite3_stmt *q = NULL;
	if (sqlite3_prepare_v2(dst, "PRAGMA page_size", -1, &q, NULL) == SQLITE_OK && sqlite3_step(q) == SQLITE_ROW)
		st->page_size = sqlite3_column_int64(q, 0);
	sqlite3_finalize(q);
	ret = 0;
done:
	if (sqlite3_close(dst) != SQLITE_OK && !ret) {
		snprintf(err, errlen, "cannot close %s", dst_path);
		ret = -1;
	}
	sqlite3_close(src);
	return ret;
}

static bool first_text_is(sqlite3 *h, const char *sql, const char *want, char *got, size_t gotlen)
{
	sqlite3_stmt *q = NULL;
	bool ok = false;
	int rc = sqlite3_prepare_v2(h, sql, -1, &q, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(q);
	if (rc == SQLITE_ROW) {
		const char *t = (const char *)sqlite3_column_text(q, 0);
		ok = t && !strcmp(t, want);
		snprintf(got, gotlen, "%s", t ? t : "(null)");
	} else {
		snprintf(got, gotlen, "%s", sqlite3_errmsg(h));
	}
	sqlite3_finalize(q);
	return ok;
}

/* The migration of this binary with that version, or NULL. */
static const struct migration *known_migration(int64_t version)
{
	for (int i = 0; i < hwc_n_migrations; i++)
		if (hwc_migrations[i].version == version)
			return &hwc_migrations[i];
	return NULL;
}

int backup_sqlite_check(const char *path, bool full, int *version, char *err, size_t errlen)
{
	*version = 0;
	struct stat sb;
	if (stat(path, &sb)) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (!S_ISREG(sb.st_mode)) {
		snprintf(err, errlen, "%s is not a regular file", path);
		return -1;
	}
	sqlite3 *h = open_backup_file(path, err, errlen);
	if (!h)
		return -1;
	int ret = -1;
	char got[256];
	if (!first_text_is(h, full ? "PRAGMA integrity_check(1)" : "PRAGMA quick_check(1)", "ok", got, sizeof(got))) {
		snprintf(err, errlen, "%s is not a sound SQLite database (%s): %s", path,
			 full ? "integrity_check" : "quick_check", got);
		goto done;
	}
	sqlite3_stmt *q = NULL;
	if (sqlite3_prepare_v2(h, "SELECT version, name FROM schema_migrations ORDER BY version", -1, &q, NULL)
	    != SQLITE_OK) {
		snprintf(err, errlen, "%s is not an hwc3d database: %s", path, sqlite3_errmsg(h));
		goto done;
	}
	int rc, rows = 0;
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		int64_t v = sqlite3_column_int64(q, 0);
		const char *name = (const char *)sqlite3_column_text(q, 1);
		const struct migration *m = known_migration(v);
		int latest = hwc_n_migrations ? hwc_migrations[hwc_n_migrations - 1].version : 0;
		if (v <= latest && !m) {
			snprintf(err, errlen, "%s has migration %lld \"%s\", which this binary does not know", path,
				 (long long)v, name ? name : "");
			sqlite3_finalize(q);
			goto done;
		}
		if (m && (!name || strcmp(m->name, name))) {
			snprintf(err, errlen, "%s is not an hwc3d database: its migration %lld is \"%s\", this "
				 "binary's is \"%s\"", path, (long long)v, name ? name : "", m->name);
			sqlite3_finalize(q);
			goto done;
		}
		if (v > INT32_MAX || v < 0) {
			snprintf(err, errlen, "%s: schema version %lld out of range", path, (long long)v);
			sqlite3_finalize(q);
			goto done;
		}
		*version = (int)v;
		rows++;
	}
	sqlite3_finalize(q);
	if (rc != SQLITE_DONE) {
		snprintf(err, errlen, "%s: cannot read schema_migrations: %s", path, sqlite3_errmsg(h));
		goto done;
	}
	if (!rows) {
		snprintf(err, errlen, "%s is not an hwc3d database: schema_migrations is empty", path);
		goto done;
	}
	ret = 0;
done:
	sqlite3_close(h);
	return ret;
}

static int pg_refusal(const char *what)
{
	fprintf(stderr,
		"hwc3d: %s: DATABASE_URL is PostgreSQL, which this command does not handle: back it up with\n"
		"  pg_dump -Fc -f hwc3d.dump \"$DATABASE_URL\"\n"
		"and restore it with pg_restore into a fresh database (docs/deployment.md, \"Backup and restore\")\n",
		what);
	return 2;
}

static bool fsync_dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *dir = slash ? xstrndup(path, slash == path ? 1 : (size_t)(slash - path)) : xstrdup(".");
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	free(dir);
	if (fd < 0)
		return false;
	bool ok = fsync(fd) == 0;
	close(fd);
	return ok;
}

static void print_json(json_t *o)
{
	char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (s)
		printf("%s\n", s);
	free(s);
	json_decref(o);
}

/* Whether a and b name the same file: the same inode, or (one of them
 * missing) the same name in the same directory. */
static bool same_file(const char *a, const char *b)
{
	struct stat sa, sb;
	if (stat(a, &sa) == 0 && stat(b, &sb) == 0)
		return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
	const char *na = strrchr(a, '/'), *nb = strrchr(b, '/');
	if (strcmp(na ? na + 1 : a, nb ? nb + 1 : b))
		return false;
	char *da = na ? xstrndup(a, na == a ? 1 : (size_t)(na - a)) : xstrdup(".");
	char *db = nb ? xstrndup(b, nb == b ? 1 : (size_t)(nb - b)) : xstrdup(".");
	bool same = stat(da, &sa) == 0 && stat(db, &sb) == 0 && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
	free(da);
	free(db);
	return same;
}

/* Whether path is the live database or one of its companion files. */
static bool is_live_file(const char *path)
{
	static const char *suffix[] = { "", "-wal", "-shm", "-journal" };
	for (size_t i = 0; i < ARRAY_LEN(suffix); i++) {
		char *p = xasprintf("%s%s", cfg.sqlite_path, suffix[i]);
		bool same = same_file(path, p);
		free(p);
		if (same)
			return true;
	}
	return false;
}

static int backup_usage(void)
{
	fputs("usage: hwc3d backup FILE [--force]\n", stderr);
	return 2;
}

int cli_backup(int argc, char **argv)
{
	const char *file = NULL;
	bool force = false;
	for (int i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--force"))
			force = true;
		else if (!file && *argv[i] && argv[i][0] != '-')
			file = argv[i];
		else
			return backup_usage();
	}
	if (!file)
		return backup_usage();
	if (cfg.db_kind != DB_SQLITE)
		return pg_refusal("backup");
	struct stat sb;
	if (is_live_file(file)) {
		fprintf(stderr, "hwc3d: backup: %s is the live database (or its -wal, -shm, -journal)\n", file);
		return 2;
	}
	if (!force && lstat(file, &sb) == 0) {
		fprintf(stderr, "hwc3d: backup: %s exists (--force replaces it)\n", file);
		return 1;
	}
	char *tmp = xasprintf("%s.tmp", file), *tmp_journal = xasprintf("%s.tmp-journal", file);
	unlink(tmp); /* what an interrupted backup left */
	unlink(tmp_journal);
	char err[1024];
	struct backup_stats st;
	int version = 0, rc = 1;
	if (backup_sqlite_copy(cfg.sqlite_path, tmp, BACKUP_STEP_PAGES, BACKUP_PAUSE_MS, &st, err, sizeof(err)) ||
	    backup_sqlite_check(tmp, false, &version, err, sizeof(err))) {
		fprintf(stderr, "hwc3d: backup: %s\n", err);
		goto out;
	}
	/* Without --force, a FILE that appeared meanwhile is not replaced. */
	int mv = force ? rename(tmp, file) : renameat2(AT_FDCWD, tmp, AT_FDCWD, file, RENAME_NOREPLACE);
	if (mv && !force && (errno == EINVAL || errno == ENOSYS)) /* a file system without it */
		mv = lstat(file, &sb) == 0 ? (errno = EEXIST, -1) : rename(tmp, file);
	if (mv) {
		fprintf(stderr, "hwc3d: backup: cannot rename %s to %s: %s\n", tmp, file, strerror(errno));
		goto out;
	}
	if (!fsync_dir_of(file))
		fprintf(stderr, "hwc3d: backup: warning: cannot sync the directory of %s\n", file);
	int64_t bytes = stat(file, &sb) == 0 ? (int64_t)sb.st_size : -1;
	print_json(json_pack("{s:s, s:I, s:I, s:I, s:i, s:I, s:I}", "file", file, "pages", (json_int_t)st.pages,
			     "page_size", (json_int_t)st.page_size, "bytes", (json_int_t)bytes,
			     "schema_version", version, "restarts", (json_int_t)st.restarts,
			     "ms", (json_int_t)st.ms));
	rc = 0;
out:
	if (rc)
		unlink(tmp);
	free(tmp);
	free(tmp_journal);
	return rc;
}

/* Writes src_path over the database at dst_path: one transaction of the
 * backup API.  The destination is first taken out of WAL mode (we are its
 * only user), so the page size may differ and no -wal outlives the
 * restore; cli_open_db puts it back in WAL mode.  0, or the SQLite result
 * code (primary) with a message in err. */
static int restore_into(const char *src_path, const char *dst_path, int64_t *pages, char *err, size_t errlen)
{
	int rc = SQLITE_CANTOPEN;
	sqlite3 *src = open_backup_file(src_path, err, errlen), *dst = NULL;
	if (!src)
		return rc;
	dst = open_raw(dst_path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, err, errlen);
	if (!dst)
		goto done;
	if (!exec_raw(dst, "PRAGMA journal_mode=DELETE", dst_path, err, errlen)) {
		rc = sqlite3_errcode(dst) & 0xff;
		goto done;
	}
	sqlite3_backup *b = sqlite3_backup_init(dst, "main", src, "main");
	if (!b) {
		rc = sqlite3_errcode(dst) & 0xff;
		snprintf(err, errlen, "cannot start the restore: %s", sqlite3_errmsg(dst));
		goto done;
	}
	struct backup_stats st = { 0 };
	rc = copy_steps(b, -1, 0, &st) & 0xff;
	sqlite3_backup_finish(b);
	if (rc != SQLITE_OK) {
		snprintf(err, errlen, "the restore failed (the database is unchanged): %s", sqlite3_errstr(rc));
		goto done;
	}
	*pages = st.pages;
done:
	sqlite3_close(dst);
	sqlite3_close(src);
	return rc;
}

/* Renames the database at path, its -wal and its -journal to aside (and
 * aside-wal, aside-journal), and removes its -shm (rebuilt from the WAL).
 * False with errno set when the database file itself cannot be moved. */
static bool move_aside(const char *path, const char *aside)
{
	static const char *suffix[] = { "-wal", "-journal" };
	for (size_t i = 0; i < ARRAY_LEN(suffix); i++) {
		char *from = xasprintf("%s%s", path, suffix[i]), *to = xasprintf("%s%s", aside, suffix[i]);
		if (rename(from, to) && errno != ENOENT)
			fprintf(stderr, "hwc3d: restore: warning: cannot move %s aside: %s\n", from, strerror(errno));
		free(from);
		free(to);
	}
	char *shm = xasprintf("%s-shm", path);
	unlink(shm);
	free(shm);
	return rename(path, aside) == 0;
}

int cli_restore(int argc, char **argv)
{
	if (argc != 1 || !*argv[0] || argv[0][0] == '-') {
		fputs("usage: hwc3d restore FILE\n", stderr);
		return 2;
	}
	const char *file = argv[0];
	if (cfg.db_kind != DB_SQLITE)
		return pg_refusal("restore");
	if (is_live_file(file)) {
		fprintf(stderr, "hwc3d: restore: %s is the live database itself\n", file);
		return 2;
	}
	char err[1024];
	int version = 0;
	if (backup_sqlite_check(file, true, &version, err, sizeof(err))) {
		fprintf(stderr, "hwc3d: restore: %s; the database is unchanged\n", err);
		return 1;
	}
	int latest = hwc_n_migrations ? hwc_migrations[hwc_n_migrations - 1].version : 0;
	if (version > latest) {
		fprintf(stderr, "hwc3d: restore: %s is at schema version %d, newer than this binary knows (%d): "
			"restore it with a newer hwc3d; the database is unchanged\n", file, version, latest);
		return 1;
	}
	if (cli_make_data_dir())
		return 1;
	/* Before this process opens the live file: closing any descriptor of
	 * it would drop the POSIX locks our own connections hold. */
	long pid = 0;
	int used = backup_sqlite_in_use(cfg.sqlite_path, &pid);
	if (used) {
		if (used > 0)
			fprintf(stderr, "hwc3d: restore: %s is open in process %ld (a running server?): stop every "
				"server on this DATA_DIR first; the database is unchanged\n", cfg.sqlite_path, pid);
		else
			fprintf(stderr, "hwc3d: restore: cannot tell whether %s is in use: %s\n", cfg.sqlite_path,
				strerror(errno));
		return 1;
	}
	int64_t pages = 0;
	char *aside = NULL;
	int src = restore_into(file, cfg.sqlite_path, &pages, err, sizeof(err));
	if (src == SQLITE_CORRUPT || src == SQLITE_NOTADB) {
		/* The live file is damaged, the reason for many a restore: it is
		 * kept aside for a post-mortem and the backup goes to a new file. */
		aside = xasprintf("%s.damaged-%lld", cfg.sqlite_path, (long long)now_ms());
		fprintf(stderr, "hwc3d: restore: %s is damaged (%s): moved to %s\n", cfg.sqlite_path, err, aside);
		if (!move_aside(cfg.sqlite_path, aside)) {
			fprintf(stderr, "hwc3d: restore: cannot move %s aside: %s\n", cfg.sqlite_path, strerror(errno));
			free(aside);
			return 1;
		}
		src = restore_into(file, cfg.sqlite_path, &pages, err, sizeof(err));
	}
	if (src != SQLITE_OK) {
		fprintf(stderr, "hwc3d: restore: %s\n", err);
		free(aside);
		return 1;
	}
	db_t *db;
	int rc = cli_open_db(&db); /* the migrations from the backup's version to ours */
	if (rc) {
		fprintf(stderr, "hwc3d: restore: %s was restored, but its migrations failed (see above)\n", file);
		free(aside);
		return rc;
	}
	int now = migrate_current(db);
	db_close(db);
	json_t *out = json_pack("{s:s, s:s, s:I, s:i, s:i}", "restored", file, "database", cfg.sqlite_path,
				"pages", (json_int_t)pages, "backup_schema_version", version, "schema_version", now);
	if (aside)
		json_object_set_new(out, "damaged_kept_as", json_string(aside));
	print_json(out);
	free(aside);
	return 0;
}
