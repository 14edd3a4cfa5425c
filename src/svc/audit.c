#include "audit.h"
#include "../core/log.h"
#include "../core/util.h"
#include "../http/request.h"

void audit_log_as(db_t *db, struct req *req, int64_t actor_id, const char *action, const char *target_type,
		  int64_t target_id, json_t *detail)
{
	char *text = detail ? json_dumps(detail, JSON_COMPACT) : NULL;
	json_decref(detail);
	const char *ip = req && req->ip[0] ? req->ip : NULL;
	int64_t n = DBX(db, "INSERT INTO audit_log (actor_id, actor_username, action, target_type, target_id, detail, ip,"
			" created_at) VALUES ($1, (SELECT username FROM users WHERE id = $1), $2, $3, $4, $5, $6, $7)",
			actor_id > 0 ? P_INT(actor_id) : P_NULL, P_TEXT(action), P_TEXT(target_type),
			target_id > 0 ? P_INT(target_id) : P_NULL, P_TEXT(text ? text : "{}"), P_TEXT(ip), P_INT(now_ms()));
	if (n != 1)
		log_warn("audit: cannot record %s: %s", action, db_errmsg(db));
	free(text);
}

void audit_log(db_t *db, struct req *req, const char *action, const char *target_type, int64_t target_id,
	       json_t *detail)
{
	int64_t actor = req && req->user ? req->user->id : 0;
	audit_log_as(db, req, actor, action, target_type, target_id, detail);
}
