/*
 * render_jobs.h: what the server does with the renderer (media/render.h):
 * the "model_thumbnail" and "model_video" jobs, and the helpers the
 * screenshot route shares with them (a model's file as a local fd, a
 * rendered file stored like an uploaded one).
 *
 * Stored renders: PNG images under "images/<random>.png", videos under
 * "images/<random>.webm|.mp4" (the public area), each with an uploads row
 * of the model's creator (kind 'image' or 'video'), so that
 * GET /files/images/... serves them, a model's thumbnail_url and
 * preview_images refer to them like uploaded images (the sweep keeps
 * them), and their ETag is their SHA-256.
 *
 * "model_thumbnail" {model_id, notify: "failed"}: renders 800x600 (studio
 * light, yaw 30, pitch 20) and sets models.thumbnail_url when the model
 * still has none.  Enqueued by POST /api/models when no thumbnail was
 * given, and by `hwc3d render-thumbnails` for models without one.
 *
 * "model_video" {model_id, seconds, fps, width, height, format ("webm" |
 * "mp4"), yaw, pitch, distance, background, lighting}: a turntable, with
 * progress (job_progress) per rendered segment, stored and written to
 * models.video_url; result {video_url, content_type, seconds, fps, width,
 * height, bytes}.
 *
 * Both run on job workers (never a poll thread); their owner is notified
 * by jobs.c when they end for good.
 */
#ifndef HWC_RENDER_JOBS_H
#define HWC_RENDER_JOBS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "../db/db.h"

#define RENDER_THUMB_JOB "model_thumbnail"
#define RENDER_VIDEO_JOB "model_video"

/* RENDER_THUMBNAILS=on|off (default on): whether POST /api/models queues
 * a thumbnail.  The API tests turn it off but for their own server
 * (tests/api/test_render.py), so that no background render races the
 * documents other tests compare. */
bool render_thumbnails_enabled(void);

/* Registers the two kinds (called by job_init). */
void render_jobs_register(void);

/* An fd on the stored model file key: the local file, or (S3) a copy
 * downloaded into tmp (then tmp[0] != 0: unlink it after closing).  -1
 * with err on failure.  Slow with S3: off the poll thread. */
int render_model_open(const char *key, char *tmp, size_t tmplen, char *err, size_t errlen);

/* Stores the file at path (consumed) as "images/<random>.<ext>" with an
 * uploads row of owner (kind "image" or "video"), and returns its public
 * URL (malloc'd) or NULL with err.  The row is written outside any
 * transaction. */
char *render_store(db_t *db, int64_t owner, const char *path, const char *kind, const char *ext,
		   const char *content_type, const char *name, int width, int height, char *err, size_t errlen);

/* The two halves of render_store, for callers that may not touch the
 * database where they store (a pool worker) : render_store_file stores
 * path (consumed) under a new key (written to key, 64 bytes) with its
 * SHA-256 (hex, 65 bytes) and size; render_record writes the uploads row
 * (false with err; the caller then deletes the key). */
bool render_store_file(const char *path, const char *ext, const char *content_type, char *key, char *sha,
		       int64_t *size, char *err, size_t errlen);
bool render_record(db_t *db, int64_t owner, const char *key, const char *sha, int64_t size, const char *kind,
		   const char *ext, const char *content_type, const char *name, int width, int height, char *err,
		   size_t errlen);

/* Writes buf to a new temp file under store_tmp_dir(); its path in out. */
bool render_write_tmp(const void *buf, size_t len, char *out, size_t outlen);

#endif
