/*
 * home.c: what the homepage shows besides models: platform figures, top
 * creators, testimonials and the slider (admins curate both), and the
 * newsletter sign-up with double opt-in.
 *
 * Public answers that are the same for everyone are served from the
 * response cache (CACHE_HOME); admin writes invalidate it.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "api.h"
#include "../auth/account.h"
#include "../auth/identity.h"
#include "../core/config.h"
#include "../core/strbuf.h"
#include "../core/util.h"
#include "../http/reply.h"
#include "../http/request.h"
#include "../http/validate.h"
#include "../svc/cache.h"
#include "../svc/mail.h"
#include "models_common.h"

#define URL_MAX 500
/* A confirmation link works for a week; a resend waits a few minutes. */
#define NEWSLETTER_TOKEN_TTL_MS ((int64_t)7 * 24 * 3600 * 1000)
#define NEWSLETTER_RESEND_MS ((int64_t)5 * 60 * 1000)

/* ---------------------------------------------------------------- URLs */

/* An absolute http(s) URL with a host and no spaces, quotes or controls. */
static bool url_is_http(const char *s)
{
	size_t skip;
	if (!strncasecmp(s, "https://", 8))
		skip = 8;
	else if (!strncasecmp(s, "http://", 7))
		skip = 7;
	else
		return false;
	if (!s[skip] || s[skip] == '/' || s[skip] == '?' || s[skip] == '#')
		return false;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p <= 0x20 || *p == 0x7f || *p == '"' || *p == '<' || *p == '>' || *p == '\\' || *p == '`')
			return false;
	return true;
}

/* A path on this site: "/..." but not "//host" (protocol-relative) nor
 * "/\host" (which browsers also read as another host). */
static bool url_is_local_path(const char *s)
{
	if (s[0] != '/' || s[1] == '/' || s[1] == '\\')
		return false;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p <= 0x20 || *p == 0x7f || *p == '"' || *p == '<' || *p == '>' || *p == '\\' || *p == '`')
			return false;
	return true;
}

/* An optional http(s) URL field (null clears it on update). */
static const char *v_http_url(valid_t *v, const char *field, int flags)
{
	const char *s = v_str(v, field, flags, 1, URL_MAX);
	if (s && !url_is_http(s)) {
		v_error(v, field, "Must be an http(s) URL");
		return NULL;
	}
	return s;
}

/* ---------------------------------------------------------------- testimonials */

#define TESTIMONIAL_COLS \
	"id, user_id, author_name, author_title, avatar_url, content, rating, is_approved, sort_order," \
	" created_at, updated_at"

static json_t *testimonial_json(db_rows_t *r)
{
	return json_pack("{s:I, s:o, s:s, s:s?, s:s?, s:s, s:I, s:b, s:I, s:o, s:o}",
			 "id", (json_int_t)db_int(r, 0),
			 "user_id", db_isnull(r, 1) ? json_null() : json_integer(db_int(r, 1)),
			 "author_name", db_text(r, 2),
			 "author_title", db_text(r, 3),
			 "avatar_url", db_text(r, 4),
			 "content", db_text(r, 5),
			 "rating", (json_int_t)db_int(r, 6),
			 "is_approved", db_bool(r, 7),
			 "sort_order", (json_int_t)db_int(r, 8),
			 "created_at", json_time(db_int(r, 9)),
			 "updated_at", json_time(db_int(r, 10)));
}

/* approved: 1 approved only, 0 pending only, -1 all. */
static int testimonials_page(req_t *req, int approved, bool cached)
{
	valid_t v;
	v_init(&v, req, NULL);
	page_t p;
	q_page(&v, &p);
	if (!cached && approved < 0)
		q_bool(&v, "is_approved", &approved);
	if (!v_ok(&v))
		return v_reply(&v);
	uint64_t gen = cache_generation(CACHE_HOME);
	const char *key = NULL;
	if (cached) {
		key = arena_printf(req->arena, "testimonials|%lld|%lld", (long long)p.page, (long long)p.limit);
		if (reply_from_cache(req, CACHE_HOME, key))
			return DONE;
	}
	int64_t total = 0;
	if (DBS(req->db, &total,
		"SELECT COUNT(*) FROM testimonials WHERE ($1 < 0 OR is_approved = ($1 = 1))", P_INT(approved)) < 0)
		return reply_db_error(req, "count testimonials");
	db_rows_t *r = DBQ(req->db,
		"SELECT " TESTIMONIAL_COLS " FROM testimonials WHERE ($1 < 0 OR is_approved = ($1 = 1))"
		" ORDER BY sort_order, created_at DESC, id DESC LIMIT $2 OFFSET $3",
		P_INT(approved), P_INT(p.limit), P_INT(p.offset));
	json_t *items = r ? rows_to_array(r, testimonial_json) : NULL;
	if (!items)
		return reply_db_error(req, "list testimonials");
	json_t *page = page_envelope(items, total, &p);
	if (key)
		return reply_json_cached(req, page, CACHE_HOME, key, gen);
	return reply_ok(req, page);
}

static int testimonials_list(req_t *req)
{
	return testimonials_page(req, 1, true);
}

static int admin_testimonials_list(req_t *req)
{
	return testimonials_page(req, -1, false);
}

static int reply_testimonial(req_t *req, int64_t id, int status)
{
	db_rows_t *r = DBQ(req->db, "SELECT " TESTIMONIAL_COLS " FROM testimonials WHERE id = $1", P_INT(id));
	if (!r)
		return reply_db_error(req, "read testimonial");
	if (!db_next(r)) {
		bool failed = db_failed(r);
		db_done(r);
		return failed ? reply_db_error(req, "read testimonial")
			      : reply_error(req, ERR_NOT_FOUND, "Testimonial not found");
	}
	json_t *t = testimonial_json(r);
	db_done(r);
	return reply_json(req, status, t);
}

struct testimonial_input {
	const char *author_name, *author_title, *avatar_url, *content;
	int64_t rating, sort_order, user_id;
	bool is_approved;
};

static bool read_testimonial(valid_t *v, struct testimonial_input *in, bool create)
{
	int req_flag = create ? V_REQUIRED : 0;
	in->author_name = v_str(v, "author_name", req_flag, 1, 100);
	in->author_title = v_str(v, "author_title", V_NULLABLE, 0, 100);
	in->avatar_url = v_http_url(v, "avatar_url", V_NULLABLE);
	in->content = v_str(v, "content", req_flag | V_MULTILINE, 10, 2000);
	in->rating = v_int(v, "rating", req_flag, 1, 5, 5);
	in->sort_order = v_int(v, "sort_order", 0, -100000, 100000, 0);
	in->user_id = v_int(v, "user_id", V_NULLABLE, 1, INT64_MAX, 0);
	in->is_approved = v_bool(v, "is_approved", 0, false);
	return v_ok(v);
}

/* A user_id that names no user is a field error, not a 500. */
static int testimonial_write_error(req_t *req, const char *what)
{
	if (db_error(req->db) == DB_ERR_FOREIGN_KEY)
		return reply_invalid1(req, "user_id", "No such user");
	return reply_db_error(req, what);
}

static int admin_testimonials_create(req_t *req)
{
	valid_t v;
	v_init(&v, req, req_body(req));
	struct testimonial_input in;
	if (!read_testimonial(&v, &in, true))
		return v_reply(&v);
	int64_t now = now_ms(), id = 0;
	if (DBS(req->db, &id,
		"INSERT INTO testimonials (user_id, author_name, author_title, avatar_url, content, rating,"
		" is_approved, sort_order, created_at, updated_at)"
		" VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9) RETURNING id",
		in.user_id ? P_INT(in.user_id) : P_NULL, P_TEXT(in.author_name),
		P_TEXT(in.author_title && *in.author_title ? in.author_title : NULL), P_TEXT(in.avatar_url),
		P_TEXT(in.content), P_INT(in.rating), P_BOOL(in.is_approved), P_INT(in.sort_order),
		P_INT(now)) != 1)
		return testimonial_write_error(req, "create testimonial");
	cache_invalidate(CACHE_HOME);
	return reply_testimonial(req, id, 201);
}

static int admin_testimonials_update(req_t *req)
{
	int64_t id = req_param_int(req, "id");
	valid_t v;
	v_init(&v, req, req_body(req));
	struct testimonial_input in;
	if (!read_testimonial(&v, &in, false))
		return v_reply(&v);
	int64_t changed = DBX(req->db,
		"UPDATE testimonials SET author_name = COALESCE($2, author_name),"
		" author_title = CASE WHEN $3 = TRUE THEN NULL ELSE COALESCE($4, author_title) END,"
		" avatar_url = CASE WHEN $5 = TRUE THEN NULL ELSE COALESCE($6, avatar_url) END,"
		" content = COALESCE($7, content),"
		" rating = CASE WHEN $8 = TRUE THEN $9 ELSE rating END,"
		" sort_order = CASE WHEN $10 = TRUE THEN $11 ELSE sort_order END,"
		" is_approved = CASE WHEN $12 = TRUE THEN $13 ELSE is_approved END,"
		" user_id = CASE WHEN $14 = TRUE THEN NULL WHEN CAST($15 AS BIGINT) > 0 THEN $15 ELSE user_id END,"
		" updated_at = $16 WHERE id = $1",
		P_INT(id), P_TEXT(in.author_name),
		P_BOOL(v_is_null(&v, "author_title")), P_TEXT(in.author_title),
		P_BOOL(v_is_null(&v, "avatar_url")), P_TEXT(in.avatar_url),
		P_TEXT(in.content),
		P_BOOL(v_present(&v, "rating")), P_INT(in.rating),
		P_BOOL(v_present(&v, "sort_order")), P_INT(in.sort_order),
		P_BOOL(v_present(&v, "is_approved")), P_BOOL(in.is_approved),
		P_BOOL(v_is_null(&v, "user_id")), P_INT(in.user_id), P_INT(now_ms()));
	if (changed < 0)
		return testimonial_write_error(req, "update testimonial");
	if (changed == 0)
		return reply_error(req, ERR_NOT_FOUND, "Testimonial not found");
	cache_invalidate(CACHE_HOME);
	return reply_testimonial(req, id, 200);
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
	cache_invalidate(CACHE_HOME);
	return reply_testimonial(req, id, 200);
}

static int admin_testimonials_delete(req_t *req)
{
	int64_t id = req_param_int(req, "id");
	int64_t changed = DBX(req->db, "DELETE FROM testimonials WHERE id = $1", P_INT(id));
	if (changed < 0)
		return reply_db_error(req, "delete testimonial");
	if (changed == 0)
		return reply_error(req, ERR_NOT_FOUND, "Testimonial not found");
	cache_invalidate(CACHE_HOME);
	return reply_ok(req, json_pack("{s:s, s:I}", "message", "Testimonial deleted", "id", (json_int_t)id));
}

/* ---------------------------------------------------------------- slider */

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
	v_init(&v, req, NULL);
	page_t p;
	q_page(&v, &p);
	if (!v_ok(&v))
		return v_reply(&v);
	uint64_t gen = cache_generation(CACHE_HOME);
	const char *key = NULL;
	if (active_only) {
		key = arena_printf(req->arena, "slider|%lld|%lld", (long long)p.page, (long long)p.limit);
		if (reply_from_cache(req, CACHE_HOME, key))
			return DONE;
	}
	int64_t total = 0;
	if (DBS(req->db, &total, "SELECT COUNT(*) FROM slider_slides WHERE ($1 = FALSE OR is_active = TRUE)",
		P_BOOL(active_only)) < 0)
		return reply_db_error(req, "count slides");
	db_rows_t *r = DBQ(req->db,
		"SELECT " SLIDE_COLS " FROM slider_slides WHERE ($1 = FALSE OR is_active = TRUE)"
		" ORDER BY sort_order, id LIMIT $2 OFFSET $3",
		P_BOOL(active_only), P_INT(p.limit), P_INT(p.offset));
	json_t *items = r ? rows_to_array(r, slide_json) : NULL;
	if (!items)
		return reply_db_error(req, "list slides");
	json_t *page = page_envelope(items, total, &p);
	if (key)
		return reply_json_cached(req, page, CACHE_HOME, key, gen);
	return reply_ok(req, page);
}

static int slider_list(req_t *req)
{
	return slides_page(req, true);
}

static int admin_slider_list(req_t *req)
{
	return slides_page(req, false);
}

static int reply_slide(req_t *req, int64_t id, int status)
{
	db_rows_t *r = DBQ(req->db, "SELECT " SLIDE_COLS " FROM slider_slides WHERE id = $1", P_INT(id));
	if (!r)
		return reply_db_error(req, "read slide");
	if (!db_next(r)) {
		bool failed = db_failed(r);
		db_done(r);
		return failed ? reply_db_error(req, "read slide") : reply_error(req, ERR_NOT_FOUND, "Slide not found");
	}
	json_t *s = slide_json(r);
	db_done(r);
	return reply_json(req, status, s);
}

struct slide_input {
	const char *title, *subtitle, *image_url, *link_url, *button_text;
	int64_t sort_order;
	bool is_active;
};

static bool read_slide(valid_t *v, struct slide_input *in, bool create)
{
	int req_flag = create ? V_REQUIRED : 0;
	in->title = v_str(v, "title", req_flag, 1, 120);
	in->subtitle = v_str(v, "subtitle", V_NULLABLE | V_MULTILINE, 0, 300);
	in->image_url = v_http_url(v, "image_url", req_flag);
	in->link_url = v_str(v, "link_url", V_NULLABLE, 1, URL_MAX);
	if (in->link_url && !url_is_local_path(in->link_url) && !url_is_http(in->link_url)) {
		v_error(v, "link_url", "Must be a path starting with / or an http(s) URL");
		in->link_url = NULL;
	}
	in->button_text = v_str(v, "button_text", V_NULLABLE, 0, 50);
	in->sort_order = v_int(v, "sort_order", 0, -100000, 100000, 0);
	in->is_active = v_bool(v, "is_active", 0, true);
	return v_ok(v);
}

static int admin_slider_create(req_t *req)
{
	valid_t v;
	v_init(&v, req, req_body(req));
	struct slide_input in;
	if (!read_slide(&v, &in, true))
		return v_reply(&v);
	int64_t now = now_ms(), id = 0;
	if (DBS(req->db, &id,
		"INSERT INTO slider_slides (title, subtitle, image_url, link_url, button_text, sort_order, is_active,"
		" created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) RETURNING id",
		P_TEXT(in.title), P_TEXT(in.subtitle && *in.subtitle ? in.subtitle : NULL), P_TEXT(in.image_url),
		P_TEXT(in.link_url), P_TEXT(in.button_text && *in.button_text ? in.button_text : NULL),
		P_INT(in.sort_order), P_BOOL(in.is_active), P_INT(now)) != 1)
		return reply_db_error(req, "create slide");
	cache_invalidate(CACHE_HOME);
	return reply_slide(req, id, 201);
}

static int admin_slider_update(req_t *req)
{
	int64_t id = req_param_int(req, "id");
	valid_t v;
	v_init(&v, req, req_body(req));
	struct slide_input in;
	if (!read_slide(&v, &in, false))
		return v_reply(&v);
	int64_t changed = DBX(req->db,
		"UPDATE slider_slides SET title = COALESCE($2, title),"
		" subtitle = CASE WHEN $3 = TRUE THEN NULL ELSE COALESCE($4, subtitle) END,"
		" image_url = COALESCE($5, image_url),"
		" link_url = CASE WHEN $6 = TRUE THEN NULL ELSE COALESCE($7, link_url) END,"
		" button_text = CASE WHEN $8 = TRUE THEN NULL ELSE COALESCE($9, button_text) END,"
		" sort_order = CASE WHEN $10 = TRUE THEN $11 ELSE sort_order END,"
		" is_active = CASE WHEN $12 = TRUE THEN $13 ELSE is_active END,"
		" updated_at = $14 WHERE id = $1",
		P_INT(id), P_TEXT(in.title),
		P_BOOL(v_is_null(&v, "subtitle")), P_TEXT(in.subtitle),
		P_TEXT(in.image_url),
		P_BOOL(v_is_null(&v, "link_url")), P_TEXT(in.link_url),
		P_BOOL(v_is_null(&v, "button_text")), P_TEXT(in.button_text),
		P_BOOL(v_present(&v, "sort_order")), P_INT(in.sort_order),
		P_BOOL(v_present(&v, "is_active")), P_BOOL(in.is_active), P_INT(now_ms()));
	if (changed < 0)
		return reply_db_error(req, "update slide");
	if (changed == 0)
		return reply_error(req, ERR_NOT_FOUND, "Slide not found");
	cache_invalidate(CACHE_HOME);
	return reply_slide(req, id, 200);
}

static int admin_slider_delete(req_t *req)
{
	int64_t id = req_param_int(req, "id");
	int64_t changed = DBX(req->db, "DELETE FROM slider_slides WHERE id = $1", P_INT(id));
	if (changed < 0)
		return reply_db_error(req, "delete slide");
	if (changed == 0)
		return reply_error(req, ERR_NOT_FOUND, "Slide not found");
	cache_invalidate(CACHE_HOME);
	return reply_ok(req, json_pack("{s:s, s:I}", "message", "Slide deleted", "id", (json_int_t)id));
}

/* ---------------------------------------------------------------- platform stats */

/* The same for everyone: cached under the generations of the areas it
 * counts, so approving a model shows at once; sales and downloads follow
 * within the cache TTL. */
static int stats_platform(req_t *req)
{
	uint64_t gen = cache_generation(CACHE_HOME);
	const char *key = arena_printf(req->arena, "stats|%llu|%llu|%llu",
				       (unsigned long long)cache_generation(CACHE_MODELS),
				       (unsigned long long)cache_generation(CACHE_USERS),
				       (unsigned long long)cache_generation(CACHE_CATEGORIES));
	if (reply_from_cache(req, CACHE_HOME, key))
		return DONE;
	db_rows_t *r = DBQ0(req->db,
		"SELECT (SELECT COUNT(*) FROM models m WHERE " MODEL_PUBLIC "),"
		" (SELECT COUNT(*) FROM users WHERE user_type = 'creator' AND deleted_at IS NULL),"
		" (SELECT COUNT(*) FROM users WHERE deleted_at IS NULL),"
		" (SELECT COALESCE(SUM(downloads_count), 0) FROM models),"
		" (SELECT COALESCE(SUM(sales_count), 0) FROM models),"
		" (SELECT COUNT(*) FROM categories WHERE is_active = TRUE)");
	if (!r)
		return reply_db_error(req, "platform stats");
	if (!db_next(r)) {
		db_done(r);
		return reply_db_error(req, "platform stats");
	}
	json_t *s = json_pack("{s:I, s:I, s:I, s:I, s:I, s:I}",
			      "total_models", (json_int_t)db_int(r, 0),
			      "total_creators", (json_int_t)db_int(r, 1),
			      "total_users", (json_int_t)db_int(r, 2),
			      "total_downloads", (json_int_t)db_int(r, 3),
			      "total_sales", (json_int_t)db_int(r, 4),
			      "total_categories", (json_int_t)db_int(r, 5));
	db_done(r);
	return reply_json_cached(req, s, CACHE_HOME, key, gen);
}

/* ---------------------------------------------------------------- top creators */

/* A creator's score over their public models:
 * likes + 3 x downloads + 5 x sales. */
#define CREATOR_STATS_FROM                                                                     \
	" FROM users u JOIN (SELECT m.creator_id, COUNT(*) AS n, SUM(m.likes_count) AS likes,"  \
	" SUM(m.downloads_count) AS downloads, SUM(m.sales_count) AS sales FROM models m WHERE " \
	MODEL_PUBLIC " GROUP BY m.creator_id) s ON s.creator_id = u.id"                         \
	" WHERE u.user_type = 'creator' AND u.deleted_at IS NULL AND u.is_banned = FALSE"

static int creators_top(req_t *req)
{
	valid_t v;
	v_init(&v, req, NULL);
	page_t p;
	q_page(&v, &p);
	if (!v_ok(&v))
		return v_reply(&v);
	uint64_t gen = cache_generation(CACHE_HOME);
	const char *key = arena_printf(req->arena, "top|%llu|%lld|%lld",
				       (unsigned long long)cache_generation(CACHE_MODELS),
				       (long long)p.page, (long long)p.limit);
	if (reply_from_cache(req, CACHE_HOME, key))
		return DONE;
	int64_t total = 0;
	if (DBS0(req->db, &total, "SELECT COUNT(*)" CREATOR_STATS_FROM) < 0)
		return reply_db_error(req, "count creators");
	db_rows_t *r = DBQ(req->db,
		"SELECT " USER_PUBLIC_COLS ", s.n, s.likes, s.downloads, s.sales,"
		" s.likes + 3 * s.downloads + 5 * s.sales AS score" CREATOR_STATS_FROM
		" ORDER BY score DESC, u.followers_count DESC, u.id LIMIT $1 OFFSET $2",
		P_INT(p.limit), P_INT(p.offset));
	if (!r)
		return reply_db_error(req, "top creators");
	json_t *items = json_array();
	while (db_next(r)) {
		json_t *u = user_json_row(r);
		json_object_set_new(u, "models_count_public", json_integer(db_int(r, 13)));
		json_object_set_new(u, "total_likes", json_integer(db_int(r, 14)));
		json_object_set_new(u, "total_downloads", json_integer(db_int(r, 15)));
		json_object_set_new(u, "total_sales", json_integer(db_int(r, 16)));
		json_object_set_new(u, "score", json_integer(db_int(r, 17)));
		json_array_append_new(items, u);
	}
	bool failed = db_failed(r);
	db_done(r);
	if (failed) {
		json_decref(items);
		return reply_db_error(req, "top creators");
	}
	return reply_json_cached(req, page_envelope(items, total, &p), CACHE_HOME, key, gen);
}

/* ---------------------------------------------------------------- newsletter */

static bool mail_newsletter_confirm(req_t *req, const char *email, const char *token)
{
	const char *link = arena_printf(req->arena, "%s/api/newsletter/confirm?token=%s", cfg.public_url, token);
	const char *text = arena_printf(req->arena,
		"Hi,\n\nPlease confirm that you want the HWC3D newsletter by opening this link:\n\n%s\n\n"
		"The link works for 7 days. If you did not ask for it, ignore this mail and nothing happens.\n\n"
		"— HWC3D\n", link);
	strbuf_t html;
	sb_init(&html, 0);
	sb_adds(&html, "<!doctype html><html><body style=\"font-family:sans-serif\">"
		"<p>Please confirm that you want the HWC3D newsletter:</p><p><a href=\"");
	html_escape(&html, link);
	sb_adds(&html, "\">Confirm my subscription</a></p><p>The link works for 7 days. If you did not ask"
		" for it, ignore this mail and nothing happens.</p><p>— HWC3D</p></body></html>");
	bool ok = mail_queue(req->db, "newsletter_confirm", email, "Confirm your HWC3D newsletter subscription",
			     text, html.buf);
	sb_release(&html);
	return ok;
}

/* Starts (or restarts) the opt-in for an address not yet confirmed.  The
 * answer never says whether the address was known. */
static int newsletter_subscribe(req_t *req)
{
	valid_t v;
	v_init(&v, req, req_body(req));
	const char *raw = v_str(&v, "email", V_REQUIRED, 3, EMAIL_MAX);
	const char *email = NULL;
	if (raw) {
		char *norm = email_normalize(raw);
		email = email_valid(norm) ? arena_strdup(req->arena, norm) : NULL;
		free(norm);
		if (!email)
			v_error(&v, "email", "Enter a valid email address");
	}
	if (!v_ok(&v))
		return v_reply(&v);
	char token[48], hash[65];
	token_random(token);
	token_hash(token, hash);
	int64_t now = now_ms();
	if (!db_begin(req->db))
		return reply_db_error(req, "begin");
	/* New address, or one that unsubscribed, or a pending one whose last
	 * mail is old enough to send again. */
	int64_t changed = DBX(req->db,
		"INSERT INTO newsletter_subscribers (email_normalized, token_hash, token_sent_at, created_at)"
		" VALUES ($1, $2, $3, $3) ON CONFLICT (email_normalized) DO UPDATE SET"
		" token_hash = excluded.token_hash, token_sent_at = excluded.token_sent_at,"
		" confirmed_at = NULL, unsubscribed_at = NULL"
		" WHERE newsletter_subscribers.unsubscribed_at IS NOT NULL"
		" OR (newsletter_subscribers.confirmed_at IS NULL"
		" AND COALESCE(newsletter_subscribers.token_sent_at, 0) < $4)",
		P_TEXT(email), P_TEXT(hash), P_INT(now), P_INT(now - NEWSLETTER_RESEND_MS));
	if (changed < 0 || (changed > 0 && !mail_newsletter_confirm(req, email, token))) {
		bool raced = db_error(req->db) == DB_ERR_UNIQUE; /* the same address, at the same time */
		db_rollback(req->db);
		if (raced)
			goto answer;
		return reply_internal(req, "subscribe");
	}
	if (!db_commit(req->db))
		return reply_db_error(req, "commit");
	if (changed > 0)
		mail_wake();
answer:
	return reply_ok(req, json_pack("{s:s}", "message",
		"Thanks! Check your inbox and confirm your subscription with the link we sent."));
}

static int newsletter_confirm(req_t *req)
{
	valid_t v;
	v_init(&v, req, NULL);
	const char *token = q_str(&v, "token", 100);
	if (v_ok(&v) && (!token || !*token))
		v_error(&v, "token", "Required");
	if (!v_ok(&v))
		return v_reply(&v);
	char hash[65];
	token_hash(token, hash);
	int64_t now = now_ms();
	int64_t changed = DBX(req->db,
		"UPDATE newsletter_subscribers SET confirmed_at = $2, token_hash = NULL"
		" WHERE token_hash = $1 AND confirmed_at IS NULL AND unsubscribed_at IS NULL AND token_sent_at > $3",
		P_TEXT(hash), P_INT(now), P_INT(now - NEWSLETTER_TOKEN_TTL_MS));
	if (changed < 0)
		return reply_db_error(req, "confirm subscription");
	if (changed == 0)
		return reply_invalid1(req, "token", "This link is invalid or has expired");
	return reply_ok(req, json_pack("{s:s}", "message", "Your subscription is confirmed. Welcome aboard!"));
}

const route_t home_routes[] = {
	{ M_GET, "/api/stats/platform", stats_platform, ACCESS_PUBLIC, RL_GENERAL, BODY_NONE, 0, 0, "Platform figures for the homepage" },
	{ M_GET, "/api/creators/top", creators_top, ACCESS_PUBLIC, RL_GENERAL, BODY_NONE, 0, 0, "Top creators by likes + 3 x downloads + 5 x sales of their public models" },
	{ M_GET, "/api/testimonials", testimonials_list, ACCESS_PUBLIC, RL_GENERAL, BODY_NONE, 0, 0, "List approved testimonials" },
	{ M_GET, "/api/admin/testimonials", admin_testimonials_list, ACCESS_ADMIN, RL_ADMIN, BODY_NONE, 0, 0, "List all testimonials" },
	{ M_POST, "/api/admin/testimonials", admin_testimonials_create, ACCESS_ADMIN, RL_ADMIN, BODY_JSON, 0, 0, "Create a testimonial" },
	{ M_PUT, "/api/admin/testimonials/{id:int}", admin_testimonials_update, ACCESS_ADMIN, RL_ADMIN, BODY_JSON, 0, 0, "Update a testimonial" },
	{ M_DELETE, "/api/admin/testimonials/{id:int}", admin_testimonials_delete, ACCESS_ADMIN, RL_ADMIN, BODY_NONE, 0, 0, "Delete a testimonial" },
	{ M_PUT, "/api/admin/testimonials/{id:int}/approve", admin_testimonials_approve, ACCESS_ADMIN, RL_ADMIN, BODY_JSON, 0, 0, "Approve a testimonial (or withdraw it)" },
	{ M_GET, "/api/slider", slider_list, ACCESS_PUBLIC, RL_GENERAL, BODY_NONE, 0, 0, "List active homepage slides" },
	{ M_GET, "/api/admin/slider", admin_slider_list, ACCESS_ADMIN, RL_ADMIN, BODY_NONE, 0, 0, "List all slides" },
	{ M_POST, "/api/admin/slider", admin_slider_create, ACCESS_ADMIN, RL_ADMIN, BODY_JSON, 0, 0, "Create a slide" },
	{ M_PUT, "/api/admin/slider/{id:int}", admin_slider_update, ACCESS_ADMIN, RL_ADMIN, BODY_JSON, 0, 0, "Update a slide" },
	{ M_DELETE, "/api/admin/slider/{id:int}", admin_slider_delete, ACCESS_ADMIN, RL_ADMIN, BODY_NONE, 0, 0, "Delete a slide" },
	{ M_POST, "/api/newsletter/subscribe", newsletter_subscribe, ACCESS_PUBLIC, RL_AUTH, BODY_JSON, 0, 0, "Subscribe to the newsletter (double opt-in)" },
	{ M_GET, "/api/newsletter/confirm", newsletter_confirm, ACCESS_PUBLIC, RL_AUTH, BODY_NONE, 0, 0, "Confirm a newsletter subscription" },
};
EXPORT_ROUTES(home_routes);
