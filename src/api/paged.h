/*
 * paged.h: one page of a list in the guide's envelope
 * {"items", "total", "page", "limit", "pages"}.
 *
 * A list handler reads its query (paged_begin: page and limit, and its own
 * filters into the same valid_t), then hands paged_reply() two statements
 * over the same parameters: one counting the rows, one selecting them.
 * The select ends with its ORDER BY; paged_reply appends the LIMIT and
 * OFFSET as the next two parameters.  With a cache key (a prefix: the page
 * and limit are added to it), the page is served from and stored in the
 * response cache (the area's generation is read before the queries).
 */
#ifndef HWC_PAGED_H
#define HWC_PAGED_H

#include <jansson.h>
#include "../db/db.h"
#include "../http/request.h"
#include "../http/validate.h"
#include "../svc/cache.h"

/* The deepest row a page may start at (its offset) when the list goes on
 * past it: OFFSET reads and drops every row before the page, so a page is
 * O(offset); deeper pages answer 422 on `page`.  A page past the end of
 * the list is still an empty page. */
#define PAGE_MAX_OFFSET 10000

typedef struct paged {
	const char *what;                    /* for logs: "list categories" */
	const char *count_sql, *rows_sql;
	const db_param_t *params;            /* the filters: $1..$nparams */
	int nparams;
	json_t *(*row)(db_rows_t *r);        /* one item per row ... */
	/* ... or the whole array (r consumed; NULL on failure), with ctx */
	json_t *(*rows)(req_t *req, db_rows_t *r, const void *ctx);
	const void *ctx;
	enum cache_area area;
	const char *key;                     /* a prefix; NULL: not cached */
} paged_t;

/* A page starting past PAGE_MAX_OFFSET inside a list of total rows (a
 * page past the end is an empty page, not an error). */
static inline bool page_too_deep(const page_t *p, int64_t total)
{
	return p->offset > PAGE_MAX_OFFSET && p->offset < total;
}

/* 422 on `page`: it starts past PAGE_MAX_OFFSET.  Returns DONE. */
int reply_page_too_deep(req_t *req);
/* v_init for a query and q_page into *p. */
void paged_begin(valid_t *v, req_t *req, page_t *p);
/* Serves the page from the cache (q->key) or runs the two statements and
 * replies.  Returns DONE. */
int paged_reply(req_t *req, const page_t *p, const paged_t *q);

#endif
