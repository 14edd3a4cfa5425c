/* sweep.c: temp files, expired unused uploads, orphan files; the quota. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <dirent.h>
#include "sweep.h"
#include "storage.h"
#include "ticker.h"
#include "../core/config.h"
#include "../core/log.h"
#include "../core/util.h"

/* Uploads rows per query while looking for expired ones, and the most
 * queries one sweep makes (a bound, not an expected number). */
#define BATCH 100
#define MAX_BATCHES 10000

static ticker_t *ticker; /* the background sweeper, while it runs */

static bool stop_requested(void)
{
	return ticker && ticker_stopping(ticker);
}

/* ------------------------------------------------------------ temp files */

static const char *const tmp_prefixes[] = { "up-", "blend-", "seed-", "hwc-" };

static bool our_tmp_name(const char *name)
{
	for (size_t i = 0; i < ARRAY_LEN(tmp_prefixes); i++)
		if (str_has_prefix(name, tmp_prefixes[i]))
			return true;
	return false;
}

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	UNUSED(sb);
	UNUSED(flag);
	UNUSED(ftw);
	if (remove(path) && errno != ENOENT)
		log_warn("sweep: cannot remove %s: %s", path, strerror(errno));
	return 0; /* keep going */
}

/* A regular temp file: removed unless its writer holds a lock on it. */
static bool remove_tmp_file(int dfd, const char *name)
{
	int fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return false;
	bool ok = false;
	if (flock(fd, LOCK_EX | LOCK_NB) == 0)
		ok = unlinkat(dfd, name, 0) == 0;
	close(fd);
	return ok;
}

int64_t sweep_clean_tmp(int64_t min_age_ms)
{
	const char *dir = store_tmp_dir();
	DIR *d = opendir(dir);
	if (!d) {
		if (errno != ENOENT)
			log_warn("sweep: cannot read %s: %s", dir, strerror(errno));
		return 0;
	}
	int dfd = dirfd(d);
	int64_t now = now_ms(), removed = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (!our_tmp_name(e->d_name))
			continue;
		struct stat st;
		if (fstatat(dfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW))
			continue;
		int64_t mtime = (int64_t)st.st_mtim.tv_sec * 1000 + st.st_mtim.tv_nsec / 1000000;
		if (min_age_ms > 0 && now - mtime < min_age_ms)
			continue;
		if (S_ISREG(st.st_mode)) {
			removed += remove_tmp_file(dfd, e->d_name);
		} else if (S_ISDIR(st.st_mode)) {
			/* a work directory (Blender): everything in it, then itself */
			char path[4400];
			snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
			nftw(path, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
			removed += faccessat(dfd, e->d_name, F_OK, AT_SYMLINK_NOFOLLOW) != 0;
		}
	}
	closedir(d);
	return removed;
}

/* ------------------------------------------------------- expired uploads */

/* An upload (alias u) that nothing uses.  Keep in step with every place
 * that refers to an upload or to its URL:
 *   model:  models.upload_id, models.file_key;
 *   image:  a model's thumbnail_url or preview_images (own images only,
 *           models.c own_image), a slider slide, a testimonial, a
 *           community post, a bounty's reference image or delivery;
 *   avatar: its user's avatar_url, a testimonial;
 *   attachment: a support message (support_attachments, migration 0016);
 *   video:  a model's video_url (render_jobs.h; a replaced turntable goes).
 * Kinds not listed are always kept. */
#define FILE_URL "('%/files/' || u.storage_key)"
#define UNUSED_SQL \
	"((u.kind = 'model'" \
	"   AND NOT EXISTS (SELECT 1 FROM models m WHERE m.upload_id = u.id)" \
	"   AND NOT EXISTS (SELECT 1 FROM models m WHERE m.file_key = u.storage_key))" \
	" OR (u.kind = 'image'" \
	"   AND NOT EXISTS (SELECT 1 FROM models m WHERE m.creator_id = u.user_id" \
	"     AND (m.thumbnail_url LIKE " FILE_URL " OR m.preview_images LIKE ('%' || u.storage_key || '%')))" \
	"   AND NOT EXISTS (SELECT 1 FROM slider_slides s WHERE s.image_url LIKE " FILE_URL ")" \
	"   AND NOT EXISTS (SELECT 1 FROM testimonials t WHERE t.avatar_url LIKE " FILE_URL ")" \
	"   AND NOT EXISTS (SELECT 1 FROM community_post_images pi WHERE pi.upload_id = u.id)" \
	"   AND NOT EXISTS (SELECT 1 FROM bounty_images bi WHERE bi.upload_id = u.id)" \
	"   AND NOT EXISTS (SELECT 1 FROM bounty_deliveries bd WHERE bd.upload_id = u.id))" \
	" OR (u.kind = 'avatar'" \
	"   AND NOT EXISTS (SELECT 1 FROM users x WHERE x.id = u.user_id AND x.avatar_url LIKE " FILE_URL ")" \
	"   AND NOT EXISTS (SELECT 1 FROM testimonials t WHERE t.avatar_url LIKE " FILE_URL "))" \
	" OR (u.kind = 'attachment'" \
	"   AND NOT EXISTS (SELECT 1 FROM support_attachments sa WHERE sa.upload_id = u.id))" \
	" OR (u.kind = 'video'" \
	"   AND NOT EXISTS (SELECT 1 FROM models m WHERE m.video_url LIKE " FILE_URL ")))"

struct candidate {
	int64_t id;
	char *key;
};

/* Up to BATCH expired unused uploads with ids above *after; -1 on error. */
static int next_batch(db_t *db, int64_t cutoff, int64_t *after, struct candidate *out)
{
	db_rows_t *r = DBQ(db,
		"SELECT u.id, u.storage_key FROM uploads u"
		" WHERE u.id > $1 AND u.created_at < $2 AND " UNUSED_SQL
		" ORDER BY u.id LIMIT 100", P_INT(*after), P_INT(cutoff));
	if (!r)
		return -1;
	int n = 0;
	while (n < BATCH && db_next(r)) {
		out[n].id = db_int(r, 0);
		out[n].key = xstrdup(db_text(r, 1));
		*after = out[n].id;
		n++;
	}
	bool failed = db_failed(r);
	db_done(r);
	if (failed) {
		for (int i = 0; i < n; i++)
			free(out[i].key);
		return -1;
	}
	return n;
}

/* Row first, then file: a crash in between leaves an orphan file (swept
 * later), never a row without its file.  The DELETE repeats the test, so
 * an upload put to use since the SELECT stays; foreign keys refuse it
 * too (models.upload_id). */
static void sweep_expired(db_t *db, struct sweep_stats *st)
{
	int64_t cutoff = now_ms() - cfg.upload_ttl_ms, after = 0;
	struct candidate c[BATCH];
	for (int b = 0; b < MAX_BATCHES && !stop_requested(); b++) {
		int n = next_batch(db, cutoff, &after, c);
		if (n < 0) {
			log_warn("sweep: cannot look for expired uploads: %s", db_errmsg(db));
			st->failed = true;
			return;
		}
		for (int i = 0; i < n; i++) {
			int64_t gone = stop_requested() ? 0 : DBX(db,
				"DELETE FROM uploads WHERE id IN (SELECT u.id FROM uploads u"
				" WHERE u.id = $1 AND u.created_at < $2 AND " UNUSED_SQL ")",
				P_INT(c[i].id), P_INT(cutoff));
			if (gone == 1) {
				st->expired_uploads++;
				if (!store_delete(c[i].key))
					log_warn("sweep: upload %lld deleted, but not its file %s (an orphan now)",
						 (long long)c[i].id, c[i].key);
			} else if (gone < 0) {
				log_warn("sweep: upload %lld kept: %s", (long long)c[i].id, db_errmsg(db));
			}
			free(c[i].key);
		}
		if (n < BATCH)
			return;
	}
}

/* --------------------------------------------------------- orphan files */

struct orphan_walk {
	db_t *db;
	int64_t now;
	struct sweep_stats *st;
	bool derived;
};

/* Rows that name a stored file of an upload area ($1 the key). */
#define UPLOAD_REFS_SQL \
	"SELECT (SELECT COUNT(*) FROM uploads WHERE storage_key = $1)" \
	" + (SELECT COUNT(*) FROM models WHERE file_key = $1)"
/* Rows that name a derived file: models.viewer_key (model_convert.c, the
 * converted GLB) is the one column that stores a "derived/..." key (renders
 * are stored as uploads); a new one must be added here.  Each is one index
 * probe (uploads_storage_key unique, models_viewer_key_idx of migration
 * 0028): a million derived files are a million probes, never a scan. */
#define DERIVED_REFS_SQL \
	"SELECT (SELECT COUNT(*) FROM uploads WHERE storage_key = $1)" \
	" + (SELECT COUNT(*) FROM models WHERE viewer_key = $1)"

static bool visit_stored(const char *key, int64_t mtime_ms, void *arg)
{
	struct orphan_walk *w = arg;
	if (stop_requested())
		return false;
	if (w->now - mtime_ms < (w->derived ? SWEEP_DERIVED_GRACE_MS : SWEEP_GRACE_MS))
		return true; /* maybe its row is being written right now */
	int64_t refs = 0;
	if (DBS(w->db, &refs, w->derived ? DERIVED_REFS_SQL : UPLOAD_REFS_SQL, P_TEXT(key)) != 1) {
		log_warn("sweep: cannot check %s: %s", key, db_errmsg(w->db));
		w->st->failed = true;
		return false; /* never delete on a doubt */
	}
	if (refs == 0 && store_delete(key)) {
		log_info("sweep: removed orphan file %s", key);
		w->st->orphan_files++;
	}
	return true;
}

/* On S3 the listing is one request per 1000 objects, on this thread. */
static void sweep_orphans(db_t *db, struct sweep_stats *st)
{
	/* Files but not a single uploads row: more likely the wrong database
	 * (DATABASE_URL) than a crash; deleting everything would be final. */
	int64_t any = 0;
	if (DBS0(db, &any, "SELECT CASE WHEN EXISTS (SELECT 1 FROM uploads) THEN 1 ELSE 0 END") != 1) {
		st->failed = true;
		return;
	}
	if (!any)
		return;
	static const char *areas[] = { "models", "images", "avatars", "attachments", "derived" };
	for (size_t i = 0; i < ARRAY_LEN(areas) && !st->failed && !stop_requested(); i++) {
		struct orphan_walk w = { db, now_ms(), st, !strcmp(areas[i], "derived") };
		store_list(areas[i], visit_stored, &w);
	}
}

void sweep_once(db_t *db, struct sweep_stats *st)
{
	memset(st, 0, sizeof(*st));
	st->temp_files = sweep_clean_tmp(SWEEP_GRACE_MS);
	if (cfg.upload_ttl_ms > 0 && !stop_requested())
		sweep_expired(db, st);
	if (!st->failed && !stop_requested())
		sweep_orphans(db, st);
}

/* ------------------------------------------------------------ the thread */

static void sweep_tick(db_t *db, ticker_t *t, void *arg)
{
	UNUSED(t);
	UNUSED(arg);
	if (!db)
		return;
	struct sweep_stats st;
	sweep_once(db, &st);
	if (st.temp_files || st.expired_uploads || st.orphan_files)
		log_info("sweep: removed %lld expired unused uploads, %lld orphan files, %lld temp files",
			 (long long)st.expired_uploads, (long long)st.orphan_files, (long long)st.temp_files);
}

void sweep_start(void)
{
	ticker = ticker_start("sweeper", MIN(cfg.sweep_interval_s, 60), cfg.sweep_interval_s, sweep_tick, NULL);
}

void sweep_stop(void)
{
	ticker_stop(ticker);
	ticker = NULL;
}

/* ------------------------------------------------------------ the quota */

enum quota_result upload_quota_check(db_t *db, int64_t user_id, bool is_admin, uint64_t incoming,
				     char *detail, size_t detail_len)
{
	if (cfg.upload_quota_bytes <= 0 || is_admin)
		return QUOTA_OK;
	int64_t used = 0;
	if (DBS(db, &used, "SELECT CAST(COALESCE(SUM(size_bytes), 0) AS BIGINT) FROM uploads WHERE user_id = $1",
		P_INT(user_id)) != 1)
		return QUOTA_DB_ERROR;
	uint64_t quota = (uint64_t)cfg.upload_quota_bytes;
	if (used >= 0 && (uint64_t)used <= quota && incoming <= quota - (uint64_t)used)
		return QUOTA_OK;
	int n = snprintf(detail, detail_len,
		 "Upload storage quota exceeded: your uploads use %.1f MB of %lld MB and this file needs %.1f MB more",
		 (double)used / (1 << 20), (long long)(cfg.upload_quota_bytes >> 20), (double)incoming / (1 << 20));
	if (cfg.upload_ttl_ms > 0 && n > 0 && (size_t)n < detail_len)
		snprintf(detail + n, detail_len - (size_t)n, "; uploads that nothing uses are deleted after %g hours",
			 (double)cfg.upload_ttl_ms / 3600000.0);
	return QUOTA_OVER;
}
