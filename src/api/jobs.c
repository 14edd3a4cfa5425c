/* jobs.c: a background job's status, progress (0..100) and stage (svc/jobs.h),
 * for its owner or an admin.
 * There is no route that enqueues work: features enqueue their own kinds. */
#include "api.h"
#include "../http/reply.h"
#include "../http/request.h"
#include "../http/validate.h"

/* Someone else's job answers 404 like a missing one: ids are not probed. */
static int jobs_get(req_t *req)
{
	db_rows_t *r = RQ(req,
		"SELECT id, kind, status, attempts, max_attempts, result, error, created_at, updated_at, owner_id, progress, stage"
		" FROM jobs WHERE id = $1", P_INT(req_param_int(req, "id")));
	if (!r)
		return reply_db_error(req, "read job");
	if (!db_next(r) || (!req->user->is_admin && (db_isnull(r, 9) || db_int(r, 9) != req->user->id)))
		return db_failed(r) ? reply_db_error(req, "read job") : reply_error(req, ERR_NOT_FOUND, "Job not found");
	const char *res = db_text(r, 5);
	json_t *result = res ? json_loads(res, JSON_DECODE_ANY, NULL) : NULL;
	json_t *body = json_pack("{s:I, s:s, s:s, s:i, s:s?, s:i, s:i, s:o, s:s?, s:o, s:o}",
		"id", (json_int_t)db_int(r, 0), "kind", db_text(r, 1), "status", db_text(r, 2),
		"progress", (int)db_int(r, 10), "stage", db_text(r, 11),
		"attempts", (int)db_int(r, 3), "max_attempts", (int)db_int(r, 4),
		"result", result ? result : json_null(), "error", db_text(r, 6),
		"created_at", json_time(db_int(r, 7)), "updated_at", json_time(db_int(r, 8)));
	return reply_ok(req, body);
}

const route_t job_routes[] = {
	{ M_GET, "/api/jobs/{id:int}", jobs_get, ACCESS_USER, RL_GENERAL, BODY_NONE, 0, 0, "A background job's status and result (owner or admin)" },
};
EXPORT_ROUTES(job_routes);
