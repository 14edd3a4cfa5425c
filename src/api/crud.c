/*
 * crud.c: create / read / update / delete from a crud_t (crud.h).
 */
#include "crud.h"
#include "../core/util.h"
#include "../http/reply.h"
#include "../svc/audit.h"

/* The audit log's row for a write: "<noun>.<verb>" ("slide.update") on
 * the table, with the fields sent. */
static void audit(req_t *req, const crud_t *c, const char *verb, int64_t id, bool with_body)
{
	char *noun = arena_strdup(req->arena, c->noun);
	for (char *p = noun; *p; p++)
		*p = *p == ' ' ? '_' : (char)(*p >= 'A' && *p <= 'Z' ? *p - 'A' + 'a' : *p);
	json_t *body = with_body && req_body(req) ? json_deep_copy(req_body(req)) : NULL;
	audit_log(req->db, req, arena_printf(req->arena, "%s.%s", noun, verb), c->table, id, body);
}

static int db_failure(req_t *req, const crud_t *c, const char *verb)
{
	const char *what = arena_printf(req->arena, "%s %s", verb, c->table);
	return c->on_db_error ? c->on_db_error(req, what) : reply_db_error(req, what);
}

static int not_found(req_t *req, const crud_t *c)
{
	return reply_error(req, ERR_NOT_FOUND, arena_printf(req->arena, "%s not found", c->noun));
}

int crud_reply_one(req_t *req, const crud_t *c, int64_t id, int status)
{
	db_rows_t *r = RQ(req, c->select_one, P_INT(id));
	if (!r)
		return db_failure(req, c, "read");
	if (!db_next(r))
		return db_failed(r) ? db_failure(req, c, "read") : not_found(req, c);
	return reply_json(req, status, c->row(r));
}

int crud_get(req_t *req, const crud_t *c)
{
	return crud_reply_one(req, c, req_param_int(req, "id"), 200);
}

int crud_create(req_t *req, const crud_t *c)
{
	valid_t v;
	v_init(&v, req, req_body(req));
	upd_value_t *in = upd_values(req, c->nfields);
	if (!upd_read(&v, c->fields, c->nfields, true, in))
		return v_reply(&v);
	if (c->before_create)
		c->before_create(req, in);
	int64_t id = 0;
	if (upd_insert(req, c->table, c->fields, c->nfields, in, &id) != 1)
		return db_failure(req, c, "create");
	audit(req, c, "create", id, true);
	cache_invalidate(c->area);
	return crud_reply_one(req, c, id, 201);
}

int crud_update(req_t *req, const crud_t *c)
{
	int64_t id = req_param_int(req, "id");
	valid_t v;
	v_init(&v, req, req_body(req));
	upd_value_t *in = upd_values(req, c->nfields);
	if (!upd_read(&v, c->fields, c->nfields, false, in))
		return v_reply(&v);
	int64_t changed = upd_update(req, c->table, c->fields, c->nfields, in, id);
	if (changed < 0)
		return db_failure(req, c, "update");
	if (changed == 0)
		return not_found(req, c);
	audit(req, c, "update", id, true);
	cache_invalidate(c->area);
	return crud_reply_one(req, c, id, 200);
}

int crud_delete(req_t *req, const crud_t *c)
{
	int64_t id = req_param_int(req, "id");
	int64_t changed = db_exec(req->db, arena_printf(req->arena, "DELETE FROM %s WHERE id = $1", c->table),
				  DB_PARAMS(P_INT(id)));
	if (changed < 0)
		return db_failure(req, c, "delete");
	if (changed == 0)
		return not_found(req, c);
	audit(req, c, "delete", id, false);
	cache_invalidate(c->area);
	return reply_ok(req, json_pack("{s:s, s:I}", "message", arena_printf(req->arena, "%s deleted", c->noun),
				       "id", (json_int_t)id));
}
