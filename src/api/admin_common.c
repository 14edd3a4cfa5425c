#include "admin_common.h"
#include "../core/util.h"
#include "../http/reply.h"
#include "../http/pool.h"
#include "../core/log.h"
#include "../auth/account.h"

bool admin_fields_known_or_400(req_t *req, json_t *body, const char *const *allowed)
{
	const char *key;
	json_t *value;
	json_object_foreach(body, key, value) {
		bool known = false;
		for (size_t i = 0; allowed[i] && !known; i++)
			known = !strcmp(allowed[i], key);
		if (!known) {
			/* The guide's error body, with 400 as for a malformed body. */
			json_t *fields = json_object();
			json_object_set_new(fields, key, json_pack("[s]", "This field cannot be set here"));
			reply_json(req, 400, json_pack("{s:s, s:s, s:o}", "detail",
				arena_printf(req->arena, "Unknown or read-only field: %.64s", key),
				"error_code", "VALIDATION_ERROR", "field_errors", fields));
			return false;
		}
	}
	return true;
}

json_t *admin_money(int64_t cents)
{
	return json_real((double)cents / 100.0);
}

bool user_ban_apply(req_t *req, int64_t user_id, const char *reason, int64_t *hidden)
{
	int64_t now = now_ms();
	*hidden = 0;
	if (DBX(req->db, "UPDATE users SET is_banned = TRUE, ban_reason = COALESCE($2, ban_reason),"
		" banned_at = COALESCE(banned_at, $3), updated_at = $3 WHERE id = $1 AND deleted_at IS NULL",
		P_INT(user_id), P_TEXT(reason), P_INT(now)) != 1 ||
	    !session_revoke_all(req->db, user_id))
		return false;
	*hidden = DBX(req->db, "UPDATE models SET ban_hidden = TRUE, is_published = FALSE, is_featured = FALSE,"
		      " updated_at = $2 WHERE creator_id = $1 AND is_published = TRUE AND deleted_at IS NULL",
		      P_INT(user_id), P_INT(now));
	return *hidden >= 0;
}

struct admin_job {
	req_t *req;
	admin_compute_fn fn;
	void *ctx;
	json_t *out;
	const char *what;
};

static void admin_work(void *ctx)
{
	struct admin_job *j = ctx;
	if (!j->req->db) {
		j->what = "no database connection";
		return;
	}
	j->out = j->fn(j->req, j->req->db, j->ctx, &j->what);
	if (!j->out && !j->what)
		j->what = "compute";
	if (!j->out)
		log_warn("request %s: %s %s: %s: %s", j->req->request_id, j->req->method, j->req->path, j->what,
			 db_errmsg(j->req->db));
}

static int admin_done(req_t *req, void *ctx)
{
	struct admin_job *j = ctx;
	if (j->out)
		return reply_ok(req, j->out);
	req->retry_after = 5;
	return reply_error(req, ERR_UNAVAILABLE, "The database did not answer; try again shortly");
}

int admin_defer_json(req_t *req, admin_compute_fn fn, void *ctx)
{
	struct admin_job *j = arena_calloc(req->arena, sizeof(*j));
	*j = (struct admin_job){ .req = req, .fn = fn, .ctx = ctx };
	return pool_defer(req, POOL_DB, admin_work, admin_done, j);
}
