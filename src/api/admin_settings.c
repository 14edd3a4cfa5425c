/*
 * admin_settings.c: GET/PUT /api/admin/settings, the platform settings
 * (svc/settings.h) an admin changes without a restart.
 *
 * PUT takes any subset of the fields GET shows (the limits object is
 * read-only); an unknown field is 400, a bad value 422 with every field's
 * error.  Upload limits never go above the guide's maxima.
 */
#include "api.h"
#include "admin_common.h"
#include "../core/util.h"
#include "../http/reply.h"
#include "../http/request.h"
#include "../http/validate.h"
#include "../svc/audit.h"
#include "../svc/settings.h"

static json_t *settings_json(const platform_settings_t *s)
{
	return json_pack("{s:f, s:o, s:b, s:I, s:I, s:I, s:b, s:s, s:b, s:{s:i, s:i, s:i, s:f}}",
		"platform_fee_percent", (double)s->platform_fee_bps / 100.0,
		"payout_minimum", admin_money(s->payout_minimum_cents),
		"model_approval_required", s->model_approval_required,
		"max_model_upload_mb", (json_int_t)s->max_model_upload_mb,
		"max_image_upload_mb", (json_int_t)s->max_image_upload_mb,
		"max_avatar_upload_mb", (json_int_t)s->max_avatar_upload_mb,
		"maintenance_mode", s->maintenance_mode,
		"maintenance_message", s->maintenance_message,
		"registration_open", s->registration_open,
		"limits", "max_model_upload_mb", SETTINGS_MODEL_MB_MAX, "max_image_upload_mb", SETTINGS_IMAGE_MB_MAX,
		"max_avatar_upload_mb", SETTINGS_AVATAR_MB_MAX, "platform_fee_percent", 100.0);
}

static int admin_settings_get(req_t *req)
{
	platform_settings_t s;
	if (!settings_load(req->db, &s))
		return reply_db_error(req, "read settings");
	return reply_ok(req, settings_json(&s));
}

struct change {
	const char *key;
	char value[SETTINGS_MESSAGE_MAX * 4 + 1];
};

static int admin_settings_update(req_t *req)
{
	static const char *const fields[] = {
		"platform_fee_percent", "payout_minimum", "model_approval_required", "max_model_upload_mb",
		"max_image_upload_mb", "max_avatar_upload_mb", "maintenance_mode", "maintenance_message",
		"registration_open", NULL,
	};
	json_t *body = req_body(req);
	if (!admin_fields_known_or_400(req, body, fields))
		return DONE;
	platform_settings_t cur;
	if (!settings_load(req->db, &cur))
		return reply_db_error(req, "read settings");

	valid_t v;
	v_init(&v, req, body);
	platform_settings_t s = cur;
	s.platform_fee_bps = v_money(&v, "platform_fee_percent", 0, 10000, cur.platform_fee_bps);
	s.payout_minimum_cents = v_money(&v, "payout_minimum", 0, 100000000, cur.payout_minimum_cents);
	if (v_present(&v, "payout_minimum") && s.payout_minimum_cents < 1)
		v_error(&v, "payout_minimum", "Must be at least 0.01");
	s.model_approval_required = v_bool(&v, "model_approval_required", 0, cur.model_approval_required);
	s.max_model_upload_mb = v_int(&v, "max_model_upload_mb", 0, 1, SETTINGS_MODEL_MB_MAX, cur.max_model_upload_mb);
	s.max_image_upload_mb = v_int(&v, "max_image_upload_mb", 0, 1, SETTINGS_IMAGE_MB_MAX, cur.max_image_upload_mb);
	s.max_avatar_upload_mb = v_int(&v, "max_avatar_upload_mb", 0, 1, SETTINGS_AVATAR_MB_MAX, cur.max_avatar_upload_mb);
	s.maintenance_mode = v_bool(&v, "maintenance_mode", 0, cur.maintenance_mode);
	const char *message = v_str(&v, "maintenance_message", V_NULLABLE | V_MULTILINE, 0, SETTINGS_MESSAGE_MAX);
	s.registration_open = v_bool(&v, "registration_open", 0, cur.registration_open);
	if (!v_ok(&v))
		return v_reply(&v);
	if (message)
		snprintf(s.maintenance_message, sizeof(s.maintenance_message), "%s", message);
	else if (v_present(&v, "maintenance_message"))
		s.maintenance_message[0] = '\0';

	/* What changed, as text for the table and {from, to} for the log. */
	struct change ch[9];
	size_t n = 0;
	json_t *detail = json_object();
#define CHANGED_INT(field, name)                                                                          \
	if (s.field != cur.field) {                                                                        \
		ch[n].key = name;                                                                           \
		snprintf(ch[n++].value, sizeof(ch[0].value), "%lld", (long long)s.field);                  \
		json_object_set_new(detail, name, json_pack("{s:I, s:I}", "from", (json_int_t)cur.field,    \
							   "to", (json_int_t)s.field));                    \
	}
#define CHANGED_BOOL(field, name)                                                                         \
	if (s.field != cur.field) {                                                                        \
		ch[n].key = name;                                                                           \
		snprintf(ch[n++].value, sizeof(ch[0].value), "%s", s.field ? "true" : "false");            \
		json_object_set_new(detail, name, json_pack("{s:b, s:b}", "from", cur.field, "to", s.field)); \
	}
	CHANGED_INT(platform_fee_bps, "platform_fee_bps")
	CHANGED_INT(payout_minimum_cents, "payout_minimum_cents")
	CHANGED_BOOL(model_approval_required, "model_approval_required")
	CHANGED_INT(max_model_upload_mb, "max_model_upload_mb")
	CHANGED_INT(max_image_upload_mb, "max_image_upload_mb")
	CHANGED_INT(max_avatar_upload_mb, "max_avatar_upload_mb")
	CHANGED_BOOL(maintenance_mode, "maintenance_mode")
	CHANGED_BOOL(registration_open, "registration_open")
#undef CHANGED_INT
#undef CHANGED_BOOL
	if (strcmp(s.maintenance_message, cur.maintenance_message)) {
		ch[n].key = "maintenance_message";
		snprintf(ch[n++].value, sizeof(ch[0].value), "%s", s.maintenance_message);
		json_object_set_new(detail, "maintenance_message", json_pack("{s:s, s:s}", "from",
					    cur.maintenance_message, "to", s.maintenance_message));
	}
	if (n == 0) {
		json_decref(detail);
		return reply_ok(req, settings_json(&s));
	}
	if (!db_begin(req->db)) {
		json_decref(detail);
		return reply_db_error(req, "begin");
	}
	bool ok = true;
	for (size_t i = 0; i < n && ok; i++)
		ok = settings_store(req->db, ch[i].key, ch[i].value, req->user->id);
	if (ok)
		audit_log(req->db, req, "settings.update", "settings", 0, detail);
	else
		json_decref(detail);
	if (!ok || !db_commit(req->db)) {
		db_rollback(req->db);
		settings_invalidate();
		return reply_db_error(req, "store settings");
	}
	settings_invalidate();
	return reply_ok(req, settings_json(&s));
}

const route_t admin_settings_routes[] = {
	{ M_GET, "/api/admin/settings", admin_settings_get, ACCESS_ADMIN, RL_ADMIN, BODY_NONE, 0, 0, "Platform settings" },
	{ M_PUT, "/api/admin/settings", admin_settings_update, ACCESS_ADMIN, RL_ADMIN, BODY_JSON, 0, 0, "Change platform settings" },
};
EXPORT_ROUTES(admin_settings_routes);
