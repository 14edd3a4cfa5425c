/*
 * models.c: a creator's models (create, edit, publish, delete) and what
 * everyone does with one (view, like, comment, share), plus the owner's
 * analytics.  Lists and search are in marketplace.c, moderation in
 * admin_models.c.
 */
#include "api.h"
#include "files.h"
#include "models_common.h"
#include "safety.h"
#include "../auth/account.h"
#include "../core/config.h"
#include "../core/log.h"
#include "../core/strbuf.h"
#include "../core/util.h"
#include "../http/pool.h"
#include "../http/reply.h"
#include "../http/request.h"
#include "../http/validate.h"
#include "../media/fingerprint.h"
#include "../svc/audit.h"
#include "../svc/settings.h"
#include "../svc/cache.h"
#include "../svc/model_convert.h"
#include "../media/quality.h"
#include "../svc/render_jobs.h"
#include "../svc/rollup.h"
#include "../svc/storage.h"
#include "paged.h"
#include "social.h"
#include "update.h"

#define MAX_TAGS 20
#define MAX_PREVIEWS 10
#define MAX_PRICE_CENTS 1000000 /* $10,000.00 */

static const char *const licenses[] = { "standard", "extended", "editorial", "cc0", "cc-by", "cc-by-sa", NULL };

/* Replies with the model document (for its owner: with private fields). */
static int reply_model(req_t *req, int64_t id, int status)
{
	db_rows_t *r = RQ(req, "SELECT " MODEL_COLS MODEL_FROM " WHERE m.id = $1", P_INT(id));
	if (!r)
		return reply_db_error(req, "read model");
	if (!db_next(r))
		return reply_error(req, ERR_NOT_FOUND, "Model not found");
	bool priv = req->user && (req->user->is_admin || req->user->id == db_int(r, MC_CREATOR_ID));
	json_t *m = model_json(r, priv);
	if (!models_mark_mine(req, m)) {
		json_decref(m);
		return reply_db_error(req, "read likes");
	}
	return reply_json(req, status, m);
}

/* tags: up to 20 of 1-30 characters, lowercased, without duplicates; as a
 * JSON array text (arena) or NULL when absent/invalid. */
static char *read_tags(valid_t *v, json_t **out_list)
{
	*out_list = NULL;
	const char **items;
	size_t n = v_str_array(v, "tags", 0, MAX_TAGS, 1, 30, &items);
	if (!items)
		return NULL;
	json_t *clean = json_array();
	for (size_t i = 0; i < n; i++) {
		if (strchr(items[i], ',')) {
			v_error(v, "tags", "Each tag must be 1-30 characters, without commas");
			json_decref(clean);
			return NULL;
		}
		char *low = utf8_lower(v->req->arena, items[i]);
		bool dup = false;
		size_t k;
		json_t *e;
		json_array_foreach(clean, k, e)
			dup |= !strcmp(json_string_value(e), low);
		if (!dup)
			json_array_append_new(clean, json_string(low));
	}
	*out_list = clean;
	arena_defer(v->req->arena, (void (*)(void *))json_decref, clean);
	return arena_json_dumps(v->req->arena, clean, JSON_COMPACT);
}

/* An image URL is accepted only if it is one of the caller's own image
 * uploads: never a foreign URL. */
static bool own_image(req_t *req, const char *url)
{
	size_t n = strlen(cfg.cdn_url);
	if (strncmp(url, cfg.cdn_url, n) || strncmp(url + n, "/files/images/", 14))
		return false;
	int64_t c = 0;
	return DBS(req->db, &c, "SELECT COUNT(*) FROM uploads WHERE storage_key = $1 AND user_id = $2 AND kind = 'image'",
		   P_TEXT(url + n + 7), P_INT(req->user->id)) == 1 && c == 1;
}

static const char *check_own_image(req_t *req, const char *url)
{
	return own_image(req, url) ? NULL : "Must be the URL of an image you uploaded";
}

static const char *read_thumbnail(valid_t *v)
{
	const char *u = v_str(v, "thumbnail_url", V_NULLABLE, 0, URL_MAX_CHARS);
	const char *problem = u && *u ? check_own_image(v->req, u) : NULL;
	if (problem) {
		v_error(v, "thumbnail_url", problem);
		return NULL;
	}
	return u;
}

static char *read_previews(valid_t *v)
{
	json_t *j = json_object_get(v->obj, "preview_images");
	if (!j)
		return NULL;
	if (!json_is_array(j) || json_array_size(j) > MAX_PREVIEWS) {
		v_error(v, "preview_images", "Must be a list of at most 10 image URLs");
		return NULL;
	}
	size_t i;
	json_t *u;
	json_array_foreach(j, i, u) {
		if (!json_is_string(u) || json_string_length(u) > 500 || !own_image(v->req, json_string_value(u))) {
			v_error(v, "preview_images", "Each must be the URL of an image you uploaded");
			return NULL;
		}
	}
	return arena_json_dumps(v->req->arena, j, JSON_COMPACT);
}

/* category_id: an active category; -1 when absent, 0 after an error. */
static int64_t read_category(valid_t *v, int flags)
{
	if (!v_present(v, "category_id")) {
		if (flags & V_REQUIRED)
			v_error(v, "category_id", "This field is required");
		return -1;
	}
	int64_t id = v_int(v, "category_id", flags, 1, INT64_MAX, 0);
	if (!id)
		return 0;
	int64_t ok = 0;
	if (DBS(v->req->db, &ok, "SELECT COUNT(*) FROM categories WHERE id = $1 AND is_active = TRUE", P_INT(id)) != 1 || !ok) {
		v_error(v, "category_id", "No such category");
		return 0;
	}
	return id;
}

static bool replace_tags(db_t *db, int64_t model_id, json_t *tags)
{
	if (DBX(db, "DELETE FROM model_tags WHERE model_id = $1", P_INT(model_id)) < 0)
		return false;
	size_t i;
	json_t *t;
	json_array_foreach(tags, i, t)
		if (DBX(db, "INSERT INTO model_tags (model_id, tag) VALUES ($1, $2)", P_INT(model_id),
			P_TEXT(json_string_value(t))) != 1)
			return false;
	return true;
}

struct upload_info {
	const char *key, *format;
	int64_t id, size, polys, verts;
	bool anim, rig, tex, has_fp;
	fingerprint_t fp;
	const char *quality, *badge; /* the quality report (media/quality.h); NULL: none */
};

/* The caller's model upload, not used by another model. */
static bool read_upload(valid_t *v, struct upload_info *u)
{
	int64_t id = v_int(v, "upload_id", V_REQUIRED, 1, INT64_MAX, 0);
	if (!id)
		return false;
	req_t *req = v->req;
	db_rows_t *r = DBQ(req->db,
		"SELECT storage_key, file_format, size_bytes, analysis FROM uploads"
		" WHERE id = $1 AND user_id = $2 AND kind = 'model'"
		" AND NOT EXISTS (SELECT 1 FROM models WHERE upload_id = $1)", P_INT(id), P_INT(req->user->id));
	if (!r || !db_next(r)) {
		db_done(r);
		v_error(v, "upload_id", "Must be a model file you uploaded and have not used yet");
		return false;
	}
	u->key = arena_strdup(req->arena, db_text(r, 0));
	u->format = arena_strdup(req->arena, db_text(r, 1));
	u->size = db_int(r, 2);
	json_error_t e;
	json_t *a = db_text(r, 3) ? json_loads(db_text(r, 3), 0, &e) : NULL;
	db_done(r);
	u->polys = json_integer_value(json_object_get(a, "poly_count"));
	u->verts = json_integer_value(json_object_get(a, "vertex_count"));
	u->anim = json_is_true(json_object_get(a, "has_animations"));
	u->rig = json_is_true(json_object_get(a, "has_rigging"));
	u->tex = json_is_true(json_object_get(a, "has_textures"));
	u->has_fp = fingerprint_from_json(json_object_get(a, "fingerprint"), &u->fp);
	u->id = id;
	json_t *q = json_object_get(a, "quality");
	u->badge = quality_badge(q) ? arena_strdup(req->arena, quality_badge(q)) : NULL;
	u->quality = u->badge ? arena_json_dumps(req->arena, q, QUALITY_DUMP_FLAGS) : NULL;
	json_decref(a);
	return true;
}

/* What models_create validated, kept while the safety scan runs. */
struct new_model {
	const char *title, *description;
	bool is_free;
	int64_t price, category;
	json_t *tag_list;
	char *tags;
	const char *license, *thumb;
	char *previews;
	struct upload_info up;
};

/* The model's geometry fingerprint, for later duplicate lookups. */
static bool store_fingerprint(db_t *db, int64_t model_id, const fingerprint_t *fp)
{
	char *vec = fingerprint_encode(fp);
	int64_t n = DBX(db, "INSERT INTO model_fingerprints (model_id, fp_key, vec, created_at) VALUES ($1, $2, $3, $4)",
			P_INT(model_id), P_INT(fingerprint_key(fp->triangles)), P_TEXT(vec), P_INT(now_ms()));
	free(vec);
	return n == 1;
}

static int models_create_scanned(req_t *req, void *ctx, const char *verdict, json_t *scan);

/* A new model waits for moderation unless the platform settings say
 * otherwise (admin settings: model_approval_required); either way the
 * audit log records it.  In the caller's transaction. */
static bool model_created(req_t *req, int64_t id, const char *title)
{
	platform_settings_t ps;
	settings_get(req->db, &ps);
	if (!ps.model_approval_required &&
	    DBX(req->db, "UPDATE models SET status = 'approved' WHERE id = $1", P_INT(id)) != 1)
		return false;
	audit_log(req->db, req, "model.create", "model", id, json_pack("{s:s, s:s}", "title", title, "status",
			ps.model_approval_required ? "pending" : "approved"));
	return true;
}

static int models_create(req_t *req)
{
	if (strcmp(req->user->user_type, "creator"))
		return reply_error(req, ERR_FORBIDDEN, "Only creator accounts can publish models; switch your account to creator in settings");
	valid_t v;
	v_init(&v, req, req_body(req));
	const char *title = v_str(&v, "title", V_REQUIRED, 3, 120);
	const char *description = v_str(&v, "description", V_MULTILINE | V_NULLABLE, 0, 5000);
	bool is_free = v_bool(&v, "is_free", 0, false);
	int64_t price = v_money(&v, "price", 0, MAX_PRICE_CENTS, 0);
	int64_t category = read_category(&v, V_REQUIRED);
	json_t *tag_list;
	char *tags = read_tags(&v, &tag_list);
	const char *license = v_enum(&v, "license", 0, licenses, "standard");
	const char *thumb = read_thumbnail(&v);
	char *previews = read_previews(&v);
	struct upload_info up = { 0 };
	bool have_upload = read_upload(&v, &up);
	if (!is_free && v_present(&v, "price") && price == 0)
		is_free = true;
	if (is_free)
		price = 0;
	else if (!v_present(&v, "price"))
		v_error(&v, "price", "Give a price, or set is_free");
	if (!v_ok(&v) || !have_upload)
		return v_reply(&v);
	struct new_model *n = arena_calloc(req->arena, sizeof(*n));
	*n = (struct new_model){ title, description, is_free, price, category, tag_list, tags, license, thumb,
				 previews, up };
	/* The upload's latest safety scan (run now when there is none). */
	return safety_gate(req, up.id, models_create_scanned, n);
}

static int models_create_scanned(req_t *req, void *ctx, const char *verdict, json_t *scan)
{
	struct new_model *n = ctx;
	if (!strcmp(verdict, "unsafe")) {
		/* The first critical finding is the reason given. */
		const char *why = "it failed the safety scan";
		size_t i;
		json_t *f;
		json_array_foreach(json_object_get(scan, "findings"), i, f) {
			const char *sev = json_string_value(json_object_get(f, "severity"));
			const char *msg = json_string_value(json_object_get(f, "message"));
			if (sev && msg && !strcmp(sev, "critical")) {
				why = msg;
				break;
			}
		}
		json_t *fe = json_pack("{s:[s]}", "upload_id", arena_printf(req->arena,
				       "This upload failed the safety scan and cannot be published: %s", why));
		return reply_error_fields(req, ERR_VALIDATION, "This model failed the safety scan", fe);
	}
	const char *title = n->title, *description = n->description, *license = n->license, *thumb = n->thumb;
	bool is_free = n->is_free;
	int64_t price = n->price, category = n->category;
	json_t *tag_list = n->tag_list;
	char *tags = n->tags, *previews = n->previews;
	struct upload_info up = n->up;
	int64_t now = now_ms(), id = 0;
	bool glb = !strcmp(up.format, "GLB");
	if (!db_begin(req->db))
		return reply_db_error(req, "begin");
	if (DBS(req->db, &id,
		"INSERT INTO models (creator_id, title, description, price_cents, is_free, category_id, tags, license,"
		" upload_id, file_key, file_format, file_size, poly_count, vertex_count, has_animations, has_rigging,"
		" has_textures, thumbnail_url, preview_images, created_at, updated_at, quality, quality_badge,"
		" conversion_status)"
		" VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $20,"
		" $21, $22, $23) RETURNING id",
		P_INT(req->user->id), P_TEXT(title), P_TEXT(description ? description : ""), P_INT(price),
		P_BOOL(is_free), P_INT(category), P_TEXT(tags ? tags : "[]"), P_TEXT(license),
		P_INT(up.id), P_TEXT(up.key),
		P_TEXT(up.format), P_INT(up.size), P_INT(up.polys), P_INT(up.verts), P_BOOL(up.anim),
		P_BOOL(up.rig), P_BOOL(up.tex), P_TEXT(thumb && *thumb ? thumb : NULL),
		P_TEXT(previews ? previews : "[]"), P_INT(now), P_TEXT(up.quality), P_TEXT(up.badge),
		P_TEXT(glb ? "done" : "pending")) != 1 ||
	    (tag_list && !replace_tags(req->db, id, tag_list)) ||
	    (up.has_fp && !store_fingerprint(req->db, id, &up.fp)) || !model_created(req, id, title) ||
	    /* every other format gets a GLB for the viewer (svc/model_convert.h) */
	    (!glb && !model_convert_enqueue(req->db, id, req->user->id, false)) ||
	    !db_commit(req->db)) { /* models_count: triggers (0009_model_counts.sql) */
		db_rollback(req->db);
		if (db_error(req->db) == DB_ERR_UNIQUE) /* another request took this upload first */
			return reply_invalid1(req, "upload_id", "Must be a model file you uploaded and have not used yet");
		return reply_db_error(req, "create model");
	}
	cache_invalidate(CACHE_MODELS);
	cache_invalidate(CACHE_CATEGORIES);
	/* No thumbnail given: the renderer makes one (render_jobs.h); its
	 * owner hears of it only if it fails. */
	if (!(thumb && *thumb) && render_thumbnails_enabled()) {
		char payload[96];
		snprintf(payload, sizeof(payload), "{\"model_id\":%lld,\"notify\":\"failed\"}", (long long)id);
		if (!job_enqueue(req->db, RENDER_THUMB_JOB, payload, req->user->id, NULL))
			log_warn("model %lld: cannot queue its thumbnail: %s", (long long)id, db_errmsg(req->db));
	}
	return reply_model(req, id, 201);
}

/*
 * A public model page the cache lacks.  On PostgreSQL it is looked up on
 * the pool (POOL_LOOKUP) with the other pages that wait at the same time:
 * one round trip for all of them, where a round trip for each cost most of
 * a cold page (about 10,000 a second on 2 cores, against 150,000 rows a
 * second in batches of 16).  On SQLite a lookup is a few microseconds in
 * this process and stays on the poll thread.
 */
struct model_lookup {
	req_t *req;
	int64_t id;
	const char *key;
	uint64_t gen;
	enum { LOOKUP_NOT_FOUND, LOOKUP_OK, LOOKUP_UNAVAILABLE, LOOKUP_FAILED } status;
	char *text; /* malloc'd */
	size_t len;
};

/* On a worker: the documents of a batch of ids in one query.  Each
 * request's db is the worker's connection now (pool.h). */
static void lookup_batch(void **ctxs, size_t n)
{
	struct model_lookup **lk = (struct model_lookup **)ctxs;
	req_t *req = lk[0]->req;
	bool failed = !req->db;
	db_rows_t *r = NULL;
	if (!failed) {
		int64_t ids[POOL_BATCH_MAX];
		for (size_t i = 0; i < n; i++)
			ids[i] = lk[i]->id;
		/* IN ($1..$k), k the power of two from n up, the last id
		 * repeated: seven statements in all, each planned once.  With
		 * "= ANY($1)" PostgreSQL planned every lookup again (its
		 * generic plan assumes 10 ids, and a custom plan for 1-3
		 * looked cheaper): a third more of its CPU in the random mix. */
		size_t k = 1;
		while (k < n)
			k *= 2;
		strbuf_t sql;
		sb_init(&sql, 0);
		sb_adds(&sql, "SELECT " MODEL_COLS MODEL_FROM " WHERE " MODEL_PUBLIC " AND m.id IN (");
		db_param_t p[POOL_BATCH_MAX];
		for (size_t i = 0; i < k; i++) {
			p[i] = P_INT(ids[i < n ? i : n - 1]);
			sb_addf(&sql, "%s$%zu", i ? ", " : "", i + 1);
		}
		sb_addc(&sql, ')');
		r = sql.overflow ? NULL : db_query(req->db, sql.buf, p, (int)k);
		sb_release(&sql);
		failed = !r;
	}
	while (!failed && db_next(r)) {
		int64_t id = db_int(r, MC_ID);
		strbuf_t doc;
		sb_init(&doc, 0);
		model_write(&doc, r, false, -1);
		failed = doc.overflow;
		/* Two requests for one id in a batch each get the text. */
		for (size_t i = 0; i < n && !failed; i++) {
			if (lk[i]->id != id || lk[i]->status == LOOKUP_OK)
				continue;
			lk[i]->text = xstrndup(doc.buf, doc.len);
			lk[i]->len = doc.len;
			lk[i]->status = LOOKUP_OK;
		}
		sb_release(&doc);
	}
	if (r) {
		failed |= db_failed(r);
		db_done(r);
	}
	/* The worker's connection failed, not the poll thread's: the answer
	 * is decided here (lost or busy: 503, as reply_db_error does). */
	enum db_err e = req->db ? db_error(req->db) : DB_ERR_CONN;
	bool unavailable = e == DB_ERR_CONN || e == DB_ERR_BUSY || e == DB_ERR_FULL;
	for (size_t i = 0; i < n && failed; i++) {
		free(lk[i]->text);
		lk[i]->text = NULL;
		lk[i]->status = unavailable ? LOOKUP_UNAVAILABLE : LOOKUP_FAILED;
	}
}

static int lookup_done(req_t *req, void *ctx)
{
	struct model_lookup *lk = ctx;
	switch (lk->status) {
	case LOOKUP_OK:
		return reply_json_text_cached(req, lk->text, lk->len, CACHE_MODELS, lk->key, lk->gen);
	case LOOKUP_NOT_FOUND: /* missing, deleted or not public alike */
		return reply_error(req, ERR_NOT_FOUND, "Model not found");
	case LOOKUP_UNAVAILABLE:
		return reply_error(req, ERR_UNAVAILABLE, "The database is busy; try again shortly");
	default:
		return reply_internal(req, "read model");
	}
}

static int models_get(req_t *req)
{
	/* A public model is the same document for every anonymous caller:
	 * one query, then served from memory until the next model write. */
	if (!req->user) {
		struct model_lookup *lk = arena_calloc(req->arena, sizeof(*lk));
		lk->req = req;
		lk->id = req_param_int(req, "id");
		lk->gen = cache_generation(CACHE_MODELS);
		lk->key = arena_printf(req->arena, "one|%lld", (long long)lk->id);
		if (cfg.db_kind == DB_PG) {
			/* No waiting here for another request's lookup of
			 * the same page: a poll thread must not sleep. */
			if (reply_from_cache_now(req, CACHE_MODELS, lk->key))
				return DONE;
			return pool_defer_batch(req, POOL_LOOKUP, lookup_batch, lookup_done, lk);
		}
		if (reply_from_cache(req, CACHE_MODELS, lk->key))
			return DONE;
		lookup_batch((void **)&lk, 1);
		return lookup_done(req, lk);
	}
	struct model_ref m;
	if (!model_find_or_404(req, &m, false, true))
		return DONE;
	return reply_model(req, m.id, 200);
}

/* The public viewer: only what everyone may see, whoever asks. */
static int models_public(req_t *req)
{
	struct model_ref m;
	if (!model_find_or_404(req, &m, false, false))
		return DONE;
	if (!m.is_public)
		return reply_error(req, ERR_NOT_FOUND, "Model not found");
	return reply_model(req, m.id, 200);
}

/* The file the 3D viewer shows, to whoever may see the model (everyone
 * for a public one; its owner and admins otherwise): the GLB conversion
 * made (svc/model_convert.h), or a GLB model's own file. */
static int models_viewer_file(req_t *req)
{
	struct model_ref m;
	if (!model_find_or_404(req, &m, false, true))
		return DONE;
	db_rows_t *r = RQ(req, "SELECT m.file_key, m.file_format, up.sha256, m.viewer_key, m.conversion_status"
			       " FROM models m LEFT JOIN uploads up ON up.storage_key = m.file_key WHERE m.id = $1",
			  P_INT(m.id));
	if (!r)
		return reply_db_error(req, "find model file");
	if (!db_next(r) || !db_text(r, 0))
		return db_failed(r) ? reply_db_error(req, "find model file")
				    : reply_error(req, ERR_NOT_FOUND, "This model has no file to show");
	const char *name = arena_printf(req->arena, "model-%lld.glb", (long long)m.id);
	if (db_text(r, 3)) {
		const char *vkey = arena_strdup(req->arena, db_text(r, 3));
		/* a new conversion is a new key: the key is the version */
		return reply_stored_file(req, vkey, "model/gltf-binary", arena_printf(req->arena, "\"%s\"", vkey),
					 name, false);
	}
	const char *key = arena_strdup(req->arena, db_text(r, 0));
	const char *format = db_text(r, 1) ? db_text(r, 1) : "";
	const char *status = db_text(r, 4) ? db_text(r, 4) : "";
	if (strcmp(format, "GLB"))
		return reply_error(req, ERR_NOT_FOUND, !strcmp(status, "failed")
			? "The 3D preview is not available: this model could not be converted"
			: "The 3D preview is being prepared; try again shortly");
	const char *etag = arena_printf(req->arena, "\"%s\"", db_text(r, 2) ? db_text(r, 2) : key);
	return reply_stored_file(req, key, "model/gltf-binary", etag, name, false);
}

enum { M_TITLE, M_DESCRIPTION, M_PRICE, M_IS_FREE, M_CATEGORY, M_TAGS, M_LICENSE, M_THUMBNAIL, M_PREVIEWS,
       M_FIELDS };

/* What the owner may change; status, is_featured, counters and the file
 * are not theirs to set. */
static const upd_field_t model_fields[M_FIELDS] = {
	[M_TITLE] = { .name = "title", .kind = UPD_TEXT, .min = 3, .max = 120 },
	[M_DESCRIPTION] = { .name = "description", .kind = UPD_TEXT, .flags = V_NULLABLE | V_MULTILINE, .min = 0, .max = 5000, .def_text = "" },
	/* price and is_free decide each other (models_update) */
	[M_PRICE] = { .name = "price", .column = "price_cents", .kind = UPD_HANDLER },
	[M_IS_FREE] = { .name = "is_free", .kind = UPD_HANDLER },
	[M_CATEGORY] = { .name = "category_id", .kind = UPD_HANDLER },
	[M_TAGS] = { .name = "tags", .kind = UPD_HANDLER },
	[M_LICENSE] = { .name = "license", .kind = UPD_ENUM, .allowed = licenses },
	[M_THUMBNAIL] = { .name = "thumbnail_url", .kind = UPD_TEXT, .flags = V_NULLABLE, .min = 0, .max = URL_MAX_CHARS, .check = check_own_image },
	[M_PREVIEWS] = { .name = "preview_images", .kind = UPD_HANDLER },
};

static int models_update(req_t *req)
{
	struct model_ref m;
	if (!model_find_or_404(req, &m, true, false))
		return DONE;
	valid_t v;
	v_init(&v, req, req_body(req));
	upd_value_t *in = upd_values(req, M_FIELDS);
	upd_read(&v, model_fields, M_FIELDS, false, in);
	bool is_free = v_bool(&v, "is_free", 0, false);
	int64_t price = v_money(&v, "price", 0, MAX_PRICE_CENTS, 0);
	int64_t category = read_category(&v, 0);
	json_t *tag_list;
	char *tags = read_tags(&v, &tag_list);
	char *previews = read_previews(&v);
	if (!v_ok(&v))
		return v_reply(&v);
	int64_t old_price = 0, old_category = 0;
	db_rows_t *cur = DBQ(req->db, "SELECT price_cents, category_id FROM models WHERE id = $1", P_INT(m.id));
	if (cur && db_next(cur)) {
		old_price = db_int(cur, 0);
		old_category = db_int(cur, 1);
	}
	db_done(cur);
	if (is_free) {
		price = 0;
	} else if (v_present(&v, "price")) {
		is_free = price == 0;
	} else if (v_present(&v, "is_free")) {
		/* not free any more: it needs a price */
		if (old_price == 0)
			return reply_invalid1(req, "price", "Give a price for a model that is not free");
		price = old_price;
	}
	if (v_present(&v, "price") || v_present(&v, "is_free")) {
		upd_put(&in[M_PRICE], P_INT(price));
		upd_put(&in[M_IS_FREE], P_BOOL(is_free));
	}
	if (category > 0)
		upd_put(&in[M_CATEGORY], P_INT(category));
	if (tags)
		upd_put(&in[M_TAGS], P_TEXT(tags));
	if (previews)
		upd_put(&in[M_PREVIEWS], P_TEXT(previews));
	if (!db_begin(req->db))
		return reply_db_error(req, "begin");
	int64_t changed = upd_update(req, "models", model_fields, M_FIELDS, in, m.id);
	bool moved = category > 0 && category != old_category;
	if (changed == 0) { /* deleted since it was found */
		db_rollback(req->db);
		return reply_model_write_failed(req, 0, "update model");
	}
	if (changed != 1 || (tag_list && !replace_tags(req->db, m.id, tag_list)) ||
	    !db_commit(req->db)) { /* models_count: triggers */
		db_rollback(req->db);
		return reply_db_error(req, "update model");
	}
	cache_invalidate(CACHE_MODELS);
	if (moved)
		cache_invalidate(CACHE_CATEGORIES);
	return reply_model(req, m.id, 200);
}

/* Deletes a model: sold ones stay for their buyers, hidden everywhere;
 * unsold ones go with their file. */
int models_remove(req_t *req, int64_t id, int64_t creator_id, int64_t sales)
{
	UNUSED(creator_id); /* models_count is kept by triggers */
	char *key = NULL, *viewer = NULL;
	db_rows_t *r = DBQ(req->db, "SELECT file_key, viewer_key FROM models WHERE id = $1", P_INT(id));
	if (r && db_next(r)) {
		key = db_text(r, 0) ? arena_strdup(req->arena, db_text(r, 0)) : NULL;
		viewer = db_text(r, 1) ? arena_strdup(req->arena, db_text(r, 1)) : NULL;
	}
	db_done(r);
	/* A model any order names stays, hidden: the books (orders, refunds,
	 * earnings) refer to it even when no purchase of it is live. */
	int64_t ordered = 0;
	if (DBS(req->db, &ordered, "SELECT COUNT(*) FROM order_items WHERE model_id = $1", P_INT(id)) < 0)
		return reply_db_error(req, "check orders");
	if (ordered > 0 && sales == 0)
		sales = ordered;
	if (!db_begin(req->db))
		return reply_db_error(req, "begin");
	int64_t gone = sales > 0
		? DBX(req->db, "UPDATE models SET deleted_at = $2, is_published = FALSE, is_featured = FALSE"
		      " WHERE id = $1 AND deleted_at IS NULL", P_INT(id), P_INT(now_ms()))
		: DBX(req->db, "DELETE FROM models WHERE id = $1", P_INT(id));
	if (gone == 0) {
		/* a concurrent delete came first: gone, not an error (and the
		 * counters were that request's to lower) */
		db_rollback(req->db);
		return reply_error(req, ERR_NOT_FOUND, "Model not found");
	}
	bool ok = gone == 1; /* models_count: triggers */
	if (!ok || !db_commit(req->db)) {
		db_rollback(req->db);
		return reply_db_error(req, "delete model");
	}
	/* The row before the file: a crash in between leaves an orphan file,
	 * which the sweep removes, never a row without its file. */
	if (sales == 0 && key && DBX(req->db, "DELETE FROM uploads WHERE storage_key = $1", P_TEXT(key)) >= 0)
		store_delete_later(req->db, key);
	if (sales == 0 && viewer) /* the converted GLB: derived, no upload row */
		store_delete_later(req->db, viewer);
	cache_invalidate(CACHE_MODELS);
	cache_invalidate(CACHE_CATEGORIES);
	return reply_ok(req, json_pack("{s:s, s:I}", "message", sales > 0
		? "Model removed from the marketplace; its buyers keep their downloads" : "Model deleted",
		"id", (json_int_t)id));
}

static int models_delete(req_t *req)
{
	struct model_ref m;
	if (!model_find_or_404(req, &m, true, false))
		return DONE;
	return models_remove(req, m.id, m.creator_id, m.sales_count);
}

static int models_toggle_publish(req_t *req)
{
	struct model_ref m;
	if (!model_find_or_404(req, &m, true, false))
		return DONE;
	/* Unpublishing is always allowed; publishing again is not when the
	 * upload's latest safety scan (a rescan since) says unsafe. */
	int64_t n = DBX(req->db, "UPDATE models SET is_published = NOT is_published, updated_at = $2 WHERE id = $1"
			" AND (is_published = TRUE OR COALESCE((SELECT s.verdict FROM upload_scans s"
			" WHERE s.upload_id = models.upload_id ORDER BY s.id DESC LIMIT 1), '') <> 'unsafe')",
			P_INT(m.id), P_INT(now_ms()));
	if (n == 0)
		return reply_error(req, ERR_CONFLICT, "This model's file failed its latest safety scan and cannot be published");
	if (n != 1)
		return reply_model_write_failed(req, n, "toggle publish");
	audit_log(req->db, req, "model.toggle_publish", "model", m.id, json_pack("{s:b}", "was_public", m.is_public));
	cache_invalidate(CACHE_MODELS);
	cache_invalidate(CACHE_CATEGORIES); /* models_count: public models */
	cache_invalidate(CACHE_USERS);
	return reply_model(req, m.id, 200);
}

static int models_creator(req_t *req)
{
	struct model_ref m;
	if (!model_find_or_404(req, &m, false, true))
		return DONE;
	db_rows_t *r = RQ(req, "SELECT " USER_PUBLIC_COLS " FROM users u WHERE u.id = $1", P_INT(m.creator_id));
	if (!r)
		return reply_db_error(req, "read creator");
	json_t *u = db_next(r) ? user_json_row(r) : NULL;
	if (!u)
		return reply_error(req, ERR_NOT_FOUND, "Creator not found");
	db_done(r);
	if (!follow_state_add(req, u, m.creator_id)) {
		json_decref(u);
		return reply_db_error(req, "read follow");
	}
	return reply_ok(req, u);
}

static int models_view(req_t *req)
{
	struct model_ref m;
	if (!model_find_or_404(req, &m, false, true))
		return DONE;
	const char *viewer = req->user ? arena_printf(req->arena, "u:%lld", (long long)req->user->id)
				       : arena_printf(req->arena, "ip:%s", req->ip);
	int64_t now = now_ms();
	if (!db_begin(req->db))
		return reply_db_error(req, "begin");
	int64_t fresh = DBX(req->db, "INSERT INTO model_views (model_id, viewer, hour) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
			    P_INT(m.id), P_TEXT(viewer), P_INT(now / 3600000));
	bool ok = fresh >= 0;
	if (ok && fresh == 1)
		ok = DBX(req->db, "UPDATE models SET views_count = views_count + 1 WHERE id = $1", P_INT(m.id)) == 1 &&
		     rollup_count(req->db, m.id, m.creator_id, ROLLUP_VIEW, now);
	int64_t views = 0;
	ok = ok && DBS(req->db, &views, "SELECT views_count FROM models WHERE id = $1", P_INT(m.id)) == 1;
	if (!ok || !db_commit(req->db)) {
		db_rollback(req->db);
		return reply_db_error(req, "count view");
	}
	return reply_ok(req, json_pack("{s:b, s:I}", "counted", fresh == 1, "views_count", (json_int_t)views));
}

static int like(req_t *req, bool on)
{
	struct model_ref m;
	if (!model_find_or_404(req, &m, false, true))
		return DONE;
	int64_t now = now_ms();
	if (!db_begin(req->db))
		return reply_db_error(req, "begin");
	/* The counter moves only when the row really changed: exact under
	 * concurrency, idempotent for repeats. */
	int64_t changed = on
		? DBX(req->db, "INSERT INTO model_likes (model_id, user_id, created_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
		      P_INT(m.id), P_INT(req->user->id), P_INT(now))
		: DBX(req->db, "DELETE FROM model_likes WHERE model_id = $1 AND user_id = $2", P_INT(m.id), P_INT(req->user->id));
	bool ok = changed >= 0;
	if (ok && changed == 1) {
		ok = DBX(req->db, on ? "UPDATE models SET likes_count = likes_count + 1 WHERE id = $1"
				     : "UPDATE models SET likes_count = likes_count - 1 WHERE id = $1 AND likes_count > 0",
			 P_INT(m.id)) >= 0;
		if (ok && on) {
			ok = rollup_count(req->db, m.id, m.creator_id, ROLLUP_LIKE, now);
			if (ok && m.creator_id != req->user->id)
				ok = notify(req->db, m.creator_id, "model_liked", "Someone liked your model",
					    arena_printf(req->arena, "%s liked '%s'", req->user->username, m.title),
					    arena_printf(req->arena, "/model/%lld", (long long)m.id));
		}
	}
	int64_t likes = 0;
	ok = ok && DBS(req->db, &likes, "SELECT likes_count FROM models WHERE id = $1", P_INT(m.id)) == 1;
	if (!ok || !db_commit(req->db)) {
		db_rollback(req->db);
		notify_discard();
		return reply_db_error(req, "like");
	}
	notify_flush();
	if (changed == 1)
		cache_invalidate(CACHE_MODELS);
	return reply_ok(req, json_pack("{s:b, s:I}", "is_liked", on, "likes_count", (json_int_t)likes));
}

static int models_like(req_t *req)
{
	return like(req, true);
}

static int models_unlike(req_t *req)
{
	return like(req, false);
}

static json_t *comment_json(db_rows_t *r)
{
	return json_pack("{s:I, s:I, s:s, s:o, s:{s:I, s:s, s:s?, s:s?}}", "id", (json_int_t)db_int(r, 0),
			 "model_id", (json_int_t)db_int(r, 1), "body", db_text(r, 2), "created_at", json_time(db_int(r, 3)),
			 "user", "id", (json_int_t)db_int(r, 4), "username", db_text(r, 5), "full_name", db_text(r, 6),
			 "avatar_url", db_text(r, 7));
}

#define COMMENT_SELECT \
	"SELECT k.id, k.model_id, k.body, k.created_at, u.id, u.username, u.full_name, u.avatar_url" \
	" FROM model_comments k JOIN users u ON u.id = k.user_id"

static int models_comments_list(req_t *req)
{
	struct model_ref m;
	if (!model_find_or_404(req, &m, false, true))
		return DONE;
	valid_t v;
	page_t p;
	paged_begin(&v, req, &p);
	if (!v_ok(&v))
		return v_reply(&v);
	db_param_t filters[] = { P_INT(m.id) };
	paged_t q = {
		.what = "list comments",
		.count_sql = "SELECT comments_count FROM models WHERE id = $1",
		/* a banned author's comments are hidden while the ban lasts */
		.rows_sql = COMMENT_SELECT " WHERE k.model_id = $1 AND u.is_banned = FALSE ORDER BY k.created_at DESC, k.id DESC",
		.params = filters, .nparams = 1,
		.row = comment_json,
	};
	return paged_reply(req, &p, &q);
}

static int models_comments_add(req_t *req)
{
	struct model_ref m;
	if (!model_find_or_404(req, &m, false, true))
		return DONE;
	valid_t v;
	v_init(&v, req, req_body(req));
	/* "body", or "content" as some clients name it */
	const char *field = v_present(&v, "body") || !v_present(&v, "content") ? "body" : "content";
	const char *body = v_str(&v, field, V_REQUIRED | V_MULTILINE, 1, 2000);
	if (!v_ok(&v))
		return v_reply(&v);
	int64_t id = 0;
	if (!db_begin(req->db))
		return reply_db_error(req, "begin");
	bool ok = DBS(req->db, &id, "INSERT INTO model_comments (model_id, user_id, body, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
		      P_INT(m.id), P_INT(req->user->id), P_TEXT(body), P_INT(now_ms())) == 1 &&
		  DBX(req->db, "UPDATE models SET comments_count = comments_count + 1 WHERE id = $1", P_INT(m.id)) == 1;
	if (ok && m.creator_id != req->user->id)
		ok = notify(req->db, m.creator_id, "comment_received", "New comment on your model",
			    arena_printf(req->arena, "%s commented on '%s'", req->user->username, m.title),
			    arena_printf(req->arena, "/model/%lld", (long long)m.id));
	if (!ok || !db_commit(req->db)) {
		db_rollback(req->db);
		notify_discard();
		return reply_db_error(req, "add comment");
	}
	notify_flush();
	cache_invalidate(CACHE_MODELS);
	db_rows_t *r = RQ(req, COMMENT_SELECT " WHERE k.id = $1", P_INT(id));
	json_t *c = r && db_next(r) ? comment_json(r) : NULL;
	return c ? reply_created(req, c) : reply_db_error(req, "read comment");
}

static int models_comments_delete(req_t *req)
{
	struct model_ref m;
	if (!model_find_or_404(req, &m, false, true))
		return DONE;
	int64_t cid = req_param_int(req, "comment_id"), author = 0;
	if (DBS(req->db, &author, "SELECT user_id FROM model_comments WHERE id = $1 AND model_id = $2", P_INT(cid), P_INT(m.id)) != 1)
		return reply_error(req, ERR_NOT_FOUND, "Comment not found");
	/* Its author, the model's owner and admins may remove a comment. */
	if (author != req->user->id && m.creator_id != req->user->id && !req->user->is_admin)
		return reply_error(req, ERR_FORBIDDEN, "You cannot delete this comment");
	if (!db_begin(req->db))
		return reply_db_error(req, "begin");
	/* The model's row first, then the comment: the order a model's delete
	 * takes them in (its row, then its comments by cascade), so that the
	 * two never wait on each other (PostgreSQL: deadlock). */
	if (DBX(req->db, "UPDATE models SET comments_count = comments_count - 1 WHERE id = $1 AND comments_count > 0",
		P_INT(m.id)) < 0) {
		db_rollback(req->db);
		return reply_db_error(req, "delete comment");
	}
	int64_t gone = DBX(req->db, "DELETE FROM model_comments WHERE id = $1", P_INT(cid));
	if (gone == 0) { /* a concurrent delete came first */
		db_rollback(req->db);
		return reply_error(req, ERR_NOT_FOUND, "Comment not found");
	}
	if (gone != 1 || !db_commit(req->db)) {
		db_rollback(req->db);
		return reply_db_error(req, "delete comment");
	}
	cache_invalidate(CACHE_MODELS);
	return reply_ok(req, json_pack("{s:s, s:I}", "message", "Comment deleted", "id", (json_int_t)cid));
}

static int models_share(req_t *req)
{
	struct model_ref m;
	if (!model_find_or_404(req, &m, false, false))
		return DONE;
	int64_t shares = 0;
	int n = DBS(req->db, &shares, "UPDATE models SET shares_count = shares_count + 1 WHERE id = $1 RETURNING shares_count",
		    P_INT(m.id));
	if (n != 1)
		return reply_model_write_failed(req, n, "share");
	return reply_ok(req, json_pack("{s:s, s:I}", "share_url",
		arena_printf(req->arena, "%s/view/%lld", cfg.frontend_url, (long long)m.id), "shares_count", (json_int_t)shares));
}

static int models_analytics(req_t *req)
{
	struct model_ref m;
	if (!model_find_or_404(req, &m, true, true))
		return DONE;
	valid_t v;
	v_init(&v, req, NULL);
	int64_t days = q_int(&v, "days", 1, 365, 30);
	if (!v_ok(&v))
		return v_reply(&v);
	int64_t today = epoch_day(now_ms());
	db_rows_t *r = RQ(req,
		"SELECT day, views, likes, sales, downloads FROM model_daily WHERE model_id = $1 AND day > $2 ORDER BY day",
		P_INT(m.id), P_INT(today - days));
	if (!r)
		return reply_db_error(req, "analytics");
	json_t *series = json_array();
	while (db_next(r)) {
		char date[32];
		iso8601_ms(db_int(r, 0) * 86400000, date);
		date[10] = '\0';
		json_array_append_new(series, json_pack("{s:s, s:I, s:I, s:I, s:I}", "date", date,
			"views", (json_int_t)db_int(r, 1), "likes", (json_int_t)db_int(r, 2),
			"sales", (json_int_t)db_int(r, 3), "downloads", (json_int_t)db_int(r, 4)));
	}
	r = RQ(req, "SELECT views_count, likes_count, sales_count, downloads_count, comments_count, shares_count"
		" FROM models WHERE id = $1", P_INT(m.id));
	json_t *totals = r && db_next(r)
		? json_pack("{s:I, s:I, s:I, s:I, s:I, s:I}", "views", (json_int_t)db_int(r, 0), "likes", (json_int_t)db_int(r, 1),
			    "sales", (json_int_t)db_int(r, 2), "downloads", (json_int_t)db_int(r, 3),
			    "comments", (json_int_t)db_int(r, 4), "shares", (json_int_t)db_int(r, 5))
		: json_object();
	return reply_ok(req, json_pack("{s:I, s:I, s:o, s:o}", "model_id", (json_int_t)m.id, "days", (json_int_t)days,
				       "totals", totals, "by_day", series));
}

const route_t model_routes[] = {
	{ M_POST, "/api/models", models_create, ACCESS_VERIFIED, RL_GENERAL, BODY_JSON, 0, 0, "Create a model from an upload (pending review)" },
	{ M_GET, "/api/models/{id:int}", models_get, ACCESS_OPTIONAL, RL_GENERAL, BODY_NONE, 0, 0, "A model" },
	{ M_PUT, "/api/models/{id:int}", models_update, ACCESS_VERIFIED, RL_GENERAL, BODY_JSON, 0, 0, "Edit your model" },
	{ M_DELETE, "/api/models/{id:int}", models_delete, ACCESS_USER, RL_GENERAL, BODY_NONE, 0, 0, "Delete your model" },
	{ M_POST, "/api/models/{id:int}/toggle-publish", models_toggle_publish, ACCESS_USER, RL_GENERAL, BODY_NONE, 0, 0, "Publish or unpublish your model" },
	{ M_GET, "/api/models/{id:int}/public", models_public, ACCESS_OPTIONAL, RL_GENERAL, BODY_NONE, 0, 0, "A model for the public viewer" },
	{ M_GET, "/api/models/{id:int}/viewer-file", models_viewer_file, ACCESS_OPTIONAL, RL_GENERAL, BODY_NONE, 0, 0, "The GLB the 3D viewer shows (converted, or the model's own)" },
	{ M_GET, "/api/models/{id:int}/creator", models_creator, ACCESS_OPTIONAL, RL_GENERAL, BODY_NONE, 0, 0, "The model's creator" },
	{ M_POST, "/api/models/{id:int}/view", models_view, ACCESS_OPTIONAL, RL_GENERAL, BODY_NONE, 0, 0, "Count a view (once per viewer and hour)" },
	{ M_POST, "/api/models/{id:int}/like", models_like, ACCESS_USER, RL_GENERAL, BODY_NONE, 0, 0, "Like (idempotent)" },
	{ M_DELETE, "/api/models/{id:int}/like", models_unlike, ACCESS_USER, RL_GENERAL, BODY_NONE, 0, 0, "Unlike (idempotent)" },
	{ M_GET, "/api/models/{id:int}/comments", models_comments_list, ACCESS_OPTIONAL, RL_GENERAL, BODY_NONE, 0, 0, "Comments, newest first" },
	{ M_POST, "/api/models/{id:int}/comments", models_comments_add, ACCESS_VERIFIED, RL_GENERAL, BODY_JSON, 0, 0, "Add a comment" },
	{ M_DELETE, "/api/models/{id:int}/comments/{comment_id:int}", models_comments_delete, ACCESS_USER, RL_GENERAL, BODY_NONE, 0, 0, "Delete a comment (author, model owner, admin)" },
	{ M_POST, "/api/models/{id:int}/share", models_share, ACCESS_OPTIONAL, RL_GENERAL, BODY_NONE, 0, 0, "A share link (counted)" },
	{ M_GET, "/api/models/{id:int}/analytics", models_analytics, ACCESS_USER, RL_GENERAL, BODY_NONE, 0, 0, "Views, likes, sales by day (owner)" },
};
EXPORT_ROUTES(model_routes);
