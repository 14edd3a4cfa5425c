/*
 * categories.c: model categories.  The public list shows active ones; admins
 * create, rename, reorder, hide and delete them.
 */
#include <ctype.h>
#include "api.h"
#include "../http/reply.h"
#include "../http/request.h"
#include "../http/validate.h"
#include "../core/util.h"

#define CATEGORY_COLS \
	"id, name, slug, description, icon, sort_order, is_active, models_count, created_at, updated_at"

static json_t *category_json(db_rows_t *r)
{
	return json_pack("{s:I, s:s, s:s, s:s, s:s?, s:I, s:b, s:I, s:o, s:o}",
			 "id", (json_int_t)db_int(r, 0),
			 "name", db_text(r, 1),
			 "slug", db_text(r, 2),
			 "description", db_text(r, 3) ? db_text(r, 3) : "",
			 "icon", db_text(r, 4),
			 "sort_order", (json_int_t)db_int(r, 5),
			 "is_active", db_bool(r, 6),
			 "models_count", (json_int_t)db_int(r, 7),
			 "created_at", json_time(db_int(r, 8)),
			 "updated_at", json_time(db_int(r, 9)));
}

/* Lists a page of categories; active_only for the public list. */
static int list(req_t *req, bool active_only)
{
	valid_t v;
	v_init(&v, req, NULL);
	page_t p;
	q_page(&v, &p);
	const char *search = q_str(&v, "search", 100);
	if (!v_ok(&v))
		return v_reply(&v);
	const char *pattern = search && *search ? like_contains(req->arena, search) : NULL;
	/* The public list is the same for everyone: serve it from memory. */
	const char *key = NULL;
	uint64_t gen = cache_generation(CACHE_CATEGORIES);
	if (active_only) {
		key = arena_printf(req->arena, "%lld:%lld:%s", (long long)p.page, (long long)p.limit,
				   pattern ? pattern : "");
		if (reply_from_cache(req, CACHE_CATEGORIES, key))
			return DONE;
	}
	int64_t total = 0;
	if (DBS(req->db, &total,
		"SELECT COUNT(*) FROM categories WHERE ($1 = FALSE OR is_active = TRUE)"
		" AND (CAST($2 AS TEXT) IS NULL OR lower(name) LIKE lower(CAST($2 AS TEXT)) ESCAPE '\\')",
		P_BOOL(active_only), P_TEXT(pattern)) < 0)
		return reply_db_error(req, "count categories");
	db_rows_t *r = DBQ(req->db,
		"SELECT " CATEGORY_COLS " FROM categories WHERE ($1 = FALSE OR is_active = TRUE)"
		" AND (CAST($2 AS TEXT) IS NULL OR lower(name) LIKE lower(CAST($2 AS TEXT)) ESCAPE '\\')"
		" ORDER BY sort_order, name, id LIMIT $3 OFFSET $4",
		P_BOOL(active_only), P_TEXT(pattern), P_INT(p.limit), P_INT(p.offset));
	json_t *items = r ? rows_to_array(r, category_json) : NULL;
	if (!items)
		return reply_db_error(req, "list categories");
	json_t *page = page_envelope(items, total, &p);
	if (key)
		return reply_json_cached(req, page, CACHE_CATEGORIES, key, gen);
	return reply_ok(req, page);
}

static int categories_list(req_t *req)
{
	return list(req, true);
}

static int admin_categories_list(req_t *req)
{
	return list(req, false);
}

/* Replies with the category, or 404. */
static int reply_category(req_t *req, int64_t id, int status)
{
	db_rows_t *r = DBQ(req->db, "SELECT " CATEGORY_COLS " FROM categories WHERE id = $1", P_INT(id));
	if (!r)
		return reply_db_error(req, "read category");
	if (!db_next(r)) {
		bool failed = db_failed(r);
		db_done(r);
		return failed ? reply_db_error(req, "read category")
			      : reply_error(req, ERR_NOT_FOUND, "Category not found");
	}
	json_t *c = category_json(r);
	db_done(r);
	return reply_json(req, status, c);
}

static int admin_categories_get(req_t *req)
{
	return reply_category(req, req_param_int(req, "id"), 200);
}

/* "3D Characters & Props" -> "3d-characters-props" */
static char *slugify(req_t *req, const char *name)
{
	size_t n = strlen(name);
	char *s = arena_alloc(req->arena, n + 1);
	size_t j = 0;
	for (size_t i = 0; i < n && j < 60; i++) {
		unsigned char c = (unsigned char)name[i];
		if (isalnum(c) && c < 0x80)
			s[j++] = (char)tolower(c);
		else if (j && s[j - 1] != '-')
			s[j++] = '-';
	}
	while (j && s[j - 1] == '-')
		j--;
	s[j] = '\0';
	if (!j) {
		char hex[9];
		random_hex(hex, 4);
		return arena_printf(req->arena, "category-%s", hex);
	}
	return s;
}

struct category_input {
	const char *name, *slug, *description, *icon;
	int64_t sort_order;
	bool is_active;
};

/* Reads the body; on create, name is required and the rest defaults. */
static bool read_input(valid_t *v, struct category_input *in, bool create)
{
	int req_flag = create ? V_REQUIRED : 0;
	in->name = v_str(v, "name", req_flag, 1, 50);
	in->slug = v_slug(v, "slug", 0, 60);
	in->description = v_str(v, "description", V_NULLABLE | V_MULTILINE, 0, 500);
	in->icon = v_str(v, "icon", V_NULLABLE, 0, 100);
	in->sort_order = v_int(v, "sort_order", 0, -100000, 100000, 0);
	in->is_active = v_bool(v, "is_active", 0, true);
	return v_ok(v);
}

static int conflict_or_error(req_t *req, const char *what)
{
	if (db_error(req->db) == DB_ERR_UNIQUE)
		return reply_error(req, ERR_CONFLICT, "A category with this name or slug already exists");
	return reply_db_error(req, what);
}

static int admin_categories_create(req_t *req)
{
	valid_t v;
	v_init(&v, req, req_body(req));
	struct category_input in;
	if (!read_input(&v, &in, true))
		return v_reply(&v);
	const char *slug = in.slug ? in.slug : slugify(req, in.name);
	int64_t now = now_ms(), id = 0;
	int rc = DBS(req->db, &id,
		"INSERT INTO categories (name, slug, description, icon, sort_order, is_active, created_at, updated_at)"
		" VALUES ($1, $2, $3, $4, $5, $6, $7, $7) RETURNING id",
		P_TEXT(in.name), P_TEXT(slug), P_TEXT(in.description ? in.description : ""),
		P_TEXT(in.icon), P_INT(in.sort_order), P_BOOL(in.is_active), P_INT(now));
	if (rc != 1)
		return conflict_or_error(req, "create category");
	cache_invalidate(CACHE_CATEGORIES);
	return reply_category(req, id, 201);
}

static int admin_categories_update(req_t *req)
{
	int64_t id = req_param_int(req, "id");
	valid_t v;
	v_init(&v, req, req_body(req));
	struct category_input in;
	if (!read_input(&v, &in, false))
		return v_reply(&v);
	/* Only the fields sent change: COALESCE keeps the others. */
	bool clear_icon = v_is_null(&v, "icon");
	int64_t changed = DBX(req->db,
		"UPDATE categories SET name = COALESCE($2, name), slug = COALESCE($3, slug),"
		" description = COALESCE($4, description),"
		" icon = CASE WHEN $5 = TRUE THEN NULL ELSE COALESCE($6, icon) END,"
		" sort_order = CASE WHEN $7 = TRUE THEN $8 ELSE sort_order END,"
		" is_active = CASE WHEN $9 = TRUE THEN $10 ELSE is_active END,"
		" updated_at = $11 WHERE id = $1",
		P_INT(id), P_TEXT(in.name), P_TEXT(in.slug), P_TEXT(in.description),
		P_BOOL(clear_icon), P_TEXT(in.icon),
		P_BOOL(v_present(&v, "sort_order")), P_INT(in.sort_order),
		P_BOOL(v_present(&v, "is_active")), P_BOOL(in.is_active), P_INT(now_ms()));
	if (changed < 0)
		return conflict_or_error(req, "update category");
	if (changed == 0)
		return reply_error(req, ERR_NOT_FOUND, "Category not found");
	cache_invalidate(CACHE_CATEGORIES);
	return reply_category(req, id, 200);
}

static int admin_categories_delete(req_t *req)
{
	int64_t id = req_param_int(req, "id");
	int64_t changed = DBX(req->db, "DELETE FROM categories WHERE id = $1", P_INT(id));
	if (changed < 0) {
		if (db_error(req->db) == DB_ERR_FOREIGN_KEY)
			return reply_error(req, ERR_CONFLICT,
					   "Category is still used by models; move them or hide the category instead");
		return reply_db_error(req, "delete category");
	}
	if (changed == 0)
		return reply_error(req, ERR_NOT_FOUND, "Category not found");
	cache_invalidate(CACHE_CATEGORIES);
	return reply_ok(req, json_pack("{s:s, s:I}", "message", "Category deleted", "id", (json_int_t)id));
}

const route_t category_routes[] = {
	{ M_GET, "/api/categories", categories_list, ACCESS_PUBLIC, RL_GENERAL, BODY_NONE, 0, 0, "List active categories" },
	{ M_GET, "/api/admin/categories", admin_categories_list, ACCESS_ADMIN, RL_ADMIN, BODY_NONE, 0, 0, "List all categories" },
	{ M_POST, "/api/admin/categories", admin_categories_create, ACCESS_ADMIN, RL_ADMIN, BODY_JSON, 0, 0, "Create a category" },
	{ M_GET, "/api/admin/categories/{id:int}", admin_categories_get, ACCESS_ADMIN, RL_ADMIN, BODY_NONE, 0, 0, "Get a category" },
	{ M_PUT, "/api/admin/categories/{id:int}", admin_categories_update, ACCESS_ADMIN, RL_ADMIN, BODY_JSON, 0, 0, "Update a category" },
	{ M_DELETE, "/api/admin/categories/{id:int}", admin_categories_delete, ACCESS_ADMIN, RL_ADMIN, BODY_NONE, 0, 0, "Delete a category" },
};
EXPORT_ROUTES(category_routes);
