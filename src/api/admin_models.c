/*
 * admin_models.c: moderation.  New models wait as "pending"; an admin
 * approves, rejects (with a reason), features or deletes them, and the
 * creator is told (a notification and a mail).
 */
#include "api.h"
#include "models_common.h"
#include "safety.h"
#include "../core/config.h"
#include "../core/util.h"
#include "../http/reply.h"
#include "../http/request.h"
#include "../http/validate.h"
#include "../svc/cache.h"
#include "../svc/audit.h"
#include "../svc/mail.h"
#include "../svc/mail_tpl.h"
#include "paged.h"

/* Each model's latest safety scan (verdict, findings, the likely original
 * of a duplicate) beside approve/reject: one indexed read per model of the
 * page. */
static void add_safety(req_t *req, json_t *items)
{
	size_t i;
	json_t *m;
	json_array_foreach(items, i, m)
		json_object_set_new(m, "safety_scan", safety_summary(req, json_integer_value(json_object_get(m, "id"))));
}

static json_t *admin_models(req_t *req, db_rows_t *r, const void *ctx)
{
	UNUSED(ctx);
	json_t *items = models_from_rows(req, r, true);
	add_safety(req, items);
	return items;
}

static int admin_models_list(req_t *req)
{
	valid_t v;
	page_t p;
	paged_begin(&v, req, &p);
	static const char *const statuses[] = { "pending", "approved", "rejected", "all", NULL };
	const char *status = q_enum(&v, "status", statuses, "all");
	const char *search = q_str(&v, "search", 200);
	if (!v_ok(&v))
		return v_reply(&v);
	const char *like = search && *search ? like_contains(req->arena, search) : NULL;
#define ADMIN_MODELS_WHERE " WHERE m.deleted_at IS NULL AND (CAST($1 AS TEXT) IS NULL OR m.status = $1)" \
	" AND (CAST($2 AS TEXT) IS NULL OR lower(m.title) LIKE lower(CAST($2 AS TEXT)) ESCAPE '\\')"
	db_param_t filters[] = { P_TEXT(strcmp(status, "all") ? status : NULL), P_TEXT(like) };
	paged_t q = {
		.what = "list models",
		.count_sql = "SELECT COUNT(*)" MODEL_FROM ADMIN_MODELS_WHERE,
		.rows_sql = "SELECT " MODEL_COLS MODEL_FROM ADMIN_MODELS_WHERE " ORDER BY m.created_at DESC, m.id DESC",
		.params = filters, .nparams = 2,
		.rows = admin_models,
	};
#undef ADMIN_MODELS_WHERE
	return paged_reply(req, &p, &q);
}

static int reply_admin_model(req_t *req, int64_t id)
{
	db_rows_t *r = RQ(req, "SELECT " MODEL_COLS MODEL_FROM " WHERE m.id = $1 AND m.deleted_at IS NULL", P_INT(id));
	if (!r)
		return reply_db_error(req, "read model");
	json_t *m = db_next(r) ? model_json(r, true) : NULL;
	if (!m)
		return reply_error(req, ERR_NOT_FOUND, "Model not found");
	json_object_set_new(m, "safety_scan", safety_summary(req, id));
	return reply_ok(req, m);
}

static int admin_models_get(req_t *req)
{
	return reply_admin_model(req, req_param_int(req, "id"));
}

/* Tells the creator, in the app and by mail (the template named by type,
 * else the built-in text). */
static void tell_creator(req_t *req, const struct model_ref *m, const char *type, const char *title, const char *message,
			 const char *reason)
{
	char *url = arena_printf(req->arena, "/model/%lld", (long long)m->id);
	notify(req->db, m->creator_id, type, title, message, url);
	db_rows_t *r = DBQ(req->db, "SELECT email, COALESCE(full_name, username) FROM users WHERE id = $1 AND deleted_at IS NULL",
			   P_INT(m->creator_id));
	const char *email = NULL, *name = NULL;
	if (r && db_next(r)) {
		email = arena_strdup(req->arena, db_text(r, 0));
		name = arena_strdup(req->arena, db_text(r, 1));
	}
	db_done(r); /* before the mail's write: an open read would hold a stale snapshot */
	if (!email)
		return;
	mail_var_t vars[] = { { "name", name }, { "title", m->title }, { "reason", reason },
			      { "link", arena_printf(req->arena, "%s/model/%lld", cfg.frontend_url, (long long)m->id) } };
	if (mail_tpl_send(req->db, type, "model_moderation", email, vars, ARRAY_LEN(vars), 0))
		return;
	strbuf_t html;
	sb_init(&html, 0);
	sb_adds(&html, "<!doctype html><html><body style=\"font-family:sans-serif\"><p>");
	html_escape(&html, message);
	sb_adds(&html, "</p><p>— HWC3D</p></body></html>");
	char *text = arena_printf(req->arena, "Hi %s,\n\n%s\n\n— HWC3D\n", name, message);
	mail_queue(req->db, "model_moderation", email, title, text, html.buf);
	sb_release(&html);
}

static int admin_models_approve(req_t *req)
{
	struct model_ref m;
	if (!model_find_or_404(req, &m, true, true))
		return DONE;
	int64_t n = DBX(req->db, "UPDATE models SET status = 'approved', rejection_reason = NULL, updated_at = $2 WHERE id = $1",
			P_INT(m.id), P_INT(now_ms()));
	if (n != 1)
		return reply_model_write_failed(req, n, "approve");
	tell_creator(req, &m, "model_approved", "Your model is live",
		     arena_printf(req->arena, "'%s' was approved and is now on the marketplace.", m.title), NULL);
	audit_log(req->db, req, "model.approve", "model", m.id, json_pack("{s:s}", "title", m.title));
	cache_invalidate(CACHE_MODELS);
	cache_invalidate(CACHE_CATEGORIES); /* models_count: public models */
	cache_invalidate(CACHE_USERS);
	return reply_admin_model(req, m.id);
}

static int admin_models_reject(req_t *req)
{
	struct model_ref m;
	if (!model_find_or_404(req, &m, true, true))
		return DONE;
	valid_t v;
	v_init(&v, req, req_body(req));
	const char *reason = v_str(&v, "reason", V_REQUIRED | V_MULTILINE, 3, 1000);
	if (!v_ok(&v))
		return v_reply(&v);
	int64_t n = DBX(req->db, "UPDATE models SET status = 'rejected', is_featured = FALSE, rejection_reason = $2,"
			" updated_at = $3 WHERE id = $1", P_INT(m.id), P_TEXT(reason), P_INT(now_ms()));
	if (n != 1)
		return reply_model_write_failed(req, n, "reject");
	tell_creator(req, &m, "model_rejected", "Your model was not approved",
		     arena_printf(req->arena, "'%s' was not approved: %s", m.title, reason), reason);
	audit_log(req->db, req, "model.reject", "model", m.id, json_pack("{s:s, s:s}", "title", m.title, "reason", reason));
	cache_invalidate(CACHE_MODELS);
	cache_invalidate(CACHE_CATEGORIES); /* models_count: public models */
	cache_invalidate(CACHE_USERS);
	return reply_admin_model(req, m.id);
}

static int admin_models_feature(req_t *req)
{
	struct model_ref m;
	if (!model_find_or_404(req, &m, true, true))
		return DONE;
	valid_t v;
	v_init(&v, req, req_body(req));
	/* {"is_featured": bool} sets it; no body toggles. */
	bool set = v_present(&v, "is_featured");
	bool value = v_bool(&v, "is_featured", 0, false);
	if (!v_ok(&v))
		return v_reply(&v);
	if (strcmp(m.status, "approved") && (!set || value))
		return reply_error(req, ERR_CONFLICT, "Only approved models can be featured");
	int64_t n = DBX(req->db, "UPDATE models SET is_featured = CASE WHEN $2 = TRUE THEN $3 ELSE NOT is_featured END,"
			" updated_at = $4 WHERE id = $1", P_INT(m.id), P_BOOL(set), P_BOOL(value), P_INT(now_ms()));
	if (n != 1)
		return reply_model_write_failed(req, n, "feature");
	audit_log(req->db, req, "model.feature", "model", m.id,
		  set ? json_pack("{s:s, s:b}", "title", m.title, "is_featured", value) : json_pack("{s:s, s:b}", "title", m.title, "toggled", 1));
	cache_invalidate(CACHE_MODELS);
	return reply_admin_model(req, m.id);
}

static int admin_models_delete(req_t *req)
{
	struct model_ref m;
	if (!model_find_or_404(req, &m, true, true))
		return DONE;
	int rc = models_remove(req, m.id, m.creator_id, m.sales_count);
	if (req->status >= 200 && req->status < 300)
		audit_log(req->db, req, "model.delete", "model", m.id,
			  json_pack("{s:s, s:I}", "title", m.title, "sales_count", (json_int_t)m.sales_count));
	return rc;
}

const route_t admin_model_routes[] = {
	{ M_GET, "/api/admin/models", admin_models_list, ACCESS_ADMIN, RL_ADMIN, BODY_NONE, 0, 0, "Models by status" },
	{ M_GET, "/api/admin/models/{id:int}", admin_models_get, ACCESS_ADMIN, RL_ADMIN, BODY_NONE, 0, 0, "A model, any status" },
	{ M_PUT, "/api/admin/models/{id:int}/approve", admin_models_approve, ACCESS_ADMIN, RL_ADMIN, BODY_NONE, 0, 0, "Approve" },
	{ M_PUT, "/api/admin/models/{id:int}/reject", admin_models_reject, ACCESS_ADMIN, RL_ADMIN, BODY_JSON, 0, 0, "Reject with a reason" },
	{ M_PUT, "/api/admin/models/{id:int}/feature", admin_models_feature, ACCESS_ADMIN, RL_ADMIN, BODY_JSON, 0, 0, "Feature or unfeature" },
	{ M_DELETE, "/api/admin/models/{id:int}", admin_models_delete, ACCESS_ADMIN, RL_ADMIN, BODY_NONE, 0, 0, "Delete a model" },
};
EXPORT_ROUTES(admin_model_routes);
