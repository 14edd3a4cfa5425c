/*
 * sweep.h: housekeeping of uploaded files (crash hygiene) and the per-user
 * upload quota.
 *
 * What a crash or an abandoned upload can leave behind, and who removes it:
 *   - temp files in DATA_DIR/tmp (an upload streaming when the process was
 *     killed): sweep_clean_tmp(0) at start, before listening; later, the
 *     periodic sweep removes ours older than SWEEP_GRACE_MS;
 *   - a stored file whose row was never written (a crash between
 *     store_put() and the INSERT): an orphan, removed by the sweep once it
 *     is older than SWEEP_GRACE_MS, on local disk and in an S3 bucket
 *     (store_list: ListObjectsV2 there);
 *   - a file the server made itself (area "derived": converted GLBs, and
 *     any render or document stored there) that no column names, left by a
 *     crash between store_put() and the UPDATE, or by a replaced or
 *     deleted model: removed once older than SWEEP_DERIVED_GRACE_MS.  What
 *     names a derived file is DERIVED_REFS_SQL in sweep.c: a feature that
 *     stores a derived key in a new column must add it there;
 *   - uploads never used (by a model, as an avatar, a slide...) after
 *     UPLOAD_TTL_HOURS: their row, then their file (local or S3).
 *
 * Only names we create in DATA_DIR/tmp are touched (prefixes "up-",
 * "blend-", "seed-", "hwc-": a new kind of temp file should use "hwc-"),
 * and a temp file whose creator still holds a flock() on it (multipart.c
 * does while streaming) is never removed, so a second instance sharing
 * DATA_DIR, or `hwc3d sweep` beside a running server, is safe.
 *
 * What counts as "used" is UNUSED_SQL in sweep.c: a feature that starts to
 * keep uploads (support tickets keeping attachments, for example) must add
 * its reference there, or its files are deleted after UPLOAD_TTL_HOURS.
 *
 * sweep_start()/sweep_stop() run sweep_once() every SWEEP_INTERVAL_S on a
 * thread of its own (never on an HTTP poll thread); `hwc3d sweep` runs it
 * once.  Thread safe.
 */
#ifndef HWC_SWEEP_H
#define HWC_SWEEP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "../db/db.h"

/* Files younger than this are never swept: they may be being written, or
 * their row may be about to be inserted. */
#define SWEEP_GRACE_MS (3600 * 1000LL)
/* The same for derived files, longer: a job writes its row right after
 * store_put(), but job runs are bounded by a lease (jobs.h; the longest,
 * a turntable video, 45 min), not killed, so a run stalled between the
 * two (a locked database, a slow disk) gets hours, not minutes. */
#define SWEEP_DERIVED_GRACE_MS (6 * 3600 * 1000LL)

struct sweep_stats {
	int64_t temp_files;      /* temp files and work directories removed */
	int64_t expired_uploads; /* unused uploads past UPLOAD_TTL_HOURS (rows and files) */
	int64_t orphan_files;    /* stored files no row references */
	bool failed;             /* a database error cut the sweep short */
};

/* Removes our temp entries in DATA_DIR/tmp older than min_age_ms (0: all
 * of them that no live process holds); returns how many. */
int64_t sweep_clean_tmp(int64_t min_age_ms);

/* One sweep over temp files, expired uploads and orphan files. */
void sweep_once(db_t *db, struct sweep_stats *st);

/* The background sweeper: the first sweep after min(SWEEP_INTERVAL_S, 60 s),
 * then every SWEEP_INTERVAL_S.  sweep_stop() interrupts a sweep between
 * two files and joins the thread. */
void sweep_start(void);
void sweep_stop(void);

/* The upload quota (UPLOAD_QUOTA_MB, admins exempt): may user_id store
 * `incoming` more bytes?  QUOTA_OVER fills detail with the 413 message. */
enum quota_result { QUOTA_OK, QUOTA_OVER, QUOTA_DB_ERROR };
enum quota_result upload_quota_check(db_t *db, int64_t user_id, bool is_admin, uint64_t incoming,
				     char *detail, size_t detail_len);

#endif
