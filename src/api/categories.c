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
#include "paged.h"
#include "crud.h"

/* The columns of a category row: CATEGORY_COLS is the select list, enum category_col the
 * indexes (db.h, named columns). */
#define CATEGORY_COLUMNS(FIRST, NEXT) \
	FIRST(CC_ID, "id") \
	NEXT(CC_NAME, "name") \
	NEXT(CC_SLUG, "slug") \
	NEXT(CC_DESCRIPTION, "description") \
	NEXT(CC_ICON, "icon") \
	NEXT(CC_SORT_ORDER, "sort_order") \
	NEXT(CC_IS_ACTIVE, "is_active") \
	NEXT(CC_MODELS_COUNT, "models_count") \
	NEXT(CC_CREATED_AT, "created_at") \
	NEXT(CC_UPDATED_AT, "updated_at")
#define CATEGORY_COLS CATEGORY_COLUMNS(DB_COL_SQL, DB_COL_SQL_NEXT)
enum category_col { CATEGORY_COLUMNS(DB_COL_ENUM, DB_COL_ENUM) CC_COUNT };

static json_t *category_json(db_rows_t *r)
{
	return json_pack("{s:I, s:s, s:s, s:s, s:s?, s:I, s:b, s:I, s:o, s:o}",
			 "id", (json_int_t)db_int(r, CC_ID),
			 "name", db_text(r, CC_NAME),
			 "slug", db_text(r, CC_SLUG),
			 "description", db_text(r, CC_DESCRIPTION) ? db_text(r, CC_DESCRIPTION) : "",
			 "icon", db_text(r, CC_ICON),
			 "sort_order", (json_int_t)db_int(r, CC_SORT_ORDER),
			 "is_active", db_bool(r, CC_IS_ACTIVE),
			 "models_count", (json_int_t)db_int(r, CC_MODELS_COUNT),
			 "created_at", json_time(db_int(r, CC_CREATED_AT)),
			 "updated_at", json_time(db_int(r, CC_UPDATED_AT)));
}

/* Lists a page of categories; active_only for the public list (the same
 * for everyone: served from memory). */
static int list(req_t *req, bool active_only)
{
	valid_t v;
	page_t p;
	paged_begin(&v, req, &p);
	const char *search = q_str(&v, "search", 100);
	if (!v_ok(&v))
		return v_reply(&v);
	const char *pattern = search && *search ? like_contains(req->arena, search) : NULL;
#define CATEGORY_WHERE " FROM categories WHERE ($1 = FALSE OR is_active = TRUE)" \
	" AND (CAST($2 AS TEXT) IS NULL OR lower(name) LIKE lower(CAST($2 AS TEXT)) ESCAPE '\\')"
	db_param_t filters[] = { P_BOOL(active_only), P_TEXT(pattern) };
	paged_t q = {
		.what = "list categories",
		.count_sql = "SELECT COUNT(*)" CATEGORY_WHERE,
		.rows_sql = "SELECT " CATEGORY_COLS CATEGORY_WHERE " ORDER BY sort_order, name, id",
		.params = filters, .nparams = 2,
		.row = category_json,
		.area = CACHE_CATEGORIES,
		.key = active_only ? arena_printf(req->arena, "list|%s", pattern ? pattern : "") : NULL,
	};
#undef CATEGORY_WHERE
	return paged_reply(req, &p, &q);
}

static int categories_list(req_t *req)
{
	return list(req, true);
}

static int admin_categories_list(req_t *req)
{
	return list(req, false);
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

enum { C_NAME, C_SLUG, C_DESCRIPTION, C_ICON, C_SORT_ORDER, C_IS_ACTIVE, C_FIELDS };

static const upd_field_t category_fields[C_FIELDS] = {
	[C_NAME] = { .name = "name", .kind = UPD_TEXT, .flags = V_REQUIRED, .min = 1, .max = 50 },
	/* on create, made from the name when not given */
	[C_SLUG] = { .name = "slug", .kind = UPD_SLUG, .min = 1, .max = 60 },
	[C_DESCRIPTION] = { .name = "description", .kind = UPD_TEXT, .flags = V_NULLABLE | V_MULTILINE, .min = 0, .max = 500, .def_text = "" },
	[C_ICON] = { .name = "icon", .kind = UPD_TEXT, .flags = V_NULLABLE, .min = 0, .max = 100 },
	[C_SORT_ORDER] = { .name = "sort_order", .kind = UPD_INT, .min = -100000, .max = 100000 },
	[C_IS_ACTIVE] = { .name = "is_active", .kind = UPD_BOOL, .def_int = 1 },
};

/* A name or slug taken: 409; a category models still use: 409. */
static int category_write_error(req_t *req, const char *what)
{
	if (db_error(req->db) == DB_ERR_UNIQUE)
		return reply_error(req, ERR_CONFLICT, "A category with this name or slug already exists");
	if (db_error(req->db) == DB_ERR_FOREIGN_KEY)
		return reply_error(req, ERR_CONFLICT,
				   "Category is still used by models; move them or hide the category instead");
	return reply_db_error(req, what);
}

/* The slug, when not given, is made from the name. */
static void category_defaults(req_t *req, upd_value_t *in)
{
	if (!in[C_SLUG].set)
		upd_put(&in[C_SLUG], P_TEXT(slugify(req, in[C_NAME].p.s)));
}

static const crud_t categories = {
	.table = "categories", .fields = category_fields, .nfields = C_FIELDS, .noun = "Category",
	.select_one = "SELECT " CATEGORY_COLS " FROM categories WHERE id = $1",
	.row = category_json, .area = CACHE_CATEGORIES,
	.on_db_error = category_write_error,
	.before_create = category_defaults,
};

static int admin_categories_get(req_t *req)
{
	return crud_get(req, &categories);
}

static int admin_categories_create(req_t *req)
{
	return crud_create(req, &categories);
}

static int admin_categories_update(req_t *req)
{
	return crud_update(req, &categories);
}

static int admin_categories_delete(req_t *req)
{
	return crud_delete(req, &categories);
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
