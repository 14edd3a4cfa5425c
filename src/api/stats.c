/*
 * stats.c: the homepage's figures: platform totals and the top creators.
 * Both are the same for everyone and are served from the response cache
 * (CACHE_HOME, keyed by the generations of the areas they count).
 */
#include "api.h"
#include "../auth/account.h"
#include "../core/util.h"
#include "../http/reply.h"
#include "../http/request.h"
#include "../http/validate.h"
#include "../svc/cache.h"
#include "models_common.h"
#include "paged.h"

/* The same for everyone: cached under the generations of the areas it
 * counts, so approving a model shows at once; sales and downloads follow
 * within the cache TTL. */
static int stats_platform(req_t *req)
{
	uint64_t gen = cache_generation(CACHE_HOME);
	const char *key = arena_printf(req->arena, "stats|%llu|%llu|%llu",
				       (unsigned long long)cache_generation(CACHE_MODELS),
				       (unsigned long long)cache_generation(CACHE_USERS),
				       (unsigned long long)cache_generation(CACHE_CATEGORIES));
	if (reply_from_cache(req, CACHE_HOME, key))
		return DONE;
	db_rows_t *r = RQ0(req,
		/* No statement reads every model: the public models are the
		 * categories' counters plus the uncategorised ones (an index
		 * range), downloads and sales the creators' totals (public
		 * models: migration 0027). */
		"SELECT (SELECT COALESCE(SUM(models_count), 0) FROM categories)"
		" + (SELECT COUNT(*) FROM models m WHERE m.category_id IS NULL AND " MODEL_PUBLIC "),"
		" (SELECT COUNT(*) FROM users WHERE user_type = 'creator' AND deleted_at IS NULL),"
		" (SELECT COUNT(*) FROM users WHERE deleted_at IS NULL),"
		" (SELECT COALESCE(SUM(downloads), 0) FROM creator_totals),"
		" (SELECT COALESCE(SUM(sales), 0) FROM creator_totals),"
		" (SELECT COUNT(*) FROM categories WHERE is_active = TRUE)");
	if (!r)
		return reply_db_error(req, "platform stats");
	if (!db_next(r))
		return reply_db_error(req, "platform stats");
	json_t *s = json_pack("{s:I, s:I, s:I, s:I, s:I, s:I}",
			      "total_models", (json_int_t)db_int(r, 0),
			      "total_creators", (json_int_t)db_int(r, 1),
			      "total_users", (json_int_t)db_int(r, 2),
			      "total_downloads", (json_int_t)db_int(r, 3),
			      "total_sales", (json_int_t)db_int(r, 4),
			      "total_categories", (json_int_t)db_int(r, 5));
	return reply_json_cached(req, s, CACHE_HOME, key, gen);
}

/* A creator's score over their public models:
 * likes + 3 x downloads + 5 x sales, from the totals kept per creator
 * (creator_totals, migration 0027), read in the order of its score index;
 * listed stands for user_type 'creator', not deleted, not banned. */
#define CREATOR_SCORE "t.likes + 3 * t.downloads + 5 * t.sales"
#define CREATOR_STATS_WHERE " WHERE t.listed = TRUE AND t.models > 0"
#define CREATOR_STATS_FROM " FROM creator_totals t JOIN users u ON u.id = t.creator_id" CREATOR_STATS_WHERE

static json_t *creator_json(db_rows_t *r)
{
	json_t *u = user_json_row(r);
	json_object_set_new(u, "models_count_public", json_integer(db_int(r, UC_COUNT)));
	json_object_set_new(u, "total_likes", json_integer(db_int(r, UC_COUNT + 1)));
	json_object_set_new(u, "total_downloads", json_integer(db_int(r, UC_COUNT + 2)));
	json_object_set_new(u, "total_sales", json_integer(db_int(r, UC_COUNT + 3)));
	json_object_set_new(u, "score", json_integer(db_int(r, UC_COUNT + 4)));
	return u;
}

static int creators_top(req_t *req)
{
	valid_t v;
	page_t p;
	paged_begin(&v, req, &p);
	if (!v_ok(&v))
		return v_reply(&v);
	paged_t q = {
		.what = "top creators",
		.count_sql = "SELECT COUNT(*) FROM creator_totals t" CREATOR_STATS_WHERE,
		.rows_sql = "SELECT " USER_PUBLIC_COLS ", t.models, t.likes, t.downloads, t.sales, " CREATOR_SCORE
			    CREATOR_STATS_FROM " ORDER BY " CREATOR_SCORE " DESC, u.followers_count DESC, u.id",
		.row = creator_json,
		.area = CACHE_HOME,
		.key = arena_printf(req->arena, "top|%llu", (unsigned long long)cache_generation(CACHE_MODELS)),
	};
	return paged_reply(req, &p, &q);
}

const route_t stats_routes[] = {
	{ M_GET, "/api/stats/platform", stats_platform, ACCESS_PUBLIC, RL_GENERAL, BODY_NONE, 0, 0, "Platform figures for the homepage" },
	{ M_GET, "/api/creators/top", creators_top, ACCESS_PUBLIC, RL_GENERAL, BODY_NONE, 0, 0, "Top creators by likes + 3 x downloads + 5 x sales of their public models" },
};
EXPORT_ROUTES(stats_routes);
