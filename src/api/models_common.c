/* models_common.c: the model document, likes marking, lookups. */
#include "models_common.h"
#include "../core/strbuf.h"
#include "../core/util.h"
#include "../http/reply.h"
#include "../http/validate.h"

static json_t *json_array_text(const char *s)
{
	json_error_t e;
	json_t *j = s ? json_loads(s, 0, &e) : NULL;
	if (!json_is_array(j)) {
		json_decref(j);
		j = json_array();
	}
	return j;
}

json_t *model_json(db_rows_t *r, bool with_private)
{
	int64_t rating_sum = db_int(r, 25), rating_count = db_int(r, 26);
	double rating = rating_count ? (double)rating_sum / (double)rating_count : 0.0;
	json_t *category = db_isnull(r, 30) ? json_null()
		: json_pack("{s:I, s:s, s:s}", "id", (json_int_t)db_int(r, 30), "name", db_text(r, 31),
			    "slug", db_text(r, 32));
	json_t *creator = json_pack("{s:I, s:s, s:s?, s:s?, s:b}", "id", (json_int_t)db_int(r, 33),
				    "username", db_text(r, 34), "full_name", db_text(r, 35),
				    "avatar_url", db_text(r, 36), "is_verified", db_bool(r, 37));
	json_t *m = json_pack(
		"{s:I, s:s, s:s, s:o, s:s, s:b, s:o, s:o, s:s, s:o, s:s?, s:o, s:s?, s:I, s:I, s:I,"
		" s:b, s:b, s:b, s:s, s:b, s:b, s:I, s:I, s:I, s:I, s:I, s:I, s:f, s:I, s:o, s:o}",
		"id", (json_int_t)db_int(r, 0), "title", db_text(r, 1), "description", db_text(r, 2),
		"price", json_money(db_int(r, 3)), "currency", db_text(r, 4), "is_free", db_bool(r, 5),
		"category", category, "tags", json_array_text(db_text(r, 6)), "license", db_text(r, 7),
		"creator", creator, "thumbnail_url", db_text(r, 8),
		"preview_images", json_array_text(db_text(r, 9)), "file_format", db_text(r, 10),
		"file_size", (json_int_t)db_int(r, 11), "poly_count", (json_int_t)db_int(r, 12),
		"vertex_count", (json_int_t)db_int(r, 13), "has_animations", db_bool(r, 14),
		"has_rigging", db_bool(r, 15), "has_textures", db_bool(r, 16), "status", db_text(r, 17),
		"is_published", db_bool(r, 18), "is_featured", db_bool(r, 19),
		"likes_count", (json_int_t)db_int(r, 20), "views_count", (json_int_t)db_int(r, 21),
		"downloads_count", (json_int_t)db_int(r, 22), "comments_count", (json_int_t)db_int(r, 23),
		"sales_count", (json_int_t)db_int(r, 24), "shares_count", (json_int_t)db_int(r, 38),
		"rating", rating, "rating_count", (json_int_t)rating_count,
		"created_at", json_time(db_int(r, 27)), "updated_at", json_time(db_int(r, 28)));
	if (with_private)
		json_object_set_new(m, "rejection_reason", db_text(r, 29) ? json_string(db_text(r, 29)) : json_null());
	return m;
}

bool models_mark_liked(req_t *req, json_t *models)
{
	if (!req->user)
		return true;
	json_t *list = json_is_array(models) ? models : NULL;
	size_t n = list ? json_array_size(list) : 1;
	if (n == 0)
		return true;
	strbuf_t sql;
	sb_init(&sql, 0);
	sb_adds(&sql, "SELECT model_id FROM model_likes WHERE user_id = $1 AND model_id IN (");
	db_param_t *p = arena_alloc(req->arena, (n + 1) * sizeof(*p));
	p[0] = P_INT(req->user->id);
	for (size_t i = 0; i < n; i++) {
		json_t *m = list ? json_array_get(list, i) : models;
		p[i + 1] = P_INT(json_integer_value(json_object_get(m, "id")));
		json_object_set_new(m, "is_liked", json_false());
		sb_addf(&sql, "%s$%zu", i ? ", " : "", i + 2);
	}
	sb_adds(&sql, ")");
	db_rows_t *r = db_query(req->db, sql.buf, p, (int)n + 1);
	sb_release(&sql);
	if (!r)
		return false;
	while (db_next(r)) {
		int64_t id = db_int(r, 0);
		for (size_t i = 0; i < n; i++) {
			json_t *m = list ? json_array_get(list, i) : models;
			if (json_integer_value(json_object_get(m, "id")) == id)
				json_object_set_new(m, "is_liked", json_true());
		}
	}
	db_done(r);
	return true;
}

bool model_find_or_404(req_t *req, struct model_ref *m, bool owner_only, bool admin_ok)
{
	int64_t id = req_param_int(req, "id");
	db_rows_t *r = DBQ(req->db,
		"SELECT id, creator_id, status = 'approved' AND is_published = TRUE, deleted_at IS NOT NULL,"
		" sales_count, title, status FROM models WHERE id = $1", P_INT(id));
	if (!r) {
		reply_db_error(req, "find model");
		return false;
	}
	bool found = db_next(r);
	if (found) {
		m->id = db_int(r, 0);
		m->creator_id = db_int(r, 1);
		m->is_public = db_bool(r, 2);
		m->deleted = db_bool(r, 3);
		m->sales_count = db_int(r, 4);
		m->title = arena_strdup(req->arena, db_text(r, 5));
		m->status = arena_strdup(req->arena, db_text(r, 6));
	}
	db_done(r);
	bool owner = found && req->user && req->user->id == m->creator_id;
	bool admin = req->user && req->user->is_admin && admin_ok;
	bool visible = found && !m->deleted && (owner_only ? (owner || admin) : (m->is_public || owner || admin));
	if (!visible) {
		/* Someone else's unpublished model looks exactly like a missing one. */
		reply_error(req, ERR_NOT_FOUND, "Model not found");
		return false;
	}
	return true;
}

bool notify(db_t *db, int64_t user_id, const char *type, const char *title, const char *message,
	    const char *action_url)
{
	return DBX(db, "INSERT INTO notifications (user_id, type, title, message, action_url, created_at)"
		   " VALUES ($1, $2, $3, $4, $5, $6)", P_INT(user_id), P_TEXT(type), P_TEXT(title),
		   P_TEXT(message), P_TEXT(action_url), P_INT(now_ms())) == 1;
}

int64_t epoch_day(int64_t ms)
{
	return ms / 86400000;
}

json_t *models_from_rows(req_t *req, db_rows_t *r, bool with_private)
{
	json_t *items = json_array();
	while (db_next(r))
		json_array_append_new(items, model_json(r, with_private));
	bool failed = db_failed(r);
	db_done(r);
	if (failed || !models_mark_liked(req, items)) {
		json_decref(items);
		return NULL;
	}
	return items;
}

json_t *models_by_ids(req_t *req, const int64_t *ids, size_t n)
{
	json_t **slot = arena_alloc(req->arena, (n ? n : 1) * sizeof(*slot));
	strbuf_t sql;
	sb_init(&sql, 0);
	sb_adds(&sql, "SELECT " MODEL_COLS MODEL_FROM " WHERE " MODEL_PUBLIC " AND m.id IN (");
	db_param_t *p = arena_alloc(req->arena, (n ? n : 1) * sizeof(*p));
	for (size_t i = 0; i < n; i++) {
		slot[i] = NULL;
		p[i] = P_INT(ids[i]);
		sb_addf(&sql, "%s$%zu", i ? ", " : "", i + 1);
	}
	sb_adds(&sql, ")");
	db_rows_t *r = n ? db_query(req->db, sql.buf, p, (int)n) : NULL;
	sb_release(&sql);
	if (n && !r)
		return NULL;
	while (r && db_next(r)) {
		int64_t id = db_int(r, 0);
		for (size_t i = 0; i < n; i++)
			if (ids[i] == id && !slot[i]) {
				slot[i] = model_json(r, false);
				break;
			}
	}
	bool failed = r && db_failed(r);
	if (r)
		db_done(r);
	json_t *items = json_array();
	for (size_t i = 0; i < n; i++)
		if (slot[i])
			json_array_append_new(items, slot[i]);
	if (failed || !models_mark_liked(req, items)) {
		json_decref(items);
		return NULL;
	}
	return items;
}

int reply_model_write_failed(req_t *req, int64_t rows, const char *what)
{
	if (rows == 0)
		return reply_error(req, ERR_NOT_FOUND, "Model not found");
	return reply_db_error(req, what);
}
