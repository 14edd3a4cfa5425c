/*
 * render_jobs.c: thumbnails and turntable videos as durable jobs, and
 * the storage helpers the screenshot route shares (render_jobs.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>
#include "render_jobs.h"
#include "cache.h"
#include "jobs.h"
#include "sigv4.h"
#include "storage.h"
#include "storage_s3.h"
#include "../core/config.h"
#include "../core/log.h"
#include "../core/util.h"
#include "../media/render.h"

bool render_write_tmp(const void *buf, size_t len, char *out, size_t outlen)
{
	char name[33];
	random_hex(name, 16);
	snprintf(out, outlen, "%s/render-%s.tmp", store_tmp_dir(), name);
	int fd = open(out, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return false;
	const char *p = buf;
	while (len) {
		ssize_t w = write(fd, p, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			close(fd);
			unlink(out);
			return false;
		}
		p += w;
		len -= (size_t)w;
	}
	if (close(fd)) {
		unlink(out);
		return false;
	}
	return true;
}

int render_model_open(const char *key, char *tmp, size_t tmplen, char *err, size_t errlen)
{
	tmp[0] = '\0';
	if (!key || !*key) {
		snprintf(err, errlen, "the model has no file");
		return -1;
	}
	if (!store_is_s3()) {
		uint64_t size;
		int fd = store_open_local(key, &size);
		if (fd < 0)
			snprintf(err, errlen, "the model file is missing");
		return fd;
	}
	char name[33];
	random_hex(name, 16);
	snprintf(tmp, tmplen, "%s/render-%s.model", store_tmp_dir(), name);
	if (!s3_get_file(key, tmp, err, errlen)) {
		unlink(tmp);
		tmp[0] = '\0';
		return -1;
	}
	int fd = open(tmp, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "cannot read the downloaded model");
		unlink(tmp);
		tmp[0] = '\0';
	}
	return fd;
}

bool render_store_file(const char *path, const char *ext, const char *content_type, char *key, char *sha,
		       int64_t *size, char *err, size_t errlen)
{
	struct stat st;
	FILE *f = fopen(path, "rbe");
	bool hashed = f && fstat(fileno(f), &st) == 0 && sigv4_sha256_file(f, sha);
	if (f)
		fclose(f);
	if (!hashed) {
		snprintf(err, errlen, "cannot read the rendered file");
		unlink(path);
		return false;
	}
	*size = (int64_t)st.st_size;
	char hex[33];
	random_hex(hex, 16);
	snprintf(key, 64, "images/%s.%s", hex, ext);
	return store_put(path, key, content_type, err, errlen);
}

bool render_record(db_t *db, int64_t owner, const char *key, const char *sha, int64_t size, const char *kind,
		   const char *ext, const char *content_type, const char *name, int width, int height, char *err,
		   size_t errlen)
{
	int64_t id = 0;
	if (DBS(db, &id,
		"INSERT INTO uploads (user_id, kind, storage_key, original_name, content_type, file_format,"
		" size_bytes, sha256, width, height, analysis, created_at)"
		" VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, NULL, $11) RETURNING id",
		P_INT(owner), P_TEXT(kind), P_TEXT(key), P_TEXT(name), P_TEXT(content_type),
		P_TEXT(!strcmp(ext, "png") ? "PNG" : !strcmp(ext, "mp4") ? "MP4" : "WEBM"), P_INT(size),
		P_TEXT(sha), width ? P_INT(width) : P_NULL, height ? P_INT(height) : P_NULL, P_INT(now_ms())) != 1) {
		snprintf(err, errlen, "cannot record the rendered file: %s", db_errmsg(db));
		return false;
	}
	return true;
}

char *render_store(db_t *db, int64_t owner, const char *path, const char *kind, const char *ext,
		   const char *content_type, const char *name, int width, int height, char *err, size_t errlen)
{
	char key[64], sha[SIGV4_HEX_LEN];
	int64_t size = 0;
	if (!render_store_file(path, ext, content_type, key, sha, &size, err, errlen))
		return NULL;
	if (!render_record(db, owner, key, sha, size, kind, ext, content_type, name, width, height, err, errlen)) {
		store_delete(key);
		return NULL;
	}
	return store_public_url(key);
}

/* ---------------------------------------------------------------- jobs */

struct model_row {
	int64_t creator;
	char key[300], format[16];
	bool has_thumb;
};

/* The model of the payload, if it still exists; false with err. */
static bool load_model(db_t *db, const job_t *job, struct model_row *m, int64_t *id, char *err, size_t errlen)
{
	json_t *mid = json_object_get(job->payload, "model_id");
	*id = json_is_integer(mid) ? (int64_t)json_integer_value(mid) : 0;
	/* The GLB the viewer shows when the model has one (svc/model_convert.h):
	 * it is what buyers see, and the only way to render a .blend that
	 * assimp cannot read. */
	db_rows_t *r = DBQ(db, "SELECT creator_id, COALESCE(viewer_key, file_key),"
			   " CASE WHEN viewer_key IS NOT NULL THEN 'GLB' ELSE file_format END, thumbnail_url,"
			   " conversion_status FROM models WHERE id = $1 AND deleted_at IS NULL", P_INT(*id));
	if (!r) {
		snprintf(err, errlen, "database: %s", db_errmsg(db));
		return false;
	}
	if (!db_next(r)) {
		db_done(r);
		snprintf(err, errlen, "the model is gone");
		return false;
	}
	m->creator = db_int(r, 0);
	snprintf(m->key, sizeof(m->key), "%s", db_text(r, 1) ? db_text(r, 1) : "");
	snprintf(m->format, sizeof(m->format), "%s", db_text(r, 2) ? db_text(r, 2) : "");
	m->has_thumb = db_text(r, 3) && *db_text(r, 3);
	bool converting = db_text(r, 4) && !strcmp(db_text(r, 4), "pending");
	db_done(r);
	if (converting && !strcmp(m->format, "BLEND")) { /* a retry finds its GLB */
		snprintf(err, errlen, "waiting for the model's GLB conversion");
		return false;
	}
	return true;
}

static enum job_outcome thumbnail_run(db_t *db, const job_t *job, json_t **result, char *err, size_t errlen)
{
	struct model_row m;
	int64_t id;
	if (!load_model(db, job, &m, &id, err, errlen))
		return strstr(err, "gone") ? JOB_FAILED : JOB_RETRY;
	if (m.has_thumb) {
		*result = json_pack("{s:b}", "skipped", 1);
		return JOB_DONE;
	}
	job_progress(db, job->id, 10, "rendering");
	char tmp[4200];
	int fd = render_model_open(m.key, tmp, sizeof(tmp), err, errlen);
	if (fd < 0)
		return JOB_RETRY;
	struct render_opts o;
	render_opts_default(&o);
	unsigned char *png = NULL;
	size_t len = 0;
	int64_t t0 = mono_us();
	bool ok = render_png(fd, m.format, &o, &png, &len, err, errlen);
	close(fd);
	if (tmp[0])
		unlink(tmp);
	if (!ok)
		return JOB_FAILED; /* the file's fault: the same file fails again */
	int64_t render_ms = (mono_us() - t0) / 1000;
	job_progress(db, job->id, 80, "storing");
	char path[4200];
	if (!render_write_tmp(png, len, path, sizeof(path))) {
		free(png);
		snprintf(err, errlen, "cannot write the thumbnail");
		return JOB_RETRY;
	}
	free(png);
	char *url = render_store(db, m.creator, path, "image", "png", "image/png", "thumbnail.png", o.width,
				 o.height, err, errlen);
	if (!url)
		return JOB_RETRY;
	int64_t n = DBX(db, "UPDATE models SET thumbnail_url = $2 WHERE id = $1 AND (thumbnail_url IS NULL OR thumbnail_url = '')",
			P_INT(id), P_TEXT(url));
	if (n < 0) {
		free(url);
		snprintf(err, errlen, "cannot set the thumbnail: %s", db_errmsg(db));
		return JOB_RETRY;
	}
	cache_invalidate(CACHE_MODELS);
	*result = json_pack("{s:s, s:b, s:I}", "thumbnail_url", url, "applied", n == 1, "render_ms", (json_int_t)render_ms);
	free(url);
	return JOB_DONE;
}

struct video_progress {
	db_t *db;
	int64_t job_id;
};

static void video_progress(void *arg, int pct)
{
	struct video_progress *vp = arg;
	job_progress(vp->db, vp->job_id, 5 + pct * 85 / 100, "rendering");
}

static int json_int_in(json_t *p, const char *k, int lo, int hi, int def)
{
	json_t *v = json_object_get(p, k);
	if (!json_is_integer(v))
		return def;
	json_int_t n = json_integer_value(v);
	return n < lo ? lo : n > hi ? hi : (int)n;
}

static double json_num_in(json_t *p, const char *k, double lo, double hi, double def)
{
	json_t *v = json_object_get(p, k);
	if (!json_is_number(v))
		return def;
	double d = json_number_value(v);
	return !isfinite(d) ? def : d < lo ? lo : d > hi ? hi : d;
}

static enum job_outcome video_run(db_t *db, const job_t *job, json_t **result, char *err, size_t errlen)
{
	struct model_row m;
	int64_t id;
	json_t *p = job->payload;
	if (!load_model(db, job, &m, &id, err, errlen))
		return strstr(err, "gone") ? JOB_FAILED : JOB_RETRY;
	/* The route checked all of these; bounded again, the payload is data. */
	struct render_opts o;
	render_opts_default(&o);
	o.width = json_int_in(p, "width", RENDER_MIN_SIZE, VIDEO_MAX_W, 1280) & ~1; /* yuv420p: even sizes */
	o.height = json_int_in(p, "height", RENDER_MIN_SIZE, VIDEO_MAX_H, 720) & ~1;
	o.yaw = json_num_in(p, "yaw", -360, 360, 30);
	o.pitch = json_num_in(p, "pitch", -89, 89, 20);
	o.distance = json_num_in(p, "distance", 0.5, 10, 1);
	const char *bg = json_string_value(json_object_get(p, "background"));
	if (bg && strcmp(bg, "transparent"))
		render_background_parse(bg, &o);
	render_lighting_parse(json_string_value(json_object_get(p, "lighting")), &o.lighting);
	const char *format = json_string_value(json_object_get(p, "format"));
	struct video_progress vp = { db, job->id };
	struct render_video v = {
		.seconds = json_int_in(p, "duration_s", 1, 20, 5),
		.fps = json_int_in(p, "fps", 10, 30, 24),
		.mp4 = format && !strcmp(format, "mp4"),
		.progress = video_progress,
		.progress_arg = &vp,
	};
	job_progress(db, job->id, 5, "rendering");
	char tmp[4200];
	int fd = render_model_open(m.key, tmp, sizeof(tmp), err, errlen);
	if (fd < 0)
		return JOB_RETRY;
	char out[4200], name[33];
	random_hex(name, 16);
	snprintf(out, sizeof(out), "%s/render-%s.%s", store_tmp_dir(), name, v.mp4 ? "mp4" : "webm");
	int64_t t0 = mono_us();
	bool ok = render_video(fd, m.format, &o, &v, out, err, errlen);
	close(fd);
	if (tmp[0])
		unlink(tmp);
	if (!ok)
		return JOB_FAILED;
	int64_t ms = (mono_us() - t0) / 1000;
	job_progress(db, job->id, 95, "storing");
	struct stat st;
	int64_t bytes = stat(out, &st) == 0 ? (int64_t)st.st_size : 0;
	const char *ctype = v.mp4 ? "video/mp4" : "video/webm";
	char *url = render_store(db, m.creator, out, "video", v.mp4 ? "mp4" : "webm", ctype,
				 v.mp4 ? "turntable.mp4" : "turntable.webm", o.width, o.height, err, errlen);
	if (!url)
		return JOB_RETRY;
	if (DBX(db, "UPDATE models SET video_url = $2, updated_at = $3 WHERE id = $1", P_INT(id), P_TEXT(url),
		P_INT(now_ms())) < 0) {
		free(url);
		snprintf(err, errlen, "cannot record the video: %s", db_errmsg(db));
		return JOB_RETRY;
	}
	cache_invalidate(CACHE_MODELS);
	*result = json_pack("{s:s, s:s, s:i, s:i, s:i, s:i, s:I, s:I}", "video_url", url, "content_type", ctype,
			    "seconds", v.seconds, "fps", v.fps, "width", o.width, "height", o.height,
			    "bytes", (json_int_t)bytes, "render_ms", (json_int_t)ms);
	free(url);
	return JOB_DONE;
}

bool render_thumbnails_enabled(void)
{
	const char *v = config_get("RENDER_THUMBNAILS");
	return !v || !*v || !(strcmp(v, "off") == 0 || strcmp(v, "false") == 0 || strcmp(v, "0") == 0);
}

void render_jobs_register(void)
{
	if (!job_kind_known(RENDER_THUMB_JOB))
		job_register(RENDER_THUMB_JOB, thumbnail_run, 6, 5 * 60 * 1000); /* a .blend waits for its GLB */
	/* Up to 20 s x 30 fps at 1080p (about 8 minutes of CPU), in
	 * segments of their own limits. */
	if (!job_kind_known(RENDER_VIDEO_JOB))
		job_register(RENDER_VIDEO_JOB, video_run, 2, 45 * 60 * 1000);
}
