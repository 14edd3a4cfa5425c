/*
 * ai.c: POST /api/ai/generate-tags (issue 13, point 6): ranked tags and a
 * suggested category for an upload or a model, from what the platform
 * measured (svc/tagger.h).
 *
 * Nothing slow runs on the poll thread: the tag vocabulary and the
 * categories are read on POOL_DB, the thumbnail's colours computed on
 * POOL_IMAGE (its sandboxed child), the optional remote model asked on
 * POOL_NET (AI_TAGS_TIMEOUT_S at most); then the answer is put together.
 */
#include <math.h>
#include <unistd.h>
#include "api.h"
#include "../core/log.h"
#include "../core/util.h"
#include "../http/pool.h"
#include "../http/reply.h"
#include "../http/request.h"
#include "../http/validate.h"
#include "../svc/storage.h"
#include "../svc/tagger.h"

#define VOCAB_MAX 5000
#define TAGS_MAX 20

struct tag_job {
	req_t *req;
	json_t *analysis, *vocab, *cats, *tags;
	const char *title, *description;
	int thumb_fd;
	const char *thumb_format;
	bool db_failed, colours_done, remote_done;
	char colour_err[200], remote_err[200];
	bool remote_ok;
};

static void job_release(void *p)
{
	struct tag_job *j = p;
	json_decref(j->analysis);
	json_decref(j->vocab);
	json_decref(j->cats);
	json_decref(j->tags);
	if (j->thumb_fd >= 0)
		close(j->thumb_fd);
}

/* ---- pool work ---- */

static void vocab_work(void *ctx)
{
	struct tag_job *j = ctx;
	db_t *db = j->req->db;
	j->vocab = json_array();
	j->cats = json_array();
	if (!db) {
		j->db_failed = true;
		return;
	}
	/* the most used tags, from the counts kept per tag (migration 0027) */
	db_rows_t *r = DBQ(db, "SELECT tag FROM tag_counts WHERE n > 0 ORDER BY n DESC, tag LIMIT $1",
			   P_INT(VOCAB_MAX));
	while (r && db_next(r))
		json_array_append_new(j->vocab, json_string(db_text(r, 0)));
	j->db_failed = !r || db_failed(r);
	db_done(r);
	r = DBQ0(db, "SELECT id, name, slug FROM categories WHERE is_active = TRUE ORDER BY sort_order, id");
	while (r && db_next(r))
		json_array_append_new(j->cats, json_pack("{s:I, s:s, s:s}", "id", (json_int_t)db_int(r, 0), "name",
							 db_text(r, 1), "slug", db_text(r, 2)));
	j->db_failed = j->db_failed || !r || db_failed(r);
	db_done(r);
}

static void colour_work(void *ctx)
{
	struct tag_job *j = ctx;
	char path[64];
	snprintf(path, sizeof(path), "/proc/self/fd/%d", j->thumb_fd);
	if (!tagger_colours(j->tags, path, j->thumb_format, j->colour_err, sizeof(j->colour_err)))
		log_info("generate-tags: no colours: %s", j->colour_err);
	j->colours_done = true;
}

static void remote_work(void *ctx)
{
	struct tag_job *j = ctx;
	j->remote_ok = tagger_remote(j->tags, j->analysis, j->title, j->description, j->remote_err,
				     sizeof(j->remote_err));
	if (!j->remote_ok)
		log_warn("generate-tags: AI_TAGS_URL ignored: %s", j->remote_err);
	j->remote_done = true;
}

/* ---- the answer ---- */

/* The category whose name or slug words best match the tags. */
static json_t *suggest_category(struct tag_job *j)
{
	json_t *best = NULL;
	double best_score = 0;
	size_t i;
	json_t *c;
	json_array_foreach(j->cats, i, c) {
		char *both = xasprintf("%s %s", json_string_value(json_object_get(c, "name")),
				       json_string_value(json_object_get(c, "slug")));
		json_t *words = tagger_words(both);
		free(both);
		double score = 0;
		size_t k;
		json_t *w;
		json_array_foreach(words, k, w) {
			const char *s = json_string_value(w);
			json_t *t = json_object_get(j->tags, s);
			size_t n = strlen(s);
			/* "chairs" matches "chair" and the other way round */
			if (!t && n > 3 && s[n - 1] == 's') {
				char *stem = xstrndup(s, n - 1);
				t = json_object_get(j->tags, stem);
				free(stem);
			}
			if (!t) {
				char *plural = xasprintf("%ss", s);
				t = json_object_get(j->tags, plural);
				free(plural);
			}
			if (t)
				score += json_real_value(json_object_get(t, "score"));
		}
		json_decref(words);
		if (score > best_score) {
			best_score = score;
			best = c;
		}
	}
	if (!best)
		return json_null();
	json_t *out = json_deep_copy(best);
	json_object_set_new(out, "score", json_real(round((best_score > 1 ? 1 : best_score) * 100) / 100));
	return out;
}

static int tags_next(req_t *req, void *ctx);

static int tags_answer(req_t *req, struct tag_job *j)
{
	if (j->db_failed)
		return reply_db_error(req, "read tag vocabulary");
	tagger_from_analysis(j->tags, j->analysis);
	tagger_from_text(j->tags, j->title, j->description, j->vocab);
	const char *remote = !tagger_remote_configured() ? "not_configured" : j->remote_ok ? "used" : "failed";
	json_t *body = json_pack("{s:o, s:o, s:{s:s, s:s}}", "tags", tagger_ranked(j->tags, TAGS_MAX), "category",
				 suggest_category(j), "sources", "remote", remote, "colours",
				 j->thumb_fd < 0 ? "no_thumbnail" : j->colour_err[0] ? "failed" : "used");
	return reply_ok(req, body);
}

/* Runs the next slow step, or answers. */
static int tags_next(req_t *req, void *ctx)
{
	struct tag_job *j = ctx;
	if (j->thumb_fd >= 0 && !j->colours_done)
		return pool_defer(req, POOL_IMAGE, colour_work, tags_next, j);
	if (tagger_remote_configured() && !j->remote_done)
		return pool_defer(req, POOL_NET, remote_work, tags_next, j);
	return tags_answer(req, j);
}

/* ---- the handler ---- */

/* The thumbnail: an image upload of the caller's (image_id), or the
 * model's thumbnail from its public URL (".../files/KEY"); local storage
 * only. */
static void open_thumbnail(req_t *req, struct tag_job *j, int64_t image_id, const char *url)
{
	const char *key = url ? strstr(url, "/files/") : NULL;
	db_rows_t *r = NULL;
	if (image_id)
		r = DBQ(req->db, "SELECT storage_key, file_format FROM uploads WHERE kind = 'image' AND id = $1"
			" AND (user_id = $2 OR $3 = TRUE)", P_INT(image_id), P_INT(req->user->id), P_BOOL(req->user->is_admin));
	else if (key)
		r = DBQ(req->db, "SELECT storage_key, file_format FROM uploads WHERE kind = 'image' AND storage_key = $1",
			P_TEXT(key + 7));
	if (r && db_next(r) && !store_is_s3()) {
		uint64_t size;
		j->thumb_fd = store_open_local(db_text(r, 0), &size);
		j->thumb_format = arena_strdup(req->arena, db_text(r, 1));
	}
	db_done(r);
}

static int ai_generate_tags(req_t *req)
{
	valid_t v;
	v_init(&v, req, req_body(req));
	int64_t upload_id = v_int(&v, "upload_id", 0, 1, INT64_MAX, 0);
	int64_t model_id = v_int(&v, "model_id", 0, 1, INT64_MAX, 0);
	int64_t image_id = v_int(&v, "image_upload_id", 0, 1, INT64_MAX, 0);
	const char *title = v_str(&v, "title", V_NULLABLE, 0, 200);
	const char *description = v_str(&v, "description", V_MULTILINE | V_NULLABLE, 0, 5000);
	if (v_ok(&v) && !upload_id == !model_id)
		v_error(&v, upload_id ? "model_id" : "upload_id", "Give exactly one of upload_id and model_id");
	if (!v_ok(&v))
		return v_reply(&v);
	struct tag_job *j = arena_calloc(req->arena, sizeof(*j));
	j->req = req;
	j->thumb_fd = -1;
	j->tags = json_object();
	arena_defer(req->arena, job_release, j);
	db_rows_t *r;
	if (upload_id)
		r = DBQ(req->db, "SELECT analysis, NULL, NULL, NULL FROM uploads WHERE id = $1 AND kind = 'model'"
			" AND (user_id = $2 OR $3 = TRUE)", P_INT(upload_id), P_INT(req->user->id), P_BOOL(req->user->is_admin));
	else
		r = DBQ(req->db, "SELECT u.analysis, m.title, m.description, m.thumbnail_url FROM models m"
			" LEFT JOIN uploads u ON u.id = m.upload_id WHERE m.id = $1 AND m.deleted_at IS NULL"
			" AND (m.creator_id = $2 OR $3 = TRUE)", P_INT(model_id), P_INT(req->user->id),
			P_BOOL(req->user->is_admin));
	if (!r)
		return reply_db_error(req, "read model");
	if (!db_next(r)) {
		db_done(r);
		/* someone else's looks exactly like a missing one */
		return reply_error(req, ERR_NOT_FOUND, upload_id ? "Upload not found" : "Model not found");
	}
	j->analysis = db_text(r, 0) ? json_loads(db_text(r, 0), 0, NULL) : NULL;
	j->title = title ? title : db_text(r, 1) ? arena_strdup(req->arena, db_text(r, 1)) : NULL;
	j->description = description ? description : db_text(r, 2) ? arena_strdup(req->arena, db_text(r, 2)) : NULL;
	const char *thumb_url = db_text(r, 3) ? arena_strdup(req->arena, db_text(r, 3)) : NULL;
	db_done(r);
	open_thumbnail(req, j, image_id, image_id ? NULL : thumb_url);
	return pool_defer(req, POOL_DB, vocab_work, tags_next, j);
}

const route_t ai_routes[] = {
	{ M_POST, "/api/ai/generate-tags", ai_generate_tags, ACCESS_USER, RL_GENERAL, BODY_JSON, 0, 0,
	  "Suggested tags and category for an upload or a model" },
};
EXPORT_ROUTES(ai_routes);
