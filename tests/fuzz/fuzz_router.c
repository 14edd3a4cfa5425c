/*
 * fuzz_router: the route table and query-string handling.
 *
 * Input: "METHOD /path?query" (the method and its space are optional: GET).
 * The target is split and percent-decoded as libmicrohttpd does, matched
 * with the real route table (router_match), and every query argument is
 * read through the query validators the handlers use (q_page, q_int,
 * q_str, q_bool, q_range, q_money) and the helpers applied to their values (like_contains,
 * utf8_lower, parse_cents, parse_i64).  Checked: the match result is
 * coherent, pagination stays in its documented bounds, a 422 renders.
 * No database: tens of thousands of inputs a second.
 */
#include <stdlib.h>
#include "fuzz.h"
#include "core/num.h"
#include "core/util.h"
#include "http/reply.h"
#include "http/validate.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	UNUSED(argc);
	UNUSED(argv);
	fz_setup(false);
	return 0;
}

/* The names list and search handlers read. */
static const char *const names[] = {
	"page", "limit", "search", "q", "category", "tags", "min_price", "max_price", "min_poly_count",
	"max_poly_count", "is_free", "has_animations", "has_rigging", "sort", "type", "user_type",
	"country", "skills", "is_verified", "status", "period", "metric", "token", "is_active",
	"price_range", "poly_count_range",
};

#define ASSERT(c) do { if (!(c)) { fprintf(stderr, "fuzz_router: %s\n", #c); abort(); } } while (0)

static void read_value(valid_t *v, req_t *req, const char *name)
{
	q_int(v, name, -1000, 1000000, 0);
	int b;
	q_bool(v, name, &b);
	ASSERT(b >= -1 && b <= 1);
	const char *s = q_str(v, name, 200);
	if (s) {
		ASSERT(utf8_valid(s));
		char *lower = utf8_lower(req->arena, s);
		ASSERT(strlen(lower) <= 2 * strlen(s));
		char *like = like_contains(req->arena, lower);
		ASSERT(strlen(like) >= 2);
		int64_t cents, x;
		if (parse_cents(s, &cents))
			ASSERT(cents >= 0);
		parse_i64(s, &x);
	}
	/* ranges: an open end is -1, a closed one in order */
	for (int kind = Q_RANGE_INT; kind <= Q_RANGE_MONEY; kind++) {
		q_range_t r;
		if (q_range(v, name, (enum q_range_kind)kind, &r)) {
			ASSERT(r.lo >= -1 && r.hi >= -1 && (r.lo >= 0 || r.hi >= 0));
			ASSERT(r.lo < 0 || r.hi < 0 || r.lo <= r.hi);
		} else {
			ASSERT(r.lo == -1 && r.hi == -1);
		}
	}
	q_money(v, name, -1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 65536)
		return 0;
	const char *in = (const char *)data;
	const char *nul = memchr(in, '\0', size);
	if (nul)
		size = (size_t)(nul - in); /* the wire cannot carry a NUL in the target */
	method_t m = M_GET;
	const char *sp = memchr(in, ' ', size);
	if (sp && sp > in && sp - in < 10) {
		char meth[10];
		memcpy(meth, in, (size_t)(sp - in));
		meth[sp - in] = '\0';
		int k = method_parse(meth);
		m = k < 0 ? M_COUNT : (method_t)k;
		size -= (size_t)(sp + 1 - in);
		in = sp + 1;
	}
	req_t *req = fz_req_new(m, in, size, FZ_ANON, NULL);
	const match_t *mt = &req->match;
	switch (mt->status) {
	case MATCH_OK:
		ASSERT(mt->route && mt->route->method == m && mt->nparams <= MAX_PATH_PARAMS);
		for (int i = 0; i < mt->nparams; i++)
			ASSERT(mt->names[i] && mt->values[i] && *mt->values[i]);
		break;
	case MATCH_BAD_PARAM:
		ASSERT(mt->route && mt->bad_param);
		break;
	case MATCH_NO_METHOD:
		ASSERT(mt->allowed && !mt->route);
		break;
	case MATCH_NO_PATH:
		ASSERT(!mt->route);
		break;
	}

	valid_t v;
	v_init(&v, req, NULL);
	page_t p;
	q_page(&v, &p);
	ASSERT(p.page >= 1 && p.limit >= 1 && p.limit <= PAGE_MAX_LIMIT && p.offset >= 0);
	for (size_t i = 0; i < ARRAY_LEN(names); i++)
		read_value(&v, req, names[i]);
	/* Handlers name their fields with literals; a name that is not UTF-8
	 * would make jansson refuse the field_errors key (see v_error). */
	for (const char *const *kv = req->query_kv; kv && kv[0]; kv += 2)
		if (utf8_valid(kv[0]))
			read_value(&v, req, kv[0]);
	if (!v_ok(&v))
		v_reply(&v);
	else
		reply_ok(req, page_envelope(json_array(), 0, &p));
	ASSERT(req->resp && (req->status == 200 || req->status == 422));
	fz_req_free(req);
	return 0;
}
