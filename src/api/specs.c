/*
 * specs.c: a model's spec sheet, POST /api/models/{id}/download-specs
 * (issue 13, point 5): the quality report the analysis measured
 * (media/quality.h) with the model's facts, as JSON, or with
 * format=pdf (query or body) as a one-page PDF with the thumbnail
 * (media/specsheet.h), drawn on a pool thread.
 *
 * Whoever may see the model may download it: everyone for a public
 * (approved, published) model, its owner and admins otherwise; anyone else
 * gets the 404 of a missing model.
 */
#include <fcntl.h>
#include <unistd.h>
#include <glib.h>
#include "api.h"
#include "models_common.h"
#include "../core/config.h"
#include "../core/log.h"
#include "../core/util.h"
#include "../http/pool.h"
#include "../http/reply.h"
#include "../http/request.h"
#include "../http/validate.h"
#include "../media/image.h"
#include "../media/specsheet.h"
#include "../svc/storage.h"
#include "../svc/storage_s3.h"

#define THUMB_MAX_BYTES ((size_t)16 << 20)
#define THUMB_SIDE 400

/* The spec sheet of a row of MODEL_COLS: the model's facts, its quality
 * report and badge. */
static json_t *spec_of(db_rows_t *r, bool priv)
{
	json_t *m = model_json(r, priv);
	if (!m)
		return NULL;
	json_t *model = json_object();
	static const char *const keep[] = {
		"id", "title", "creator", "category", "license", "file_format", "file_size", "poly_count",
		"vertex_count", "has_animations", "has_rigging", "has_textures", "thumbnail_url", "status",
		"created_at", "updated_at",
	};
	for (size_t i = 0; i < ARRAY_LEN(keep); i++)
		json_object_set(model, keep[i], json_object_get(m, keep[i]));
	json_t *spec = json_pack("{s:o, s:O, s:O, s:O, s:o}", "model", model,
				 "quality_badge", json_object_get(m, "quality_badge"),
				 "quality", json_object_get(m, "quality"),
				 "conversion_status", json_object_get(m, "conversion_status"),
				 "generated_at", json_time(now_ms()));
	json_decref(m);
	return spec;
}

struct pdf_job {
	json_t *spec;
	char *thumb_key; /* NULL: none */
	char *pdf;
	size_t len;
	char err[256];
};

static void pdf_release(void *p)
{
	struct pdf_job *j = p;
	json_decref(j->spec);
	free(j->pdf);
}

/* The stored thumbnail's bytes (our own re-encoded image), or NULL. */
static unsigned char *read_thumb(const char *key, size_t *len)
{
	char tmp[512] = "";
	int fd;
	if (store_is_s3()) {
		char hex[33], err[256];
		random_hex(hex, 16);
		snprintf(tmp, sizeof(tmp), "%s/spec-thumb-%s", store_tmp_dir(), hex);
		if (!s3_get_file(key, tmp, err, sizeof(err))) {
			unlink(tmp);
			return NULL;
		}
		fd = open(tmp, O_RDONLY | O_CLOEXEC);
	} else {
		uint64_t size;
		fd = store_open_local(key, &size);
	}
	unsigned char *buf = NULL;
	size_t n = 0;
	if (fd >= 0) {
		off_t size = lseek(fd, 0, SEEK_END);
		if (size > 0 && (size_t)size <= THUMB_MAX_BYTES && lseek(fd, 0, SEEK_SET) == 0) {
			buf = xmalloc((size_t)size);
			while (n < (size_t)size) {
				ssize_t r = read(fd, buf + n, (size_t)size - n);
				if (r <= 0)
					break;
				n += (size_t)r;
			}
			if (n != (size_t)size) {
				free(buf);
				buf = NULL;
			}
		}
		close(fd);
	}
	if (tmp[0])
		unlink(tmp);
	*len = n;
	return buf;
}

static void pdf_work(void *ctx)
{
	struct pdf_job *j = ctx;
	unsigned char *thumb = NULL;
	size_t thumb_len = 0;
	void *png = NULL;
	size_t png_len = 0;
	if (j->thumb_key && (thumb = read_thumb(j->thumb_key, &thumb_len))) {
		bool is_png = thumb_len > 8 && !memcmp(thumb, "\x89PNG\r\n\x1a\n", 8);
		char why[256];
		/* PNG straight to cairo; JPEG and WebP through libvips to PNG */
		if (!is_png && !image_png_thumb(thumb, thumb_len, THUMB_SIDE, &png, &png_len, why, sizeof(why)))
			log_warn("spec sheet: thumbnail %s not used: %s", j->thumb_key, why);
	}
	const unsigned char *img = png ? png : (thumb && thumb_len > 8 && !memcmp(thumb, "\x89PNG", 4)) ? thumb : NULL;
	size_t img_len = png ? png_len : thumb_len;
	if (!specsheet_pdf(j->spec, img, img_len, &j->pdf, &j->len, j->err, sizeof(j->err)))
		j->pdf = NULL;
	g_free(png);
	free(thumb);
}

static int pdf_done(req_t *req, void *ctx)
{
	struct pdf_job *j = ctx;
	if (!j->pdf) {
		log_error("spec sheet PDF: %s", j->err);
		return reply_internal(req, "spec sheet");
	}
	json_t *model = json_object_get(j->spec, "model");
	req_add_header(req, "Content-Disposition",
		       arena_printf(req->arena, "attachment; filename=\"model-%lld-specs.pdf\"",
				    (long long)json_integer_value(json_object_get(model, "id"))));
	return reply_bytes(req, 200, "application/pdf", j->pdf, j->len);
}

/* "json" (default) or "pdf", from the query or the body; NULL after a
 * 400 when neither. */
static const char *read_format(req_t *req)
{
	const char *f = req_query(req, "format");
	json_t *b = json_object_get(req_body(req), "format");
	if (b && !json_is_string(b)) {
		reply_error_status(req, 400, ERR_VALIDATION, "format must be \"json\" or \"pdf\"");
		return NULL;
	}
	if (b)
		f = json_string_value(b);
	if (!f || !*f)
		return "json";
	if (strcmp(f, "json") && strcmp(f, "pdf")) {
		reply_error_status(req, 400, ERR_VALIDATION, "format must be \"json\" or \"pdf\"");
		return NULL;
	}
	return f;
}

static int models_download_specs(req_t *req)
{
	struct model_ref m;
	if (!model_find_or_404(req, &m, false, true))
		return DONE;
	const char *format = read_format(req);
	if (!format)
		return DONE;
	db_rows_t *r = RQ(req, "SELECT " MODEL_COLS MODEL_FROM " WHERE m.id = $1", P_INT(m.id));
	if (!r)
		return reply_db_error(req, "read model");
	if (!db_next(r))
		return db_failed(r) ? reply_db_error(req, "read model") : reply_error(req, ERR_NOT_FOUND, "Model not found");
	bool priv = req->user && (req->user->is_admin || req->user->id == m.creator_id);
	json_t *spec = spec_of(r, priv);
	if (!spec)
		return reply_internal(req, "spec sheet");
	if (!strcmp(format, "json"))
		return reply_ok(req, spec);

	struct pdf_job *j = arena_alloc(req->arena, sizeof(*j));
	memset(j, 0, sizeof(*j));
	j->spec = spec;
	arena_defer(req->arena, pdf_release, j);
	/* thumbnail_url is CDN_URL/files/images/...: one of our stored images */
	const char *url = json_string_value(json_object_get(json_object_get(spec, "model"), "thumbnail_url"));
	size_t n = strlen(cfg.cdn_url);
	if (url && !strncmp(url, cfg.cdn_url, n) && !strncmp(url + n, "/files/images/", 14))
		j->thumb_key = arena_strdup(req->arena, url + n + 7);
	return pool_defer(req, POOL_IMAGE, pdf_work, pdf_done, j);
}

const route_t spec_routes[] = {
	{ M_POST, "/api/models/{id:int}/download-specs", models_download_specs, ACCESS_OPTIONAL, RL_GENERAL, BODY_JSON, 0, 0,
	  "The model's spec sheet: JSON, or a one-page PDF with format=pdf" },
};
EXPORT_ROUTES(spec_routes);
