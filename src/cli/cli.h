/* cli.h: subcommands beyond serve (admin accounts, demo data). */
#ifndef HWC_CLI_H
#define HWC_CLI_H

#include "../db/db.h"

/* Opens the database with the schema up to date (main.c); 0 on success. */
int cli_open_db(db_t **out);
/* Creates DATA_DIR when missing; 0 on success. */
int cli_make_data_dir(void);

int cli_create_admin(int argc, char **argv);
int cli_seed_demo(int argc, char **argv);
/* hwc3d job-enqueue KIND JSON [--owner ID] (jobs.c). */
int cli_job_enqueue(int argc, char **argv);
/* hwc3d fingerprint-backfill [--limit N]: fingerprints of older models
 * (fingerprints.c). */
int cli_fingerprint_backfill(int argc, char **argv);
/* hwc3d convert-models [--all | --model ID] (convert.c). */
int cli_convert_models(int argc, char **argv);
/* hwc3d render-thumbnails: queue thumbnails for models without one (jobs.c). */
int cli_render_thumbnails(int argc, char **argv);
/* hwc3d backup FILE [--force] and hwc3d restore FILE: the SQLite database
 * copied with the online backup API, and written back (backup.c). */
int cli_backup(int argc, char **argv);
int cli_restore(int argc, char **argv);
struct backup_stats {
	int64_t pages, page_size, steps, restarts, ms;
};
/* Copies the SQLite database at src_path into a new file dst_path with the
 * online backup API, step_pages at a time (-1: all at once) with gap_ms
 * between steps, while other connections keep writing; the copy is one
 * snapshot in rollback-journal mode.  0, or -1 with a message in err. */
int backup_sqlite_copy(const char *src_path, const char *dst_path, int step_pages, int gap_ms,
		       struct backup_stats *st, char *err, size_t errlen);
/* Checks that path is a sound (quick_check, or integrity_check when full)
 * SQLite database of this project (schema_migrations with this binary's
 * migration names); *version is its schema version.  0, or -1 with a
 * message in err.  Opens it read-only. */
int backup_sqlite_check(const char *path, bool full, int *version, char *err, size_t errlen);
/* 1 (with *pid) when another process has the SQLite database at path open
 * in WAL mode (the read lock every such connection holds), 0 when none
 * does or there is no file, -1 on an error.  Call it before this process
 * opens path: closing a descriptor drops the process's POSIX locks. */
int backup_sqlite_in_use(const char *path, long *pid);
/* hwc3d routes: the route table as JSON, with handler names (routes.c). */
int cli_routes(void);
/* The demo marketplace (seed_models.c); 0 on success. */
int seed_models(db_t *db, const char *password_hash);
int seed_activity(db_t *db);
/* N more approved models for benchmarks (after seed_models). */
int seed_bulk_models(db_t *db, int64_t n);
/* Testimonials and slider slides (with generated images). */
int seed_home(db_t *db);
/* Published demo courses with lessons; demo bounties from the demo buyers
 * with applications from the demo creators (after seed_models)
 * (seed_learn.c). */
int seed_courses(db_t *db);
int seed_bounties(db_t *db);

#endif
