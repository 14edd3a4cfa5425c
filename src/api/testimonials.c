/*
 * testimonials.c: what users say about the platform, shown on the homepage
 * once an admin approves it; admins write, approve and delete them.
 *
 * The public list is the same for everyone and is served from the response
 * cache (CACHE_HOME); admin writes invalidate it.
 */
#include "api.h"
#include "../core/util.h"
#include "../http/reply.h"
#include "../svc/audit.h"
#include "../http/request.h"
#include "../http/validate.h"
#include "../svc/cache.h"
#include "paged.h"
#include "crud.h"

/* The columns of a testimonial row: TESTIMONIAL_COLS is the select list, enum testimonial_col the
 * indexes (db.h, named columns). */
#define TESTIMONIAL_COLUMNS(FIRST, NEXT) \
	FIRST(TC_ID, "id") \
	NEXT(TC_USER_ID, "user_id") \
	NEXT(TC_AUTHOR_NAME, "author_name") \
	NEXT(TC_AUTHOR_TITLE, "author_title") \
	NEXT(TC_AVATAR_URL, "avatar_url") \
	NEXT(TC_CONTENT, "content") \
	NEXT(TC_RATING, "rating") \
	NEXT(TC_IS_APPROVED, "is_approved") \
	NEXT(TC_SORT_ORDER, "sort_order") \
	NEXT(TC_CREATED_AT, "created_at") \
	NEXT(TC_UPDATED_AT, "updated_at")
#define TESTIMONIAL_COLS TESTIMONIAL_COLUMNS(DB_COL_SQL, DB_COL_SQL_NEXT)
enum testimonial_col { TESTIMONIAL_COLUMNS(DB_COL_ENUM, DB_COL_ENUM) TC_COUNT };

static json_t *testimonial_json(db_rows_t *r)
{
	return json_pack("{s:I, s:o, s:s, s:s?, s:s?, s:s, s:I, s:b, s:I, s:o, s:o}",
			 "id", (json_int_t)db_int(r, TC_ID),
			 "user_id", db_isnull(r, TC_USER_ID) ? json_null() : json_integer(db_int(r, TC_USER_ID)),
			 "author_name", db_text(r, TC_AUTHOR_NAME),
			 "author_title", db_text(r, TC_AUTHOR_TITLE),
			 "avatar_url", db_text(r, TC_AVATAR_URL),
			 "content", db_text(r, TC_CONTENT),
			 "rating", (json_int_t)db_int(r, TC_RATING),
			 "is_approved", db_bool(r, TC_IS_APPROVED),
			 "sort_order", (json_int_t)db_int(r, TC_SORT_ORDER),
			 "created_at", json_time(db_int(r, TC_CREATED_AT)),
			 "updated_at", json_time(db_int(r, TC_UPDATED_AT)));
}

/* approved: 1 approved only, 0 pending only, -1 all (the admin list may
 * narrow it with ?is_approved). */
static int testimonials_page(req_t *req, int approved, bool cached)
{
	valid_t v;
	page_t p;
	paged_begin(&v, req, &p);
	if (!cached && approved < 0)
		q_bool(&v, "is_approved", &approved);
	if (!v_ok(&v))
		return v_reply(&v);
#define TESTIMONIAL_WHERE " FROM testimonials WHERE ($1 < 0 OR is_approved = ($1 = 1))"
	db_param_t filters[] = { P_INT(approved) };
	paged_t q = {
		.what = "list testimonials",
		.count_sql = "SELECT COUNT(*)" TESTIMONIAL_WHERE,
		.rows_sql = "SELECT " TESTIMONIAL_COLS TESTIMONIAL_WHERE " ORDER BY sort_order, created_at DESC, id DESC",
		.params = filters, .nparams = 1,
		.row = testimonial_json,
		.area = CACHE_HOME,
		.key = cached ? "testimonials" : NULL,
	};
#undef TESTIMONIAL_WHERE
	return paged_reply(req, &p, &q);
}

static int testimonials_list(req_t *req)
{
	return testimonials_page(req, 1, true);
}

static int admin_testimonials_list(req_t *req)
{
	return testimonials_page(req, -1, false);
}

static const char *check_http_url(req_t *req, const char *s)
{
	UNUSED(req);
	return url_is_http(s) ? NULL : "Must be an http(s) URL";
}

enum { T_AUTHOR_NAME, T_AUTHOR_TITLE, T_AVATAR_URL, T_CONTENT, T_RATING, T_SORT_ORDER, T_USER_ID, T_IS_APPROVED,
       T_FIELDS };

static const upd_field_t testimonial_fields[T_FIELDS] = {
	[T_AUTHOR_NAME] = { .name = "author_name", .kind = UPD_TEXT, .flags = V_REQUIRED, .min = 1, .max = 100 },
	[T_AUTHOR_TITLE] = { .name = "author_title", .kind = UPD_TEXT, .flags = V_NULLABLE, .min = 0, .max = 100 },
	[T_AVATAR_URL] = { .name = "avatar_url", .kind = UPD_TEXT, .flags = V_NULLABLE, .min = 1, .max = URL_MAX_CHARS, .check = check_http_url },
	[T_CONTENT] = { .name = "content", .kind = UPD_TEXT, .flags = V_REQUIRED | V_MULTILINE, .min = 10, .max = 2000 },
	[T_RATING] = { .name = "rating", .kind = UPD_INT, .flags = V_REQUIRED, .min = 1, .max = 5, .def_int = 5 },
	[T_SORT_ORDER] = { .name = "sort_order", .kind = UPD_INT, .min = -100000, .max = 100000 },
	/* a user_id that names no user is a field error (testimonial_write_error) */
	[T_USER_ID] = { .name = "user_id", .kind = UPD_INT, .flags = V_NULLABLE, .min = 1, .max = INT64_MAX },
	[T_IS_APPROVED] = { .name = "is_approved", .kind = UPD_BOOL },
};

/* user_id with no such user: a field error, not a 500. */
static int testimonial_write_error(req_t *req, const char *what)
{
	if (db_error(req->db) == DB_ERR_FOREIGN_KEY)
		return reply_invalid1(req, "user_id", "No such user");
	return reply_db_error(req, what);
}

static const crud_t testimonials = {
	.table = "testimonials", .fields = testimonial_fields, .nfields = T_FIELDS, .noun = "Testimonial",
	.select_one = "SELECT " TESTIMONIAL_COLS " FROM testimonials WHERE id = $1",
	.row = testimonial_json, .area = CACHE_HOME,
	.on_db_error = testimonial_write_error,
};

static int admin_testimonials_create(req_t *req)
{
	return crud_create(req, &testimonials);
}

static int admin_testimonials_update(req_t *req)
{
	return crud_update(req, &testimonials);
}

static int admin_testimonials_delete(req_t *req)
{
	return crud_delete(req, &testimonials);
}

/* {is_approved}? (default true): approves, or withdraws with false. */
static int admin_testimonials_approve(req_t *req)
{
	int64_t id = req_param_int(req, "id");
	valid_t v;
	v_init(&v, req, req_body(req));
	bool approved = v_bool(&v, "is_approved", 0, true);
	if (!v_ok(&v))
		return v_reply(&v);
	int64_t changed = DBX(req->db, "UPDATE testimonials SET is_approved = $2, updated_at = $3 WHERE id = $1",
			      P_INT(id), P_BOOL(approved), P_INT(now_ms()));
	if (changed < 0)
		return reply_db_error(req, "approve testimonial");
	if (changed == 0)
		return reply_error(req, ERR_NOT_FOUND, "Testimonial not found");
	audit_log(req->db, req, approved ? "testimonial.approve" : "testimonial.withdraw", "testimonials", id, NULL);
	cache_invalidate(CACHE_HOME);
	return crud_reply_one(req, &testimonials, id, 200);
}

const route_t testimonial_routes[] = {
	{ M_GET, "/api/testimonials", testimonials_list, ACCESS_PUBLIC, RL_GENERAL, BODY_NONE, 0, 0, "List approved testimonials" },
	{ M_GET, "/api/admin/testimonials", admin_testimonials_list, ACCESS_ADMIN, RL_ADMIN, BODY_NONE, 0, 0, "List all testimonials" },
	{ M_POST, "/api/admin/testimonials", admin_testimonials_create, ACCESS_ADMIN, RL_ADMIN, BODY_JSON, 0, 0, "Create a testimonial" },
	{ M_PUT, "/api/admin/testimonials/{id:int}", admin_testimonials_update, ACCESS_ADMIN, RL_ADMIN, BODY_JSON, 0, 0, "Update a testimonial" },
	{ M_DELETE, "/api/admin/testimonials/{id:int}", admin_testimonials_delete, ACCESS_ADMIN, RL_ADMIN, BODY_NONE, 0, 0, "Delete a testimonial" },
	{ M_PUT, "/api/admin/testimonials/{id:int}/approve", admin_testimonials_approve, ACCESS_ADMIN, RL_ADMIN, BODY_JSON, 0, 0, "Approve a testimonial (or withdraw it)" },
};
EXPORT_ROUTES(testimonial_routes);
