/*
 * admin_emails.c: mail templates, mailings and the delivery history
 * (guide section 13, "Email Management").
 *
 * Templates (mail_tpl.h) are the mails the platform sends (system ones,
 * editable, never deleted, their key fixed) and the admins' own, for
 * mailings.  Saving a template with a placeholder its key does not allow
 * is a 400 naming the variable.  A mailing goes to one user, the admin
 * themself ("me": a test), all users, creators, buyers or confirmed
 * newsletter subscribers; it is recorded in email_campaigns and expanded
 * into the outbox by the email_campaign job in batches, never on the
 * request thread.  The history is the outbox: every mail, its status
 * (queued, sending, sent, failed), attempts and last error, never a body.
 */
#include "api.h"
#include "admin_common.h"
#include "paged.h"
#include "../core/util.h"
#include "../http/reply.h"
#include "../http/request.h"
#include "../http/validate.h"
#include "../svc/audit.h"
#include "../svc/jobs.h"
#include "../svc/mail_tpl.h"

static json_t *vars_json(const char *key)
{
	json_t *a = json_array();
	for (const char *const *v = mail_tpl_vars(key); *v; v++)
		json_array_append_new(a, json_string(*v));
	return a;
}

static json_t *template_json(db_rows_t *r)
{
	const char *key = db_text(r, 1);
	return json_pack("{s:I, s:s, s:s, s:s, s:s, s:b, s:o, s:o, s:o}", "id", (json_int_t)db_int(r, 0), "key", key,
			 "name", db_text(r, 2), "subject", db_text(r, 3), "body", db_text(r, 4), "is_system", db_bool(r, 5),
			 "variables", vars_json(key), "created_at", json_time(db_int(r, 6)), "updated_at", json_time(db_int(r, 7)));
}

#define TEMPLATE_SELECT "SELECT id, key, name, subject, body, is_system, created_at, updated_at FROM email_templates"

static int admin_email_templates_list(req_t *req)
{
	valid_t v;
	page_t p;
	paged_begin(&v, req, &p);
	const char *search = q_str(&v, "search", 100);
	if (!v_ok(&v))
		return v_reply(&v);
	const char *like = search && *search ? like_contains(req->arena, utf8_lower(req->arena, search)) : NULL;
#define TEMPLATES_WHERE " WHERE (CAST($1 AS TEXT) IS NULL OR lower(name) LIKE $1 ESCAPE '\\' OR key LIKE $1 ESCAPE '\\')"
	db_param_t filters[] = { P_TEXT(like) };
	paged_t q = {
		.what = "list templates",
		.count_sql = "SELECT COUNT(*) FROM email_templates" TEMPLATES_WHERE,
		.rows_sql = TEMPLATE_SELECT TEMPLATES_WHERE " ORDER BY is_system DESC, name, id",
		.params = filters, .nparams = 1,
		.row = template_json,
	};
#undef TEMPLATES_WHERE
	return paged_reply(req, &p, &q);
}

static int reply_template(req_t *req, int64_t id, int status)
{
	db_rows_t *r = RQ(req, TEMPLATE_SELECT " WHERE id = $1", P_INT(id));
	if (!r)
		return reply_db_error(req, "read template");
	json_t *t = db_next(r) ? template_json(r) : NULL;
	if (!t)
		return db_failed(r) ? reply_db_error(req, "read template") : reply_error(req, ERR_NOT_FOUND, "Template not found");
	return reply_json(req, status, t);
}

/* 400 naming the first unknown or malformed placeholder; false after
 * replying. */
static bool placeholders_ok_or_400(req_t *req, const char *key, const char *field, const char *s)
{
	if (!s)
		return true;
	char *msg = mail_tpl_check(s, mail_tpl_vars(key));
	if (!msg)
		return true;
	json_t *fields = json_object();
	json_object_set_new(fields, field, json_pack("[s]", msg));
	reply_json(req, 400, json_pack("{s:s, s:s, s:o}", "detail", arena_strdup(req->arena, msg), "error_code",
				       "VALIDATION_ERROR", "field_errors", fields));
	free(msg);
	return false;
}

static bool key_valid(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_'))
			return false;
	return true;
}

static int admin_email_templates_create(req_t *req)
{
	static const char *const fields[] = { "key", "name", "subject", "body", NULL };
	json_t *body = req_body(req);
	if (!admin_fields_known_or_400(req, body, fields))
		return DONE;
	valid_t v;
	v_init(&v, req, body);
	const char *key = v_str(&v, "key", V_REQUIRED, 2, 50);
	const char *name = v_str(&v, "name", V_REQUIRED, 1, 100);
	const char *subject = v_str(&v, "subject", V_REQUIRED, 1, MAIL_TPL_SUBJECT_MAX);
	const char *text = v_str(&v, "body", V_REQUIRED | V_MULTILINE, 1, MAIL_TPL_BODY_MAX);
	if (key && !key_valid(key))
		v_error(&v, "key", "Use a-z, 0-9 and _");
	else if (key && (mail_tpl_is_system(key) || !strcmp(key, "campaign")))
		v_error(&v, "key", "This key is reserved");
	if (!v_ok(&v))
		return v_reply(&v);
	if (!placeholders_ok_or_400(req, key, "subject", subject) || !placeholders_ok_or_400(req, key, "body", text))
		return DONE;
	int64_t now = now_ms(), id = 0;
	if (!db_begin(req->db))
		return reply_db_error(req, "begin");
	int rc = DBS(req->db, &id, "INSERT INTO email_templates (key, name, subject, body, is_system, created_at, updated_at)"
		     " VALUES ($1, $2, $3, $4, FALSE, $5, $5) RETURNING id",
		     P_TEXT(key), P_TEXT(name), P_TEXT(subject), P_TEXT(text), P_INT(now));
	if (rc == 1)
		audit_log(req->db, req, "email_template.create", "email_template", id, json_pack("{s:s}", "key", key));
	if (rc != 1 || !db_commit(req->db)) {
		bool clash = db_error(req->db) == DB_ERR_UNIQUE;
		db_rollback(req->db);
		if (clash)
			return reply_error_fields(req, ERR_CONFLICT, "A template with this key exists",
						  json_pack("{s:[s]}", "key", "Already taken"));
		return reply_db_error(req, "create template");
	}
	return reply_template(req, id, 201);
}

struct tpl_ref {
	int64_t id;
	const char *key;
	bool is_system;
};

static bool tpl_find_or_404(req_t *req, struct tpl_ref *t)
{
	t->id = req_param_int(req, "id");
	db_rows_t *r = RQ(req, "SELECT key, is_system FROM email_templates WHERE id = $1", P_INT(t->id));
	if (!r || !db_next(r)) {
		if (!r || db_failed(r))
			reply_db_error(req, "read template");
		else
			reply_error(req, ERR_NOT_FOUND, "Template not found");
		return false;
	}
	t->key = arena_strdup(req->arena, db_text(r, 0));
	t->is_system = db_bool(r, 1);
	db_done(r);
	return true;
}

static int admin_email_templates_update(req_t *req)
{
	static const char *const fields[] = { "name", "subject", "body", NULL };
	json_t *body = req_body(req);
	if (!admin_fields_known_or_400(req, body, fields))
		return DONE;
	struct tpl_ref t;
	if (!tpl_find_or_404(req, &t))
		return DONE;
	valid_t v;
	v_init(&v, req, body);
	const char *name = v_str(&v, "name", 0, 1, 100);
	const char *subject = v_str(&v, "subject", 0, 1, MAIL_TPL_SUBJECT_MAX);
	const char *text = v_str(&v, "body", V_MULTILINE, 1, MAIL_TPL_BODY_MAX);
	if (!v_ok(&v))
		return v_reply(&v);
	if (!placeholders_ok_or_400(req, t.key, "subject", subject) || !placeholders_ok_or_400(req, t.key, "body", text))
		return DONE;
	if (!db_begin(req->db))
		return reply_db_error(req, "begin");
	bool ok = DBX(req->db, "UPDATE email_templates SET name = COALESCE($2, name), subject = COALESCE($3, subject),"
		      " body = COALESCE($4, body), updated_at = $5 WHERE id = $1",
		      P_INT(t.id), P_TEXT(name), P_TEXT(subject), P_TEXT(text), P_INT(now_ms())) == 1;
	if (ok) {
		json_t *changed = json_array();
		const char *const *f;
		for (f = fields; *f; f++)
			if (json_object_get(body, *f))
				json_array_append_new(changed, json_string(*f));
		audit_log(req->db, req, "email_template.update", "email_template", t.id,
			  json_pack("{s:s, s:o}", "key", t.key, "changed", changed));
	}
	if (!ok || !db_commit(req->db)) {
		db_rollback(req->db);
		return reply_db_error(req, "update template");
	}
	return reply_template(req, t.id, 200);
}

static int admin_email_templates_delete(req_t *req)
{
	struct tpl_ref t;
	if (!tpl_find_or_404(req, &t))
		return DONE;
	if (t.is_system)
		return reply_error(req, ERR_CONFLICT, "The platform sends this mail: edit it, it cannot be deleted");
	if (!db_begin(req->db))
		return reply_db_error(req, "begin");
	bool ok = DBX(req->db, "DELETE FROM email_templates WHERE id = $1 AND is_system = FALSE", P_INT(t.id)) == 1;
	if (ok)
		audit_log(req->db, req, "email_template.delete", "email_template", t.id, json_pack("{s:s}", "key", t.key));
	if (!ok || !db_commit(req->db)) {
		db_rollback(req->db);
		return reply_db_error(req, "delete template");
	}
	return reply_no_content(req);
}

/* Renders what the editor shows, with sample values for the variables
 * (or the ones given): the same code the real mails go through. */
static int admin_email_templates_preview(req_t *req)
{
	static const char *const fields[] = { "key", "subject", "body", "variables", NULL };
	json_t *body = req_body(req);
	if (!admin_fields_known_or_400(req, body, fields))
		return DONE;
	valid_t v;
	v_init(&v, req, body);
	const char *key = v_str(&v, "key", 0, 0, 50);
	const char *subject = v_str(&v, "subject", V_REQUIRED, 0, MAIL_TPL_SUBJECT_MAX);
	const char *text = v_str(&v, "body", V_REQUIRED | V_MULTILINE, 0, MAIL_TPL_BODY_MAX);
	json_t *given = json_object_get(body, "variables");
	if (given && !json_is_object(given))
		v_error(&v, "variables", "Must be an object of strings");
	if (!v_ok(&v))
		return v_reply(&v);
	if (!key)
		key = "campaign";
	if (!placeholders_ok_or_400(req, key, "subject", subject) || !placeholders_ok_or_400(req, key, "body", text))
		return DONE;
	static const struct { const char *name, *sample; } samples[] = {
		{ "name", "Ada Lovelace" }, { "username", "ada" }, { "email", "ada@example.com" }, { "code", "123456" },
		{ "link", "https://example.com/reset-password?token=sample" }, { "title", "Sample model" },
		{ "reason", "The preview images do not show the model" },
	};
	mail_var_t vars[ARRAY_LEN(samples)];
	for (size_t i = 0; i < ARRAY_LEN(samples); i++) {
		json_t *g = given ? json_object_get(given, samples[i].name) : NULL;
		const char *gv = json_is_string(g) ? json_string_value(g) : NULL;
		vars[i] = (mail_var_t){ samples[i].name, gv && strlen(gv) <= 1000 ? gv : samples[i].sample };
	}
	strbuf_t s, t, h;
	sb_init(&s, 0);
	sb_init(&t, 0);
	sb_init(&h, 0);
	mail_tpl_render(subject, text, vars, ARRAY_LEN(vars), &s, &t, &h);
	json_t *out = json_pack("{s:s, s:s, s:s}", "subject", s.buf, "text", t.buf, "html", h.buf);
	sb_release(&s);
	sb_release(&t);
	sb_release(&h);
	return reply_ok(req, out);
}

static int admin_email_send(req_t *req)
{
	static const char *const fields[] = { "segment", "user_id", "template_id", "subject", "body", NULL };
	json_t *body = req_body(req);
	if (!admin_fields_known_or_400(req, body, fields))
		return DONE;
	valid_t v;
	v_init(&v, req, body);
	static const char *const segments[] = { "user", "me", "all", "creators", "buyers", "newsletter", NULL };
	const char *segment = v_enum(&v, "segment", V_REQUIRED, segments, NULL);
	int64_t user_id = v_int(&v, "user_id", 0, 1, INT64_MAX, 0);
	int64_t template_id = v_int(&v, "template_id", 0, 1, INT64_MAX, 0);
	const char *subject = v_str(&v, "subject", 0, 1, MAIL_TPL_SUBJECT_MAX);
	const char *text = v_str(&v, "body", V_MULTILINE, 1, MAIL_TPL_BODY_MAX);
	if (segment && !strcmp(segment, "user") && !user_id)
		v_error(&v, "user_id", "Required for the segment user");
	if (!template_id && (!subject || !text)) {
		if (!subject)
			v_error(&v, "subject", "Required without template_id");
		if (!text)
			v_error(&v, "body", "Required without template_id");
	}
	if (!v_ok(&v))
		return v_reply(&v);
	const char *key = "campaign";
	if (template_id) {
		db_rows_t *r = RQ(req, "SELECT key, subject, body, is_system FROM email_templates WHERE id = $1", P_INT(template_id));
		if (!r)
			return reply_db_error(req, "read template");
		if (!db_next(r))
			return db_failed(r) ? reply_db_error(req, "read template")
					    : reply_invalid1(req, "template_id", "No such template");
		if (db_bool(r, 3))
			return reply_invalid1(req, "template_id", "System templates are sent by the platform itself");
		key = arena_strdup(req->arena, db_text(r, 0));
		if (!subject)
			subject = arena_strdup(req->arena, db_text(r, 1));
		if (!text)
			text = arena_strdup(req->arena, db_text(r, 2));
		db_done(r);
	}
	if (!placeholders_ok_or_400(req, "campaign", "subject", subject) || !placeholders_ok_or_400(req, "campaign", "body", text))
		return DONE;
	if (!strcmp(segment, "me"))
		user_id = req->user->id;
	else if (!strcmp(segment, "user")) {
		int64_t n = 0;
		if (DBS(req->db, &n, "SELECT COUNT(*) FROM users WHERE id = $1 AND deleted_at IS NULL", P_INT(user_id)) < 0)
			return reply_db_error(req, "read user");
		if (!n)
			return reply_invalid1(req, "user_id", "No such user");
	} else {
		user_id = 0;
	}
	int64_t now = now_ms(), id = 0, job = 0;
	if (!db_begin(req->db))
		return reply_db_error(req, "begin");
	bool ok = DBS(req->db, &id, "INSERT INTO email_campaigns (segment, user_id, template_key, subject, body, created_by,"
		      " created_at) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id", P_TEXT(segment),
		      user_id ? P_INT(user_id) : P_NULL, P_TEXT(key), P_TEXT(subject), P_TEXT(text), P_INT(req->user->id),
		      P_INT(now)) == 1;
	char payload[64];
	snprintf(payload, sizeof(payload), "{\"campaign_id\": %lld}", (long long)id);
	ok = ok && job_enqueue(req->db, MAIL_CAMPAIGN_JOB, payload, req->user->id, &job);
	if (ok)
		audit_log(req->db, req, "email.send", "email_campaign", id,
			  json_pack("{s:s, s:s, s:I}", "segment", segment, "subject", subject, "user_id", (json_int_t)user_id));
	if (!ok || !db_commit(req->db)) {
		db_rollback(req->db);
		return reply_db_error(req, "queue mailing");
	}
	return reply_json(req, 202, json_pack("{s:I, s:I, s:s, s:s}", "campaign_id", (json_int_t)id, "job_id",
					      (json_int_t)job, "status", "queued", "segment", segment));
}

static json_t *history_json(db_rows_t *r)
{
	return json_pack("{s:I, s:s, s:s, s:s, s:s, s:i, s:s?, s:o, s:o, s:o}", "id", (json_int_t)db_int(r, 0),
			 "kind", db_text(r, 1), "to", db_text(r, 2), "subject", db_text(r, 3), "status", db_text(r, 4),
			 "attempts", (int)db_int(r, 5), "last_error", db_text(r, 6), "created_at", json_time(db_int(r, 7)),
			 "sent_at", json_time(db_isnull(r, 8) ? 0 : db_int(r, 8)),
			 "campaign_id", db_isnull(r, 9) ? json_null() : json_integer(db_int(r, 9)));
}

static int admin_email_history(req_t *req)
{
	valid_t v;
	page_t p;
	paged_begin(&v, req, &p);
	static const char *const statuses[] = { "queued", "sending", "sent", "failed", "all", NULL };
	const char *status = q_enum(&v, "status", statuses, "all");
	const char *kind = q_str(&v, "kind", 50);
	const char *search = q_str(&v, "search", 200);
	int64_t campaign = q_int(&v, "campaign_id", 0, INT64_MAX, 0);
	if (!v_ok(&v))
		return v_reply(&v);
	const char *like = search && *search ? like_contains(req->arena, utf8_lower(req->arena, search)) : NULL;
#define HISTORY_WHERE " FROM mail_outbox o WHERE (CAST($1 AS TEXT) IS NULL OR o.status = $1)" \
	" AND (CAST($2 AS TEXT) IS NULL OR o.kind = $2) AND (CAST($3 AS TEXT) IS NULL OR lower(o.to_addr) LIKE $3 ESCAPE '\\')" \
	" AND (CAST($4 AS BIGINT) = 0 OR o.campaign_id = $4)"
	db_param_t filters[] = { P_TEXT(strcmp(status, "all") ? status : NULL), P_TEXT(kind && *kind ? kind : NULL),
				 P_TEXT(like), P_INT(campaign) };
	paged_t q = {
		.what = "list mail",
		.count_sql = "SELECT COUNT(*)" HISTORY_WHERE,
		.rows_sql = "SELECT o.id, o.kind, o.to_addr, o.subject, o.status, o.attempts, o.last_error, o.created_at,"
			    " o.sent_at, o.campaign_id" HISTORY_WHERE " ORDER BY o.created_at DESC, o.id DESC",
		.params = filters, .nparams = 4,
		.row = history_json,
	};
#undef HISTORY_WHERE
	return paged_reply(req, &p, &q);
}

const route_t admin_email_routes[] = {
	{ M_GET, "/api/admin/emails/templates", admin_email_templates_list, ACCESS_ADMIN, RL_ADMIN, BODY_NONE, 0, 0, "Mail templates" },
	{ M_POST, "/api/admin/emails/templates", admin_email_templates_create, ACCESS_ADMIN, RL_ADMIN, BODY_JSON, 0, 0, "Create a mail template" },
	{ M_POST, "/api/admin/emails/templates/preview", admin_email_templates_preview, ACCESS_ADMIN, RL_ADMIN, BODY_JSON, 0, 0, "Render a template with sample values" },
	{ M_PUT, "/api/admin/emails/templates/{id:int}", admin_email_templates_update, ACCESS_ADMIN, RL_ADMIN, BODY_JSON, 0, 0, "Edit a mail template" },
	{ M_DELETE, "/api/admin/emails/templates/{id:int}", admin_email_templates_delete, ACCESS_ADMIN, RL_ADMIN, BODY_NONE, 0, 0, "Delete a mail template (not a system one)" },
	{ M_POST, "/api/admin/emails/send", admin_email_send, ACCESS_ADMIN, RL_ADMIN, BODY_JSON, 0, 0, "Send a mailing through the outbox" },
	{ M_GET, "/api/admin/emails/history", admin_email_history, ACCESS_ADMIN, RL_ADMIN, BODY_NONE, 0, 0, "Every mail sent, with its delivery status" },
};
EXPORT_ROUTES(admin_email_routes);
