/*
 * slides.c: the homepage slider; admins create, order, hide and delete
 * slides.  The public list is the same for everyone and is served from the
 * response cache (CACHE_HOME); admin writes invalidate it.
 */
#include "api.h"
#include "../core/util.h"
#include "../http/reply.h"
#include "../http/request.h"
#include "../http/validate.h"
#include "../svc/cache.h"
#include "paged.h"
#include "crud.h"

#define SLIDE_COLS \
	"id, title, subtitle, image_url, link_url, button_text, sort_order, is_active, created_at, updated_at"

static json_t *slide_json(db_rows_t *r)
{
	return json_pack("{s:I, s:s, s:s?, s:s, s:s?, s:s?, s:I, s:b, s:o, s:o}",
			 "id", (json_int_t)db_int(r, 0),
			 "title", db_text(r, 1),
			 "subtitle", db_text(r, 2),
			 "image_url", db_text(r, 3),
			 "link_url", db_text(r, 4),
			 "button_text", db_text(r, 5),
			 "sort_order", (json_int_t)db_int(r, 6),
			 "is_active", db_bool(r, 7),
			 "created_at", json_time(db_int(r, 8)),
			 "updated_at", json_time(db_int(r, 9)));
}

static int slides_page(req_t *req, bool active_only)
{
	valid_t v;
	page_t p;
	paged_begin(&v, req, &p);
	if (!v_ok(&v))
		return v_reply(&v);
#define SLIDE_WHERE " FROM slider_slides WHERE ($1 = FALSE OR is_active = TRUE)"
	db_param_t filters[] = { P_BOOL(active_only) };
	paged_t q = {
		.what = "list slides",
		.count_sql = "SELECT COUNT(*)" SLIDE_WHERE,
		.rows_sql = "SELECT " SLIDE_COLS SLIDE_WHERE " ORDER BY sort_order, id",
		.params = filters, .nparams = 1,
		.row = slide_json,
		.area = CACHE_HOME,
		.key = active_only ? "slider" : NULL,
	};
#undef SLIDE_WHERE
	return paged_reply(req, &p, &q);
}

static int slider_list(req_t *req)
{
	return slides_page(req, true);
}

static int admin_slider_list(req_t *req)
{
	return slides_page(req, false);
}

static const char *check_http_url(req_t *req, const char *s)
{
	UNUSED(req);
	return url_is_http(s) ? NULL : "Must be an http(s) URL";
}

static const char *check_link(req_t *req, const char *s)
{
	UNUSED(req);
	return url_is_local_path(s) || url_is_http(s) ? NULL : "Must be a path starting with / or an http(s) URL";
}

enum { S_TITLE, S_SUBTITLE, S_IMAGE_URL, S_LINK_URL, S_BUTTON_TEXT, S_SORT_ORDER, S_IS_ACTIVE, S_FIELDS };

static const upd_field_t slide_fields[S_FIELDS] = {
	[S_TITLE] = { .name = "title", .kind = UPD_TEXT, .flags = V_REQUIRED, .min = 1, .max = 120 },
	[S_SUBTITLE] = { .name = "subtitle", .kind = UPD_TEXT, .flags = V_NULLABLE | V_MULTILINE, .min = 0, .max = 300 },
	[S_IMAGE_URL] = { .name = "image_url", .kind = UPD_TEXT, .flags = V_REQUIRED, .min = 1, .max = URL_MAX_CHARS, .check = check_http_url },
	[S_LINK_URL] = { .name = "link_url", .kind = UPD_TEXT, .flags = V_NULLABLE, .min = 1, .max = URL_MAX_CHARS, .check = check_link },
	[S_BUTTON_TEXT] = { .name = "button_text", .kind = UPD_TEXT, .flags = V_NULLABLE, .min = 0, .max = 50 },
	[S_SORT_ORDER] = { .name = "sort_order", .kind = UPD_INT, .min = -100000, .max = 100000 },
	[S_IS_ACTIVE] = { .name = "is_active", .kind = UPD_BOOL, .def_int = 1 },
};

static const crud_t slides = {
	.table = "slider_slides", .fields = slide_fields, .nfields = S_FIELDS, .noun = "Slide",
	.select_one = "SELECT " SLIDE_COLS " FROM slider_slides WHERE id = $1",
	.row = slide_json, .area = CACHE_HOME,
};

static int admin_slider_create(req_t *req)
{
	return crud_create(req, &slides);
}

static int admin_slider_update(req_t *req)
{
	return crud_update(req, &slides);
}

static int admin_slider_delete(req_t *req)
{
	return crud_delete(req, &slides);
}

const route_t slide_routes[] = {
	{ M_GET, "/api/slider", slider_list, ACCESS_PUBLIC, RL_GENERAL, BODY_NONE, 0, 0, "List active homepage slides" },
	{ M_GET, "/api/admin/slider", admin_slider_list, ACCESS_ADMIN, RL_ADMIN, BODY_NONE, 0, 0, "List all slides" },
	{ M_POST, "/api/admin/slider", admin_slider_create, ACCESS_ADMIN, RL_ADMIN, BODY_JSON, 0, 0, "Create a slide" },
	{ M_PUT, "/api/admin/slider/{id:int}", admin_slider_update, ACCESS_ADMIN, RL_ADMIN, BODY_JSON, 0, 0, "Update a slide" },
	{ M_DELETE, "/api/admin/slider/{id:int}", admin_slider_delete, ACCESS_ADMIN, RL_ADMIN, BODY_NONE, 0, 0, "Delete a slide" },
};
EXPORT_ROUTES(slide_routes);
