/*
 * paged.c: a page of a list, counted, selected and enveloped (paged.h).
 */
#include "paged.h"
#include "../core/util.h"
#include "../http/reply.h"

int reply_page_too_deep(req_t *req)
{
	return reply_invalid1(req, "page", arena_printf(req->arena, "Pages start at most %d rows deep: narrow the filters",
							 PAGE_MAX_OFFSET));
}

void paged_begin(valid_t *v, req_t *req, page_t *p)
{
	v_init(v, req, NULL);
	q_page(v, p);
}

int paged_reply(req_t *req, const page_t *p, const paged_t *q)
{
	uint64_t gen = cache_generation(q->area);
	const char *key = NULL;
	if (q->key) {
		key = arena_printf(req->arena, "%s|%lld|%lld", q->key, (long long)p->page, (long long)p->limit);
		if (reply_from_cache(req, q->area, key))
			return DONE;
	}
	int n = q->nparams;
	db_param_t *params = arena_alloc(req->arena, (size_t)(n + 2) * sizeof(*params));
	for (int i = 0; i < n; i++)
		params[i] = q->params[i];
	params[n] = P_INT(p->limit);
	params[n + 1] = P_INT(p->offset);
	int64_t total = 0;
	if (db_scalar(req->db, q->count_sql, params, n, &total) < 0)
		return reply_db_error(req, arena_printf(req->arena, "count: %s", q->what));
	if (page_too_deep(p, total))
		return reply_page_too_deep(req);
	const char *sql = arena_printf(req->arena, "%s LIMIT $%d OFFSET $%d", q->rows_sql, n + 1, n + 2);
	db_rows_t *r = db_query(req->db, sql, params, n + 2);
	json_t *items = NULL;
	if (r)
		items = q->rows ? q->rows(req, r, q->ctx) : rows_to_array(r, q->row);
	if (!items)
		return reply_db_error(req, q->what);
	json_t *page = page_envelope(items, total, p);
	if (key)
		return reply_json_cached(req, page, q->area, key, gen);
	return reply_ok(req, page);
}
