/*
 * model_render.c: server-side renders of a model (media/render.h).
 *
 * POST /api/models/{id}/screenshot renders one PNG, off the poll thread
 * (the analysis pool, bounded: a full queue is 503).  Anyone signed in who
 * may see the model may render it and gets the image/png bytes; only its
 * owner or an admin may store a render ("store": true) or an image they
 * uploaded ("upload_id") among its preview images: then the answer is
 * 201 JSON {url, preview_images}.
 *
 * POST /api/models/{id}/record-video queues a "model_video" job (owner or
 * admin: it writes models.video_url) and answers 202 {job_id, status}; 409
 * while one of the same model is queued or running.
 *
 * Both are in the upload rate-limit class (RATE_LIMIT_UPLOAD).
 */
#include <math.h>
#include <unistd.h>
#include "api.h"
#include "models_common.h"
#include "../core/log.h"
#include "../core/util.h"
#include "../http/pool.h"
#include "../http/reply.h"
#include "../http/request.h"
#include "../http/validate.h"
#include "../media/render.h"
#include "../svc/cache.h"
#include "../svc/jobs.h"
#include "../svc/render_jobs.h"
#include "../svc/sigv4.h"
#include "../svc/storage.h"

#define MAX_PREVIEWS 10

static const char *const LIGHTINGS[] = { "studio", "outdoor", "dark", NULL };
static const char *const VIDEO_FORMATS[] = { "webm", "mp4", NULL };

/* A number field within lo..hi (an integer is a number too). */
static double v_number(valid_t *v, const char *field, double lo, double hi, double def)
{
	json_t *x = json_object_get(v->obj, field);
	if (!x || json_is_null(x))
		return def;
	double d = json_number_value(x);
	if (!json_is_number(x) || !isfinite(d) || d < lo || d > hi) {
		v_error(v, field, arena_printf(v->req->arena, "Must be a number from %g to %g", lo, hi));
		return def;
	}
	return d;
}

/* The camera, light and background fields shared by both routes. */
static void read_view(valid_t *v, struct render_opts *o, bool video)
{
	o->yaw = v_number(v, "yaw", -360, 360, o->yaw);
	o->pitch = v_number(v, "pitch", -89, 89, o->pitch);
	o->distance = v_number(v, "distance", 0.5, 10, o->distance);
	const char *light = v_enum(v, "lighting", 0, LIGHTINGS, "studio");
	if (light)
		render_lighting_parse(light, &o->lighting);
	const char *bg = v_str(v, "background", 0, 1, 16);
	if (bg && (!render_background_parse(bg, o) || (video && o->transparent)))
		v_error(v, "background", video ? "Must be a colour #rrggbb (a video has no transparency)"
					       : "Must be a colour #rrggbb or \"transparent\"");
}

/* The model's file, for the renderer. */
static bool model_file(req_t *req, int64_t id, const char **key, const char **format)
{
	db_rows_t *r = RQ(req, "SELECT file_key, file_format FROM models WHERE id = $1", P_INT(id));
	if (!r || !db_next(r) || !db_text(r, 0))
		return false;
	*key = arena_strdup(req->arena, db_text(r, 0));
	*format = arena_strdup(req->arena, db_text(r, 1) ? db_text(r, 1) : "");
	return true;
}

/* Appends url to the model's preview images; 1 done, 0 full, -1 error. */
static int add_preview(req_t *req, int64_t id, const char *url, json_t **list)
{
	db_rows_t *r = RQ(req, "SELECT preview_images FROM models WHERE id = $1", P_INT(id));
	if (!r || !db_next(r))
		return -1;
	json_t *a = db_text(r, 0) ? json_loads(db_text(r, 0), 0, NULL) : NULL;
	if (!json_is_array(a)) {
		json_decref(a);
		a = json_array();
	}
	if (json_array_size(a) >= MAX_PREVIEWS) {
		json_decref(a);
		return 0;
	}
	json_array_append_new(a, json_string(url));
	char *text = json_dumps(a, JSON_COMPACT);
	int64_t n = DBX(req->db, "UPDATE models SET preview_images = $2, updated_at = $3 WHERE id = $1", P_INT(id),
			P_TEXT(text), P_INT(now_ms()));
	free(text);
	if (n != 1) {
		json_decref(a);
		return -1;
	}
	cache_invalidate(CACHE_MODELS);
	*list = a;
	return 1;
}

static int reply_stored_preview(req_t *req, int64_t id, const char *url)
{
	json_t *list = NULL;
	int rc = add_preview(req, id, url, &list);
	if (rc < 0)
		return reply_db_error(req, "add preview image");
	if (rc == 0)
		return reply_error(req, ERR_CONFLICT,
				   arena_printf(req->arena, "A model has at most %d preview images", MAX_PREVIEWS));
	return reply_json(req, 201, json_pack("{s:s, s:o}", "url", url, "preview_images", list));
}

struct shot {
	int64_t model_id, owner;
	const char *key, *format;
	struct render_opts o;
	bool store;
	/* out */
	bool ok, file_fault;
	unsigned char *png;
	size_t png_len;
	char skey[64], sha[SIGV4_HEX_LEN];
	int64_t size;
	char err[300];
};

static void shot_release(void *p)
{
	struct shot *s = p;
	free(s->png);
}

static void shot_work(void *ctx)
{
	struct shot *s = ctx;
	char tmp[4200];
	int fd = render_model_open(s->key, tmp, sizeof(tmp), s->err, sizeof(s->err));
	if (fd < 0)
		return;
	s->ok = render_png(fd, s->format, &s->o, &s->png, &s->png_len, s->err, sizeof(s->err));
	s->file_fault = !s->ok;
	close(fd);
	if (tmp[0])
		unlink(tmp);
	if (!s->ok || !s->store)
		return;
	char path[4200];
	s->file_fault = false;
	if (!render_write_tmp(s->png, s->png_len, path, sizeof(path))) {
		snprintf(s->err, sizeof(s->err), "cannot write the screenshot");
		s->ok = false;
		return;
	}
	s->ok = render_store_file(path, "png", "image/png", s->skey, s->sha, &s->size, s->err, sizeof(s->err));
}

static int shot_done(req_t *req, void *ctx)
{
	struct shot *s = ctx;
	if (!s->ok && s->file_fault)
		return reply_error(req, ERR_VALIDATION,
				   arena_printf(req->arena, "This model cannot be rendered: %s", s->err));
	if (!s->ok)
		return reply_internal(req, arena_strdup(req->arena, s->err));
	if (!s->store)
		return reply_bytes(req, 200, "image/png", s->png, s->png_len);
	char err[300];
	if (!render_record(req->db, s->owner, s->skey, s->sha, s->size, "image", "png", "image/png", "screenshot.png",
			   s->o.width, s->o.height, err, sizeof(err))) {
		store_delete_later(req->db, s->skey);
		return reply_db_error(req, "record screenshot");
	}
	char *url = store_public_url(s->skey);
	char *u = arena_strdup(req->arena, url);
	free(url);
	return reply_stored_preview(req, s->model_id, u);
}

/* An image upload of the caller's, as its public URL; NULL if not one. */
static const char *own_image_upload(req_t *req, int64_t upload_id)
{
	db_rows_t *r = RQ(req, "SELECT storage_key FROM uploads WHERE id = $1 AND user_id = $2 AND kind = 'image'",
			  P_INT(upload_id), P_INT(req->user->id));
	if (!r || !db_next(r))
		return NULL;
	char *url = store_public_url(db_text(r, 0));
	char *u = arena_strdup(req->arena, url);
	free(url);
	return u;
}

static int models_screenshot(req_t *req)
{
	struct model_ref m;
	if (!model_find_or_404(req, &m, false, true))
		return DONE;
	bool owner = req->user->is_admin || req->user->id == m.creator_id;
	struct shot *s = arena_alloc(req->arena, sizeof(*s));
	memset(s, 0, sizeof(*s));
	arena_defer(req->arena, shot_release, s);
	render_opts_default(&s->o);
	valid_t v;
	v_init(&v, req, req_body(req));
	s->o.width = (int)v_int(&v, "width", 0, RENDER_MIN_SIZE, RENDER_MAX_SIZE, 1024);
	s->o.height = (int)v_int(&v, "height", 0, RENDER_MIN_SIZE, RENDER_MAX_SIZE, 768);
	read_view(&v, &s->o, false);
	s->store = v_bool(&v, "store", 0, false);
	int64_t upload_id = v_int(&v, "upload_id", 0, 1, INT64_MAX, 0);
	if (!v_ok(&v))
		return v_reply(&v);
	if ((s->store || upload_id) && !owner)
		return reply_error(req, ERR_FORBIDDEN, "Only the model's owner can add preview images");
	if (upload_id) {
		const char *url = own_image_upload(req, upload_id);
		if (!url)
			return reply_invalid1(req, "upload_id", "Must be an image you uploaded");
		return reply_stored_preview(req, m.id, url);
	}
	if (!model_file(req, m.id, &s->key, &s->format))
		return reply_error(req, ERR_NOT_FOUND, "This model has no file to render");
	s->model_id = m.id;
	s->owner = m.creator_id;
	return pool_defer(req, POOL_ANALYZE, shot_work, shot_done, s);
}

static int models_record_video(req_t *req)
{
	struct model_ref m;
	if (!model_find_or_404(req, &m, true, true))
		return DONE;
	struct render_opts o;
	render_opts_default(&o);
	valid_t v;
	v_init(&v, req, req_body(req));
	int64_t seconds = v_int(&v, "duration_s", 0, 1, 20, 5);
	int64_t w = v_int(&v, "width", 0, 64, VIDEO_MAX_W, 1280);
	int64_t h = v_int(&v, "height", 0, 64, VIDEO_MAX_H, 720);
	int64_t fps = v_int(&v, "fps", 0, 10, 30, 24);
	const char *format = v_enum(&v, "format", 0, VIDEO_FORMATS, "webm");
	read_view(&v, &o, true);
	if (!v_ok(&v))
		return v_reply(&v);
	const char *key, *ff;
	if (!model_file(req, m.id, &key, &ff))
		return reply_error(req, ERR_NOT_FOUND, "This model has no file to render");
	/* One video of a model at a time (the payload starts with its id). */
	int64_t busy = 0;
	if (DBS(req->db, &busy, "SELECT COUNT(*) FROM jobs WHERE kind = $1 AND status IN ('queued', 'running')"
		" AND payload LIKE $2", P_TEXT(RENDER_VIDEO_JOB),
		P_TEXT(arena_printf(req->arena, "{\"model_id\":%lld,%%", (long long)m.id))) != 1)
		return reply_db_error(req, "find video jobs");
	if (busy)
		return reply_error(req, ERR_CONFLICT, "A video of this model is already being made");
	json_t *p = json_pack("{s:I, s:I, s:I, s:I, s:I, s:s, s:f, s:f, s:f, s:s}", "model_id", (json_int_t)m.id,
			      "duration_s", (json_int_t)seconds, "width", (json_int_t)w, "height", (json_int_t)h,
			      "fps", (json_int_t)fps, "format", format, "yaw", o.yaw, "pitch", o.pitch, "distance",
			      o.distance, "lighting", render_lighting_name(o.lighting));
	if (o.has_background)
		json_object_set_new(p, "background",
				    json_string(arena_printf(req->arena, "#%02x%02x%02x", o.background[0],
							     o.background[1], o.background[2])));
	char *payload = json_dumps(p, JSON_COMPACT);
	json_decref(p);
	int64_t job = 0;
	bool ok = job_enqueue(req->db, RENDER_VIDEO_JOB, payload, req->user->id, &job);
	free(payload);
	if (!ok)
		return reply_db_error(req, "queue video");
	return reply_json(req, 202, json_pack("{s:I, s:s}", "job_id", (json_int_t)job, "status", "queued"));
}

const route_t model_render_routes[] = {
	{ M_POST, "/api/models/{id:int}/screenshot", models_screenshot, ACCESS_USER, RL_UPLOAD, BODY_JSON, 0, 0, "Render a PNG of the model, or store one as a preview image (owner)" },
	{ M_POST, "/api/models/{id:int}/record-video", models_record_video, ACCESS_USER, RL_UPLOAD, BODY_JSON, 0, 0, "Queue a turntable video of your model (202 with a job)" },
};
EXPORT_ROUTES(model_render_routes);
