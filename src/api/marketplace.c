/*
 * marketplace.c: finding models — the filtered, sorted, searchable list,
 * featured models and related models.  Anonymous pages are the same for
 * everyone and are served from the response cache (invalidated by every
 * model write), which is what keeps the list and its total cheap.
 */
#include <ctype.h>
#include "api.h"
#include "models_common.h"
#include "paged.h"
#include "../auth/account.h"
#include "../core/config.h"
#include "../core/num.h"
#include "../core/strbuf.h"
#include "../core/util.h"
#include "../http/pool.h"
#include "../http/reply.h"
#include "../http/request.h"
#include "../http/validate.h"
#include "../svc/cache.h"

/*
 * Query-string bounds of these lists (docs/openapi.yaml states them).  The
 * search text is bounded in characters, bytes and words; 1 KB of ordinary
 * prose (about 170 words) is a search like any other, and only its first
 * SEARCH_USED_WORDS words take part in it.
 */
#define SEARCH_MAX_CHARS 1024
#define SEARCH_MAX_BYTES 4096
#define SEARCH_MAX_WORDS 256
#define SEARCH_USED_WORDS 16
/* tags and skills filters: as many as a model or a profile may hold, each
 * as long as a stored one (models.c read_tags, users.c read_skills). */
#define TAGS_FILTER_MAX 20
#define TAG_MAX_CHARS 30
#define SKILLS_FILTER_MAX 30
#define SKILL_MAX_CHARS 40
#define USER_SEARCH_MAX_CHARS 200

/*
 * Bound parameters of one list query.  Every parameter comes from a bounded
 * input (one per scalar filter, one per list item), so the counts below are
 * a proof that the array never fills; add_param still refuses to write
 * past it (and the handler answers 422) instead of trusting the proof.
 */
#define MAX_FILTER_PARAMS 48
/* models_list: search (3 on PostgreSQL: any word and two tiers), category, tags, price and poly ranges, 3 flags, limit and offset */
_Static_assert(3 + 1 + TAGS_FILTER_MAX + 2 + 2 + 3 + 2 <= MAX_FILTER_PARAMS, "models_list parameters");
/* search_users: text (twice), user_type, country, is_verified, skills, limit and offset */
_Static_assert(2 + 1 + 1 + 1 + SKILLS_FILTER_MAX + 2 <= MAX_FILTER_PARAMS, "search_users parameters");

struct query {
	strbuf_t where;
	db_param_t params[MAX_FILTER_PARAMS];
	int n;
	bool full; /* a parameter did not fit: the query must not run */
	req_t *req;
};

static int add_param(struct query *q, db_param_t p)
{
	if (q->n >= MAX_FILTER_PARAMS) {
		q->full = true;
		return q->n;
	}
	q->params[q->n++] = p;
	return q->n;
}

/* The query could not be built whole (too many filters, or a builder
 * overflowed): 422, never a half-filtered answer. */
static int reply_too_many_filters(req_t *req, struct query *q)
{
	sb_release(&q->where);
	return reply_invalid1(req, "query", "Too many filters in one request");
}

static bool is_word_byte(unsigned char c)
{
	return isalnum(c) || c >= 0x80;
}

/* Words of a search text as the FTS query sees them. */
static size_t count_words(const char *text)
{
	size_t words = 0;
	for (const unsigned char *p = (const unsigned char *)text; *p; p++)
		if (is_word_byte(*p) && (p == (const unsigned char *)text || !is_word_byte(p[-1])))
			words++;
	return words;
}

/* A full-text word list's size: the text's bytes plus, for each word it
 * uses, `"`, `"*` and a space (SQLite) or `'`, `':*AB` and ` & `
 * (PostgreSQL). */
#define FTS_QUERY_MAX (SEARCH_MAX_BYTES + 9 * SEARCH_USED_WORDS + 1)

static int cmp_words(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The full-text queries of a search, the same search on both engines:
 * every one of the first SEARCH_USED_WORDS words must match, each as a
 * prefix; anything else (quotes, operators, SQL) is just not a word.  The
 * words are folded to lower case, sorted and deduplicated: both engines
 * fold case, and an AND of words matches and ranks the same in any order,
 * so "castle dragon" and "Dragon castle" are one query (and one cached
 * result).
 *
 * Relevance is a tier, then the newest first: every word in the title (0),
 * else every word in the title or the tags (1), else anywhere (2).  The
 * tiers are read from the full-text index alone, where bm25 or ts_rank had
 * to score every match (15-20 ms for a word matching 6,000 models).
 *   any:   SQLite `"castle"* "dragon"*`, whose matches hwc_tier() ranks
 *          (src/db/fts_tier.c); PostgreSQL `'castle':* & 'dragon':*`
 *   tier0: PostgreSQL `'castle':*A & 'dragon':*A`
 *   tier1: PostgreSQL `'castle':*AB & 'dragon':*AB` (tier 0 is tested first)
 * (PostgreSQL's title is weight A and its tags weight B: migration 0004.) */
struct fts_search {
	const char *any, *tier[2];
};

/* PostgreSQL's query for the word list in parameter n.  Its parser reads a
 * word such as "76e2bb6f9fd6" by itself as a number and a word ('76e2' <->
 * 'bb6f9fd6'), but inside "model-76e2bb6f9fd6" as one lexeme: to_tsquery
 * alone finds the first form and the cast (lexemes as written) the second,
 * so a title is found by its own words either way. */
#define PG_LEXEME_MAX 2047 /* PostgreSQL's MAXSTRLEN: the longest word in a tsvector */
#define PG_TSQUERY(n) "(CAST(CAST($" #n " AS TEXT) AS tsquery) || to_tsquery('simple', CAST($" #n " AS TEXT)))"

/* The word list for one engine, each word with a suffix (`*` for SQLite;
 * `:*`, `:*A` or `:*AB` for PostgreSQL). */
static char *fts_words(req_t *req, const char *const *words, int nwords, bool pg, const char *weight, bool *overflow)
{
	strbuf_t sb;
	sb_init(&sb, FTS_QUERY_MAX);
	for (int i = 0; i < nwords; i++) {
		if (pg)
			sb_addf(&sb, "%s'%s':*%s", i ? " & " : "", words[i], weight);
		else
			sb_addf(&sb, "%s\"%s\"*", i ? " " : "", words[i]);
	}
	*overflow |= sb.overflow;
	char *out = sb.overflow ? NULL : arena_strdup(req->arena, sb.buf);
	sb_release(&sb);
	return out;
}

/* False with *overflow false when the text has no word; false with
 * *overflow true when it is longer than the builders hold (more than
 * SEARCH_MAX_BYTES). */
static bool fts_build(req_t *req, const char *text, bool pg, struct fts_search *out, bool *overflow)
{
	const char *words[SEARCH_USED_WORDS];
	int nwords = 0;
	const unsigned char *p = (const unsigned char *)utf8_lower(req->arena, text);
	while (*p && nwords < SEARCH_USED_WORDS) {
		while (*p && !is_word_byte(*p))
			p++;
		const unsigned char *start = p;
		while (*p && is_word_byte(*p))
			p++;
		/* PostgreSQL indexes no word over PG_LEXEME_MAX bytes (nothing
		 * can match one) and refuses one in a tsquery cast */
		if (p > start && (!pg || p - start <= PG_LEXEME_MAX))
			words[nwords++] = arena_strndup(req->arena, (const char *)start, (size_t)(p - start));
	}
	qsort(words, (size_t)nwords, sizeof(words[0]), cmp_words);
	int n = 0;
	for (int i = 0; i < nwords; i++)
		if (!n || strcmp(words[i], words[n - 1]))
			words[n++] = words[i];
	*overflow = false;
	if (!n)
		return false;
	out->any = fts_words(req, words, n, pg, "", overflow);
	if (pg) {
		out->tier[0] = fts_words(req, words, n, pg, "A", overflow);
		out->tier[1] = fts_words(req, words, n, pg, "AB", overflow);
	}
	return !*overflow;
}

static const char *const sorts[] = { "newest", "popular", "price_low", "price_high", "relevance", "oldest",
				     "downloads", "rating", NULL };

static const char *order_by(const char *sort, bool search_sqlite, bool search_pg)
{
	if (!strcmp(sort, "popular"))
		return "m.likes_count DESC, m.views_count DESC, m.id DESC";
	if (!strcmp(sort, "price_low"))
		return "m.price_cents ASC, m.id DESC";
	if (!strcmp(sort, "price_high"))
		return "m.price_cents DESC, m.id DESC";
	if (!strcmp(sort, "oldest"))
		return "m.created_at ASC, m.id ASC";
	if (!strcmp(sort, "downloads"))
		return "m.downloads_count DESC, m.id DESC";
	if (!strcmp(sort, "rating"))
		return "CASE WHEN m.rating_count > 0 THEN m.rating_sum * 1.0 / m.rating_count ELSE 0 END DESC, m.id DESC";
	/* The tiers of struct fts_search, newest first in each. */
	if (!strcmp(sort, "relevance") && search_sqlite)
		return "f.tier, m.id DESC";
	if (!strcmp(sort, "relevance") && search_pg)
		return "CASE WHEN m.search @@ " PG_TSQUERY(2) " THEN 0"
		       " WHEN m.search @@ " PG_TSQUERY(3) " THEN 1 ELSE 2 END, m.id DESC";
	return "m.created_at DESC, m.id DESC";
}

/*
 * The ids of a list's first LIST_WINDOW_IDS models (5,000: 250 pages of 20)
 * and its total, kept per filter and sort (the signature) in
 * CACHE_MODEL_IDS until the next model write: the pages of a category in
 * every sort are read from there, deeper pages by one query over a
 * covering index, and no page counts.  At 8 bytes an id, a window is at
 * most 40 KB.
 */
struct id_window {
	int64_t total;
	int64_t n;
	int64_t ids[];
};

static size_t window_bytes(int64_t n)
{
	return offsetof(struct id_window, ids) + (size_t)n * sizeof(int64_t);
}

/* A page of ids, in order, and the total of the whole list. */
struct id_page {
	int64_t total;
	const int64_t *ids;
	size_t n;
	bool too_deep; /* the page starts past PAGE_MAX_OFFSET */
};

/* The window of a signature from the cache; false on a miss (then *claim
 * is ours to release, by window_put or cache_release_claim). */
static bool window_get(const char *sig, struct id_window *w, uint64_t *claim)
{
	char *body;
	size_t len;
	if (!cache_get(CACHE_MODEL_IDS, sig, &body, &len, claim))
		return false;
	bool ok = len >= offsetof(struct id_window, ids) && len <= window_bytes(cfg.list_window_ids);
	if (ok) {
		memcpy(w, body, len);
		ok = w->n >= 0 && window_bytes(w->n) == len;
	}
	free(body);
	return ok;
}

static void window_put(const char *sig, uint64_t gen, const struct id_window *w)
{
	cache_put(CACHE_MODEL_IDS, sig, gen, (const char *)w, window_bytes(w->n));
}

/* Reads ids (column 0) into w, and the total from column 1 when the query
 * has one. */
static bool read_window(db_rows_t *r, struct id_window *w, bool total_column)
{
	if (!r)
		return false;
	while (db_next(r) && w->n < cfg.list_window_ids) {
		w->ids[w->n++] = db_int(r, 0);
		if (total_column)
			w->total = db_int(r, 1);
	}
	bool failed = db_failed(r);
	db_done(r);
	return !failed;
}

/* How a list's ids are read: the SQL around its filters and its order. */
struct list_sql {
	const char *with, *from, *order;
	bool windowed_total; /* a search: the total comes with the ids */
	/* A search by relevance on SQLite with no other filter: its MATCH
	 * query (struct fts_search), whose matches are the window, read from
	 * the public full-text index alone. */
	const char *fts_only;
	/* The list's total from maintained counters (categories.models_count,
	 * migration 0009) over the same parameters, when the only filter is
	 * the category or none: COUNT(*) of a list longer than the window
	 * reads every entry of its index (10 million for the whole
	 * catalogue).  NULL: counted. */
	const char *count;
};

/* The window of a search from models_pub_fts (migration 0023): its matches
 * newest first, each put in its tier's bucket (at most a window's worth
 * each), the buckets then in order; every match counts towards the
 * total. */
static bool compute_tiers_window(req_t *req, const struct list_sql *ls, struct id_window *w)
{
	const db_param_t params[] = { P_TEXT(ls->fts_only) };
	db_rows_t *r = db_query(req->db, "SELECT rowid, hwc_tier(models_pub_fts) FROM models_pub_fts"
				" WHERE models_pub_fts MATCH $1 ORDER BY rowid DESC", params, 1);
	if (!r)
		return false;
	int64_t cap = cfg.list_window_ids, n[3] = { 0, 0, 0 };
	int64_t *bucket[3] = { w->ids, arena_alloc(req->arena, (size_t)cap * sizeof(int64_t)),
			       arena_alloc(req->arena, (size_t)cap * sizeof(int64_t)) };
	while (db_next(r)) {
		int64_t t = db_int(r, 1);
		if (t < 0 || t > 2)
			t = 2;
		if (n[t] < cap)
			bucket[t][n[t]++] = db_int(r, 0);
		w->total++;
	}
	bool failed = db_failed(r);
	db_done(r);
	if (failed)
		return false;
	w->n = n[0]; /* bucket 0 is the window's own array */
	for (int t = 1; t < 3; t++) {
		int64_t take = MIN(n[t], cap - w->n);
		memcpy(w->ids + w->n, bucket[t], (size_t)take * sizeof(int64_t));
		w->n += take;
	}
	return true;
}

/* Computes the window of a list: for a search, whose matches are all
 * read anyway, the total comes with the ids (a window count); for a
 * list read in index order, it is the number of ids when they fit the
 * window (most categories), else a count over the covering index. */
static bool compute_window(req_t *req, struct query *q, const struct list_sql *ls, struct id_window *w)
{
	const char *where = q->where.buf ? q->where.buf : "";
	const char *with = ls->with, *from = ls->from, *order = ls->order;
	w->total = w->n = 0;
	if (ls->fts_only)
		return compute_tiers_window(req, ls, w);
	if (ls->windowed_total) {
		char *sql = arena_printf(req->arena, "%sSELECT m.id, COUNT(*) OVER ()%s WHERE " MODEL_PUBLIC "%s ORDER BY %s LIMIT %d",
					 with, from, where, order, (int)cfg.list_window_ids);
		return read_window(db_query(req->db, sql, q->params, q->n), w, true);
	}
	char *sql = arena_printf(req->arena, "%sSELECT m.id%s WHERE " MODEL_PUBLIC "%s ORDER BY %s LIMIT %d",
				 with, from, where, order, (int)cfg.list_window_ids);
	if (!read_window(db_query(req->db, sql, q->params, q->n), w, false))
		return false;
	w->total = w->n;
	if (w->n < cfg.list_window_ids)
		return true;
	char *count_sql = ls->count ? (char *)ls->count
				    : arena_printf(req->arena, "%sSELECT COUNT(*)%s WHERE " MODEL_PUBLIC "%s", with, from, where);
	if (db_scalar(req->db, count_sql, q->params, q->n, &w->total) < 0)
		return false;
	if (w->total < w->n) /* a model left between the two statements */
		w->total = w->n;
	return true;
}

/* The ids of page p of the list, and its total. */
static bool list_ids(req_t *req, struct query *q, const char *sig, const struct list_sql *ls, const page_t *p,
		     struct id_page *out)
{
	struct id_window *w = arena_alloc(req->arena, window_bytes(cfg.list_window_ids));
	uint64_t gen = cache_generation(CACHE_MODEL_IDS), claim;
	if (!window_get(sig, w, &claim)) {
		if (!compute_window(req, q, ls, w)) {
			cache_release_claim(claim);
			return false;
		}
		window_put(sig, gen, w);
	}
	out->total = w->total;
	out->ids = NULL;
	out->n = 0;
	out->too_deep = false;
	if (p->offset >= w->total)
		return true;
	if (p->offset + p->limit <= w->n || w->n == w->total) {
		out->ids = w->ids + p->offset;
		out->n = (size_t)MIN(p->limit, w->n - p->offset);
		return true;
	}
	/* Past the window: this page alone, still from the index, which
	 * OFFSET walks entry by entry: no deeper than PAGE_MAX_OFFSET. */
	if (p->offset > PAGE_MAX_OFFSET) {
		out->too_deep = true;
		return false;
	}
	int lim = add_param(q, P_INT(p->limit)), off = add_param(q, P_INT(p->offset));
	if (q->full)
		return false;
	char *sql = arena_printf(req->arena, "%sSELECT m.id%s WHERE " MODEL_PUBLIC "%s ORDER BY %s LIMIT $%d OFFSET $%d",
				 ls->with, ls->from, q->where.buf ? q->where.buf : "", ls->order, lim, off);
	db_rows_t *r = db_query(req->db, sql, q->params, q->n);
	if (!r)
		return false;
	int64_t *ids = arena_alloc(req->arena, (size_t)p->limit * sizeof(*ids));
	while (db_next(r) && out->n < (size_t)p->limit)
		ids[out->n++] = db_int(r, 0);
	bool failed = db_failed(r);
	db_done(r);
	out->ids = ids;
	return !failed;
}

/*
 * A list page the cache does not hold is computed on the pool (POOL_DB),
 * so that no poll thread waits on its queries, nor on another request
 * computing the same page.  The poll thread builds the query; a worker
 * reads the ids and writes the page; the poll thread answers.
 */
struct list_job {
	req_t *req;
	struct query q;
	const char *sig;
	struct list_sql ls;
	page_t p;
	const char *key; /* of the anonymous answer, or NULL */
	uint64_t gen;
	/* the answer */
	enum { LIST_OK, LIST_CACHED, LIST_UNAVAILABLE, LIST_DB_ERROR, LIST_TOO_MANY, LIST_TOO_LARGE, LIST_TOO_DEEP } status;
	char *text; /* malloc'd */
	size_t len;
};

static int list_compute(struct list_job *j)
{
	req_t *req = j->req;
	struct id_page ids = { 0 };
	if (!list_ids(req, &j->q, j->sig, &j->ls, &j->p, &ids))
		return ids.too_deep ? LIST_TOO_DEEP : j->q.full ? LIST_TOO_MANY : LIST_DB_ERROR;
	/* The page is written as text: a jansson tree of 20 models cost a
	 * third of the CPU of a cold page. */
	strbuf_t out;
	sb_init(&out, 0);
	sb_adds(&out, "{\"items\":");
	if (!models_write_by_ids(req, &out, ids.ids, ids.n)) {
		sb_release(&out);
		return LIST_DB_ERROR;
	}
	const page_t *p = &j->p;
	sb_addf(&out, ",\"total\":%lld,\"page\":%lld,\"limit\":%lld,\"pages\":%lld}", (long long)ids.total,
		(long long)p->page, (long long)p->limit, (long long)(ids.total ? (ids.total + p->limit - 1) / p->limit : 0));
	if (out.overflow) {
		sb_release(&out);
		return LIST_TOO_LARGE;
	}
	j->text = sb_detach(&out, &j->len);
	return LIST_OK;
}

/* On a worker, with its own connection (pool.h). */
static void list_work(void *ctx)
{
	struct list_job *j = ctx;
	req_t *req = j->req;
	if (!req->db)
		j->status = LIST_UNAVAILABLE;
	else if (j->key && cache_get(CACHE_MODELS, j->key, &j->text, &j->len, &req->cache_claim))
		j->status = LIST_CACHED; /* another request computed it meanwhile */
	else
		j->status = list_compute(j);
	sb_release(&j->q.where);
}

static int list_done(req_t *req, void *ctx)
{
	struct list_job *j = ctx;
	switch (j->status) {
	case LIST_OK:
		return j->key ? reply_json_text_cached(req, j->text, j->len, CACHE_MODELS, j->key, j->gen)
			      : reply_json_text(req, 200, j->text, j->len);
	case LIST_CACHED:
		return reply_json_text(req, 200, j->text, j->len);
	case LIST_UNAVAILABLE:
		return reply_error(req, ERR_UNAVAILABLE, "The database is unavailable; try again shortly");
	case LIST_TOO_MANY:
		return reply_invalid1(req, "query", "Too many filters in one request");
	case LIST_TOO_DEEP:
		return reply_page_too_deep(req);
	case LIST_TOO_LARGE:
		return reply_internal(req, "list models: page too large");
	default:
		return reply_db_error(req, "list models");
	}
}

static int models_list(req_t *req)
{
	valid_t v;
	v_init(&v, req, NULL);
	page_t p;
	q_page(&v, &p);
	const char *category = q_str(&v, "category", 60);
	/* Any text is a search (only its first SEARCH_USED_WORDS words count). */
	const char *search_name = "search";
	const char *search = q_strn(&v, "search", SEARCH_MAX_CHARS, SEARCH_MAX_BYTES);
	if (!search && v_ok(&v)) {
		search_name = "q";
		search = q_strn(&v, "q", SEARCH_MAX_CHARS, SEARCH_MAX_BYTES);
	}
	if (search && count_words(search) > SEARCH_MAX_WORDS)
		v_error(&v, search_name, arena_printf(req->arena, "Must be at most %d words", SEARCH_MAX_WORDS));
	const char **tags;
	size_t ntags = q_list(&v, "tags", TAGS_FILTER_MAX, TAG_MAX_CHARS, 4 * TAG_MAX_CHARS, &tags);
	int64_t minc = q_money(&v, "min_price", -1), maxc = q_money(&v, "max_price", -1);
	int64_t creator = q_int(&v, "creator_id", 1, INT64_MAX, -1); /* a profile's models */
	int64_t min_polys = q_int(&v, "min_poly_count", 0, INT64_MAX, -1);
	int64_t max_polys = q_int(&v, "max_poly_count", 0, INT64_MAX, -1);
	/* A range and its min/max pair together are refused, as a parameter
	 * given twice is: which one wins is a guess a client should not make. */
	q_range_t pr, pc;
	if (q_range(&v, "price_range", Q_RANGE_MONEY, &pr)) {
		if (minc >= 0 || maxc >= 0)
			v_error(&v, "price_range", "Give either price_range or min_price/max_price, not both");
		minc = pr.lo, maxc = pr.hi;
	}
	if (q_range(&v, "poly_count_range", Q_RANGE_INT, &pc)) {
		if (min_polys >= 0 || max_polys >= 0)
			v_error(&v, "poly_count_range", "Give either poly_count_range or min_poly_count/max_poly_count, not both");
		min_polys = pc.lo, max_polys = pc.hi;
	}
	int is_free, anim, rig;
	q_bool(&v, "is_free", &is_free);
	q_bool(&v, "has_animations", &anim);
	q_bool(&v, "has_rigging", &rig);
	const char *sort = q_enum(&v, "sort", sorts, NULL);
	if (!v_ok(&v))
		return v_reply(&v);
	bool has_search = search && *search;
	if (!sort)
		sort = has_search ? "relevance" : "newest";

	/* The filters and the sort, length-prefixed texts, so that no two
	 * different queries share a signature: the key of the list's ids
	 * (every caller) and, with the page, of the anonymous answer. */
	const char *cat_s = category ? category : "", *search_s = search ? search : "";
	strbuf_t tb; /* the tag items, length-prefixed too */
	sb_init(&tb, 0);
	for (size_t i = 0; i < ntags; i++)
		sb_addf(&tb, "%zu:%s", strlen(tags[i]), tags[i]);
	const char *tags_s = arena_strdup(req->arena, tb.buf);
	sb_release(&tb);
	const char *sig = arena_printf(req->arena, "%zu:%s|%zu:%s|%lld|%lld|%lld|%lld|%lld|%d|%d|%d|%s",
				       strlen(cat_s), cat_s, strlen(tags_s), tags_s, (long long)creator,
				       (long long)minc, (long long)maxc, (long long)min_polys, (long long)max_polys,
				       is_free, anim, rig, sort);

	/* The anonymous answer is the same for everyone: from memory. */
	uint64_t gen = cache_generation(CACHE_MODELS);
	char *key = NULL;
	if (!req->user) {
		key = arena_printf(req->arena, "list|%lld|%lld|%zu:%s|%s", (long long)p.page, (long long)p.limit,
				   strlen(search_s), search_s, sig);
		if (reply_from_cache_now(req, CACHE_MODELS, key))
			return DONE;
	}

	bool pg = db_kind(req->db) == DB_PG;
	struct query q = { .req = req };
	sb_init(&q.where, 0);
	/* Only the ids are sorted and counted (from the indexes of migration
	 * 0010); the wide rows are read for the page alone. */
	const char *from = " FROM models m", *with = "", *fts_text = "";
	bool search_sqlite = false, search_pg = false, relevance = !strcmp(sort, "relevance");
	struct fts_search fts = { 0 };
	if (has_search) {
		bool overflow;
		if (!fts_build(req, search, pg, &fts, &overflow)) {
			sb_release(&q.where);
			if (overflow)
				return reply_invalid1(req, search_name,
						      arena_printf(req->arena, "Must be at most %d bytes", SEARCH_MAX_BYTES));
			json_t *empty = page_envelope(json_array(), 0, &p);
			return key ? reply_json_cached(req, empty, CACHE_MODELS, key, gen) : reply_ok(req, empty);
		}
		fts_text = fts.any;
		if (pg) {
			/* always $1, and by relevance $2 and $3: order_by
			 * refers to them (and PostgreSQL refuses a parameter
			 * that no statement uses: its type is unknown) */
			add_param(&q, P_TEXT(fts.any));
			if (relevance) {
				add_param(&q, P_TEXT(fts.tier[0]));
				add_param(&q, P_TEXT(fts.tier[1]));
			}
			sb_adds(&q.where, " AND m.search @@ " PG_TSQUERY(1));
			search_pg = true;
		} else {
			/* The FTS queries run once, materialised: as a plain join
			 * or subquery SQLite evaluates MATCH again for every model
			 * row (measured: 18 s instead of 10 ms on 50,000 models).
			 * Each match is checked against the public index, not
			 * the wide row: 10 ms instead of 25 for 6,000 matches. */
			with = arena_printf(req->arena, "WITH f AS MATERIALIZED (SELECT rowid AS fts_id%s FROM models_pub_fts"
					    " WHERE models_pub_fts MATCH $%d) ", relevance ? ", hwc_tier(models_pub_fts) AS tier" : "",
					    add_param(&q, P_TEXT(fts.any)));
			from = " FROM f JOIN models m INDEXED BY models_pub_id_idx ON m.id = f.fts_id";
			search_sqlite = true;
		}
	}
	if (category && *category) {
		int64_t cid;
		if (parse_i64_range(category, 1, INT64_MAX, &cid))
			sb_addf(&q.where, " AND m.category_id = $%d", add_param(&q, P_INT(cid)));
		else
			sb_addf(&q.where, " AND m.category_id = (SELECT id FROM categories WHERE slug = $%d)",
				add_param(&q, P_TEXT(category)));
	}
	if (ntags) {
		sb_adds(&q.where, " AND m.id IN (SELECT model_id FROM model_tags WHERE tag IN (");
		for (size_t k = 0; k < ntags; k++)
			sb_addf(&q.where, "%s$%d", k ? ", " : "", add_param(&q, P_TEXT(utf8_lower(req->arena, tags[k]))));
		sb_adds(&q.where, "))");
	}
	if (creator > 0)
		sb_addf(&q.where, " AND m.creator_id = $%d", add_param(&q, P_INT(creator)));
	if (minc >= 0)
		sb_addf(&q.where, " AND m.price_cents >= $%d", add_param(&q, P_INT(minc)));
	if (maxc >= 0)
		sb_addf(&q.where, " AND m.price_cents <= $%d", add_param(&q, P_INT(maxc)));
	if (min_polys >= 0)
		sb_addf(&q.where, " AND m.poly_count >= $%d", add_param(&q, P_INT(min_polys)));
	if (max_polys >= 0)
		sb_addf(&q.where, " AND m.poly_count <= $%d", add_param(&q, P_INT(max_polys)));
	if (is_free >= 0)
		sb_addf(&q.where, " AND m.is_free = $%d", add_param(&q, P_BOOL(is_free)));
	if (anim >= 0)
		sb_addf(&q.where, " AND m.has_animations = $%d", add_param(&q, P_BOOL(anim)));
	if (rig >= 0)
		sb_addf(&q.where, " AND m.has_rigging = $%d", add_param(&q, P_BOOL(rig)));
	if (q.full || q.where.overflow)
		return reply_too_many_filters(req, &q);

	/* The ids' key: the search as the engine sees it, then the filters. */
	const char *seen = fts_text;
	struct list_job *j = arena_calloc(req->arena, sizeof(*j));
	*j = (struct list_job){
		.req = req,
		.q = q, /* with its where buffer, which the job releases */
		.sig = arena_printf(req->arena, "%zu:%s|%s", strlen(seen), seen, sig),
		.ls = {
			.with = with,
			.from = from,
			.order = order_by(sort, search_sqlite, search_pg),
			.windowed_total = has_search,
		},
		.p = p,
		.key = key,
		.gen = gen,
	};
	/* No filter but the category: its total is kept (list_sql.count). */
	if (!has_search && !ntags && creator <= 0 && minc < 0 && maxc < 0 && min_polys < 0 && max_polys < 0 &&
	    is_free < 0 && anim < 0 && rig < 0) {
		int64_t cid;
		if (!category || !*category)
			j->ls.count = "SELECT (SELECT COALESCE(SUM(models_count), 0) FROM categories)"
				      " + (SELECT COUNT(*) FROM models m WHERE m.category_id IS NULL AND " MODEL_PUBLIC ")";
		else if (parse_i64_range(category, 1, INT64_MAX, &cid))
			j->ls.count = "SELECT models_count FROM categories WHERE id = $1";
		else
			j->ls.count = "SELECT models_count FROM categories WHERE slug = $1";
	}
	/* Nothing but the words: the window comes from the index alone. */
	if (search_sqlite && relevance && !q.where.len)
		j->ls.fts_only = fts.any;
	return pool_defer(req, POOL_DB, list_work, list_done, j);
}

static json_t *public_models(req_t *req, db_rows_t *r, const void *ctx)
{
	(void)ctx;
	return models_from_rows(req, r, false);
}

/* A page of public models matching extra SQL (with one model id param, $1,
 * available to it), newest or as ordered.  Anonymous pages are cached;
 * a signed-in caller's carry is_liked. */
static int simple_list(req_t *req, const char *cache_name, const char *where, const char *order, int64_t param)
{
	valid_t v;
	page_t p;
	paged_begin(&v, req, &p);
	if (!v_ok(&v))
		return v_reply(&v);
	const db_param_t params[] = { P_INT(param) };
	paged_t q = {
		.what = "list models",
		.count_sql = arena_printf(req->arena, "SELECT COUNT(*)" MODEL_FROM " WHERE " MODEL_PUBLIC " AND %s", where),
		.rows_sql = arena_printf(req->arena, "SELECT " MODEL_COLS MODEL_FROM " WHERE " MODEL_PUBLIC " AND %s ORDER BY %s",
					 where, order),
		.params = params,
		.nparams = 1,
		.rows = public_models,
		.area = CACHE_MODELS,
		.key = req->user ? NULL : arena_printf(req->arena, "%s|%lld", cache_name, (long long)param),
	};
	return paged_reply(req, &p, &q);
}

static int models_featured(req_t *req)
{
	return simple_list(req, "featured", "m.is_featured = TRUE AND m.id <> $1", "m.updated_at DESC, m.id DESC", 0);
}

/* Same category or a shared tag, never the model itself: the category's
 * RELATED_CATEGORY most liked public models (an index seek) and the first
 * RELATED_TAGGED models that share a tag (each tag's index entries), so
 * that the list and its count read a bounded number of rows.  As one
 * condition over every public model it read the whole category and every
 * model of a common tag: 2 s for the count at a million models. */
#define RELATED_CATEGORY "100"
#define RELATED_TAGGED "1000"
static int models_related(req_t *req)
{
	struct model_ref m;
	if (!model_find_or_404(req, &m, false, true))
		return DONE;
	return simple_list(req, "related",
		"m.id <> $1 AND m.id IN (SELECT id FROM (SELECT m.id FROM models m WHERE " MODEL_PUBLIC
		" AND m.category_id = (SELECT category_id FROM models WHERE id = $1)"
		" ORDER BY m.likes_count DESC, m.views_count DESC, m.id DESC LIMIT " RELATED_CATEGORY ") rc"
		" UNION SELECT model_id FROM (SELECT t2.model_id FROM model_tags t1 JOIN model_tags t2 ON t2.tag = t1.tag"
		" WHERE t1.model_id = $1 LIMIT " RELATED_TAGGED ") rt)",
		"m.likes_count DESC, m.id DESC", m.id);
}

const route_t marketplace_routes[] = {
	{ M_GET, "/api/models", models_list, ACCESS_OPTIONAL, RL_GENERAL, BODY_NONE, 0, 0, "Browse and search approved models" },
	{ M_GET, "/api/models/featured", models_featured, ACCESS_OPTIONAL, RL_GENERAL, BODY_NONE, 0, 0, "Featured models" },
	{ M_GET, "/api/models/{id:int}/related", models_related, ACCESS_OPTIONAL, RL_GENERAL, BODY_NONE, 0, 0, "Related models (same category or a shared tag)" },
};
EXPORT_ROUTES(marketplace_routes);

/* Users for the global search: name or username contains the text, with
 * section 17's user filters. */
static int search_users(req_t *req)
{
	valid_t v;
	v_init(&v, req, NULL);
	page_t p;
	q_page(&v, &p);
	const char *text = q_str(&v, "q", USER_SEARCH_MAX_CHARS);
	static const char *const user_types[] = { "buyer", "creator", NULL };
	const char *type = q_enum(&v, "user_type", user_types, NULL);
	const char *country = q_str(&v, "country", 56);
	const char **skills;
	size_t nskills = q_list(&v, "skills", SKILLS_FILTER_MAX, SKILL_MAX_CHARS, 4 * SKILL_MAX_CHARS, &skills);
	int verified;
	q_bool(&v, "is_verified", &verified);
	if (!v_ok(&v))
		return v_reply(&v);
	struct query q = { .req = req };
	sb_init(&q.where, 0);
	/* Case is folded by the engine's own lower() on both sides of each
	 * comparison, so a stored value always matches itself (SQLite folds
	 * ASCII only; folding the parameter in C would make a stored "Ñ"
	 * unfindable there). */
	if (text && *text) {
		int i = add_param(&q, P_TEXT(like_contains(req->arena, utf8_lower(req->arena, text))));
		int j = add_param(&q, P_TEXT(like_contains(req->arena, text)));
		sb_addf(&q.where, " AND (u.username_lower LIKE $%d ESCAPE '\\' OR lower(COALESCE(u.full_name, '')) LIKE lower($%d) ESCAPE '\\')", i, j);
	}
	if (type)
		sb_addf(&q.where, " AND u.user_type = $%d", add_param(&q, P_TEXT(type)));
	if (country && *country)
		sb_addf(&q.where, " AND lower(COALESCE(u.country, '')) = lower($%d)", add_param(&q, P_TEXT(country)));
	if (verified >= 0)
		sb_addf(&q.where, " AND u.is_verified = $%d", add_param(&q, P_BOOL(verified)));
	/* skills is a JSON array text (users.c read_skills): a user must have
	 * every skill asked for; each is matched as its JSON string, quotes
	 * and escapes as stored, so "a" never matches inside "a b". */
	for (size_t k = 0; k < nskills; k++) {
		json_t *js = json_string(skills[k]);
		char *needle = like_contains(req->arena, arena_json_dumps(req->arena, js, JSON_ENCODE_ANY | JSON_COMPACT));
		json_decref(js);
		sb_addf(&q.where, " AND lower(u.skills) LIKE lower($%d) ESCAPE '\\'", add_param(&q, P_TEXT(needle)));
	}
	if (q.full || q.where.overflow)
		return reply_too_many_filters(req, &q);
	const char *base = " FROM users u WHERE u.deleted_at IS NULL AND u.is_banned = FALSE AND u.role <> 'admin'";
	const char *where = q.where.buf ? q.where.buf : "";
	paged_t pq = {
		.what = "search users",
		.count_sql = arena_printf(req->arena, "SELECT COUNT(*)%s%s", base, where),
		.rows_sql = arena_printf(req->arena, "SELECT " USER_PUBLIC_COLS "%s%s ORDER BY u.followers_count DESC, u.id",
					 base, where),
		.params = q.params,
		.nparams = q.n,
		.row = user_json_row,
	};
	int done = paged_reply(req, &p, &pq);
	sb_release(&q.where);
	return done;
}

/* GET /api/search?q=&type=models|users: models through the marketplace
 * list (its filters apply too), users by name. */
static int search_all(req_t *req)
{
	valid_t v;
	v_init(&v, req, NULL);
	static const char *const types[] = { "models", "users", NULL };
	const char *type = q_enum(&v, "type", types, "models");
	if (!v_ok(&v))
		return v_reply(&v);
	return !strcmp(type, "users") ? search_users(req) : models_list(req);
}

const route_t search_routes[] = {
	{ M_GET, "/api/search", search_all, ACCESS_OPTIONAL, RL_GENERAL, BODY_NONE, 0, 0, "Global search: models or users" },
};
EXPORT_ROUTES(search_routes);
