/* model_convert.c: the "model_convert" job (model_convert.h). */
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>
#include "model_convert.h"
#include "cache.h"
#include "jobs.h"
#include "notify.h"
#include "storage.h"
#include "storage_s3.h"
#include "../core/log.h"
#include "../core/util.h"
#include "../media/analyze.h"
#include "../media/convert.h"
#include "../media/quality.h"

#define CONVERT_JOB_TIMEOUT_MS (10 * 60 * 1000) /* Blender's 120 s, slot waits, storage */

bool model_convert_enqueue(db_t *db, int64_t model_id, int64_t owner_id, bool quality_only)
{
	/* "notify": false: a failure is told by this file's own notification
	 * (model_conversion_failed, with the reason), success by none: the
	 * jobs' generic one (jobs.c) would repeat it. */
	char payload[96];
	snprintf(payload, sizeof(payload), "{\"model_id\":%lld%s,\"notify\":false}", (long long)model_id,
		 quality_only ? ",\"quality_only\":true" : "");
	return job_enqueue(db, MODEL_CONVERT_JOB, payload, owner_id, NULL);
}

/* Marks the model failed with a reason its owner sees, and tells them.  A
 * GLB of an earlier conversion goes: it no longer shows the model's file. */
static void mark_failed(db_t *db, int64_t model_id, const char *why)
{
	int64_t owner = 0;
	char title[200] = "", old[256] = "";
	db_rows_t *r = DBQ(db, "SELECT creator_id, title, viewer_key FROM models WHERE id = $1", P_INT(model_id));
	if (r && db_next(r)) {
		owner = db_int(r, 0);
		snprintf(title, sizeof(title), "%s", db_text(r, 1) ? db_text(r, 1) : "");
		snprintf(old, sizeof(old), "%s", db_text(r, 2) ? db_text(r, 2) : "");
	}
	db_done(r);
	if (DBX(db, "UPDATE models SET conversion_status = 'failed', conversion_error = $2, viewer_key = NULL"
		    " WHERE id = $1", P_INT(model_id), P_TEXT(why)) != 1)
		return;
	if (old[0])
		store_delete(old);
	cache_invalidate(CACHE_MODELS);
	if (owner) {
		char msg[600], url[64];
		snprintf(msg, sizeof(msg), "\"%.120s\" could not be converted for the 3D viewer: %.300s", title, why);
		snprintf(url, sizeof(url), "/model/%lld", (long long)model_id);
		notify(db, owner, "model_conversion_failed", "3D preview not available", msg, url);
	}
}

/* The quality report of a model stored before there were reports (demo
 * seed, older models), from an analysis of its file. */
static void fill_quality(db_t *db, int64_t model_id, json_t *analysis)
{
	json_t *q = json_object_get(analysis, "quality");
	const char *badge = quality_badge(q);
	if (!badge)
		return;
	char *text = json_dumps(q, QUALITY_DUMP_FLAGS);
	if (text && DBX(db, "UPDATE models SET quality = $2, quality_badge = $3 WHERE id = $1 AND quality IS NULL",
			P_INT(model_id), P_TEXT(text), P_TEXT(badge)) == 1)
		cache_invalidate(CACHE_MODELS);
	free(text);
}

/* A local path to the model's file: the stored file itself (local
 * storage, through its open descriptor), or a temp copy (S3). */
static bool source_path(const char *key, int *fd, char *tmp, char *path, size_t len, char *err, size_t errlen)
{
	*fd = -1;
	tmp[0] = '\0';
	if (!store_is_s3()) {
		uint64_t size;
		*fd = store_open_local(key, &size);
		if (*fd < 0) {
			snprintf(err, errlen, "the model's file is missing");
			return false;
		}
		snprintf(path, len, "/proc/self/fd/%d", *fd);
		return true;
	}
	char hex[33];
	random_hex(hex, 16);
	snprintf(tmp, PATH_MAX, "%s/convert-src-%s", store_tmp_dir(), hex);
	if (!s3_get_file(key, tmp, err, errlen)) {
		unlink(tmp);
		tmp[0] = '\0';
		return false;
	}
	snprintf(path, len, "%s", tmp);
	return true;
}

static enum job_outcome convert_run(db_t *db, const job_t *job, json_t **result, char *err, size_t errlen)
{
	json_int_t id = json_integer_value(json_object_get(job->payload, "model_id"));
	if (id <= 0) {
		snprintf(err, errlen, "payload without a model_id");
		return JOB_FAILED;
	}
	db_rows_t *r = DBQ(db, "SELECT file_key, file_format, viewer_key, quality IS NULL FROM models"
			       " WHERE id = $1 AND deleted_at IS NULL", P_INT(id));
	if (!r) {
		snprintf(err, errlen, "database: read model");
		return JOB_RETRY;
	}
	if (!db_next(r) || !db_text(r, 0)) {
		bool failed = db_failed(r);
		db_done(r);
		if (failed) {
			snprintf(err, errlen, "database: read model");
			return JOB_RETRY;
		}
		*result = json_pack("{s:I, s:s}", "model_id", id, "skipped", "the model or its file is gone");
		return JOB_DONE;
	}
	char key[256], format[16], old_viewer[256];
	snprintf(key, sizeof(key), "%s", db_text(r, 0));
	snprintf(format, sizeof(format), "%s", db_text(r, 1) ? db_text(r, 1) : "");
	snprintf(old_viewer, sizeof(old_viewer), "%s", db_text(r, 2) ? db_text(r, 2) : "");
	bool no_quality = db_bool(r, 3);
	db_done(r);
	bool glb = !strcmp(format, "GLB"), blend = !strcmp(format, "BLEND");
	/* the GLB is there: only the report is missing (blend's comes from
	 * the conversion, so it converts again) */
	if (json_is_true(json_object_get(job->payload, "quality_only")) && old_viewer[0] && !blend)
		glb = true;
	if (glb && !no_quality) { /* shown as uploaded */
		DBX(db, "UPDATE models SET conversion_status = 'done', conversion_error = NULL WHERE id = $1", P_INT(id));
		cache_invalidate(CACHE_MODELS);
		*result = json_pack("{s:I, s:s}", "model_id", id, "skipped", "a GLB is shown as uploaded");
		return JOB_DONE;
	}

	int fd;
	char tmp_src[PATH_MAX], src[PATH_MAX], out[PATH_MAX], hex[33];
	if (!source_path(key, &fd, tmp_src, src, sizeof(src), err, errlen))
		goto unavailable;
	if (no_quality && !blend) {
		/* a model from before the reports: measured from its own file
		 * (a .blend: from Blender's GLB, below) */
		char why[256];
		json_t *a = model_analyze(src, format, why, sizeof(why));
		if (a)
			fill_quality(db, id, a);
		else
			log_warn("model %lld: no quality report: %s", (long long)id, why);
		json_decref(a);
	}
	if (glb) {
		if (fd >= 0)
			close(fd);
		if (tmp_src[0])
			unlink(tmp_src);
		*result = json_pack("{s:I, s:s}", "model_id", id, "skipped", "the GLB is there already");
		return JOB_DONE;
	}
	random_hex(hex, 16);
	snprintf(out, sizeof(out), "%s/convert-%s.glb", store_tmp_dir(), hex);
	json_t *analysis = NULL;
	int64_t t0 = now_ms();
	enum convert_result cr = model_convert(src, format, out, &analysis, err, errlen);
	int64_t took = now_ms() - t0;
	if (fd >= 0)
		close(fd);
	if (tmp_src[0])
		unlink(tmp_src);
	if (cr == CONVERT_BAD_FILE) {
		mark_failed(db, id, err);
		return JOB_FAILED;
	}
	if (cr == CONVERT_UNAVAILABLE)
		goto unavailable;

	char new_key[64];
	snprintf(new_key, sizeof(new_key), "derived/%s.glb", hex);
	struct stat sb;
	int64_t bytes = stat(out, &sb) ? 0 : (int64_t)sb.st_size;
	json_int_t polys = json_integer_value(json_object_get(analysis, "poly_count"));
	if (no_quality && blend)
		fill_quality(db, id, analysis);
	json_decref(analysis);
	if (!store_put(out, new_key, "model/gltf-binary", err, errlen)) {
		unlink(out);
		goto unavailable;
	}
	/* The row after the file; a model deleted meanwhile keeps nothing. */
	int64_t n = DBX(db, "UPDATE models SET viewer_key = $2, conversion_status = 'done', conversion_error = NULL"
			    " WHERE id = $1 AND deleted_at IS NULL", P_INT(id), P_TEXT(new_key));
	if (n != 1) {
		store_delete(new_key);
		if (n < 0) {
			snprintf(err, errlen, "database: record the GLB");
			return JOB_RETRY;
		}
		*result = json_pack("{s:I, s:s}", "model_id", id, "skipped", "the model was deleted meanwhile");
		return JOB_DONE;
	}
	if (old_viewer[0] && strcmp(old_viewer, new_key))
		store_delete(old_viewer);
	cache_invalidate(CACHE_MODELS);
	log_info("model %lld converted from %s to GLB in %lld ms (%lld bytes)", (long long)id, format,
		 (long long)took, (long long)bytes);
	*result = json_pack("{s:I, s:s, s:I, s:I, s:I}", "model_id", id, "viewer_key", new_key, "bytes",
			    (json_int_t)bytes, "poly_count", polys, "ms", (json_int_t)took);
	return JOB_DONE;

unavailable:
	if (job->attempt >= job->max_attempts)
		mark_failed(db, id, err);
	return JOB_RETRY;
}

void model_convert_register(void)
{
	if (!job_kind_known(MODEL_CONVERT_JOB))
		job_register(MODEL_CONVERT_JOB, convert_run, MODEL_CONVERT_ATTEMPTS, CONVERT_JOB_TIMEOUT_MS);
}
