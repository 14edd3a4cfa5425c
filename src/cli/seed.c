/*
 * seed.c: `hwc3d seed-demo [--scale N]` fills an empty database with demo
 * data.  Runs only when the database holds no categories yet, so `make run`
 * can call it every time: categories and demo courses, then (unless
 * --no-models) creators, buyers and a few dozen models with files
 * (seed_models.c), homepage content and demo bounties (seed_learn.c).  --scale N adds
 * N demo users, --models N brings the models up to N and --likes N the
 * likes up to N (for benchmarks: scripts/bench.sh).
 */
#include "cli.h"
#include "../auth/password.h"
#include "../core/log.h"
#include "../core/num.h"
#include "../core/strbuf.h"
#include "../core/util.h"

static const struct {
	const char *name, *slug, *icon, *description;
} demo_categories[] = {
	{ "Characters", "characters", "user", "People, creatures and stylised heroes, rigged or posed." },
	{ "Vehicles", "vehicles", "car", "Cars, ships, aircraft and sci-fi craft." },
	{ "Architecture", "architecture", "building", "Buildings, interiors and city blocks." },
	{ "Environments", "environments", "mountain", "Landscapes, terrain and full scenes." },
	{ "Props", "props", "box", "Everyday objects, weapons, tools and set dressing." },
	{ "Furniture", "furniture", "sofa", "Chairs, tables, shelves and home decor." },
	{ "Animals", "animals", "paw", "Real and fantasy animals." },
	{ "Nature", "nature", "tree", "Plants, rocks, trees and foliage." },
	{ "Sci-Fi", "sci-fi", "rocket", "Futuristic hardware, robots and spacecraft." },
	{ "Fantasy", "fantasy", "wand", "Castles, dragons, magic items." },
	{ "Electronics", "electronics", "cpu", "Gadgets, devices and hardware." },
	{ "Textures & Materials", "textures-materials", "layers", "PBR materials and texture sets." },
};

static int seed_users(db_t *db, int64_t n)
{
	char hash[PASSWORD_HASH_LEN];
	if (!password_hash("demo-password-not-for-production", hash))
		return -1;
	if (!db_begin(db))
		return -1;
	int64_t now = now_ms();
	for (int64_t i = 1; i <= n; i++) {
		char email[64], uname[32];
		snprintf(email, sizeof(email), "demo%lld@example.com", (long long)i);
		snprintf(uname, sizeof(uname), "demo_user_%lld", (long long)i);
		if (DBX(db,
			"INSERT INTO users (email, email_normalized, username, username_lower, password_hash,"
			" full_name, user_type, is_email_verified, created_at, updated_at)"
			" VALUES ($1, $1, $2, $2, $3, $4, $5, TRUE, $6, $6)"
			" ON CONFLICT DO NOTHING",
			P_TEXT(email), P_TEXT(uname), P_TEXT(hash), P_TEXT(uname),
			P_TEXT(i % 3 ? "buyer" : "creator"), P_INT(now - i * 60000)) < 0) {
			db_rollback(db);
			return -1;
		}
	}
	return db_commit(db) ? 0 : -1;
}

/* Loads one column of ids (in order) into *out; the count, -1 on error. */
static int64_t load_ids(db_t *db, const char *sql, int64_t **out)
{
	size_t n = 0, cap = 1024;
	int64_t *ids = xcalloc(cap, sizeof(int64_t));
	db_rows_t *r = DBQ0(db, sql);
	while (r && db_next(r)) {
		if (n == cap)
			ids = xrealloc(ids, (cap *= 2) * sizeof(int64_t));
		ids[n++] = db_int(r, 0);
	}
	bool failed = !r || db_failed(r);
	db_done(r);
	if (failed) {
		free(ids);
		return -1;
	}
	*out = ids;
	return (int64_t)n;
}

/* --likes N: model_likes brought up to N rows, from every user to the
 * models (a few models liked by many, most by few), given over the last
 * year; then what is counted from the rows is counted again from all of
 * them, so it agrees: models.likes_count and the likes of model_daily and
 * creator_daily (the rollups the dashboards read; an unlike is never
 * booked, and a seeded database has none).  Rows go in 1,000 to an
 * INSERT, 20,000 to a transaction: a million in seconds. */
static int seed_bulk_likes(db_t *db, int64_t want)
{
	enum { ROWS_PER_INSERT = 1000, INSERTS_PER_TX = 20 };
	int64_t have = 0, *models = NULL, *users = NULL;
	if (DBS0(db, &have, "SELECT COUNT(*) FROM model_likes") != 1)
		return -1;
	int64_t nm = load_ids(db, "SELECT id FROM models WHERE status = 'approved' AND deleted_at IS NULL ORDER BY id",
			      &models);
	int64_t nu = nm < 0 ? -1 : load_ids(db, "SELECT id FROM users WHERE deleted_at IS NULL ORDER BY id", &users);
	if (nm < 0 || nu < 0) {
		free(models);
		return -1;
	}
	if (want > nm * nu)
		want = nm * nu; /* every user likes every model */
	int64_t now = now_ms(), added = 0;
	uint64_t x = 0x9E3779B97F4A7C15ULL; /* xorshift: the same likes every run */
	strbuf_t sql;
	sb_init(&sql, SB_DEFAULT_MAX);
	int stalls = 0;
	while (have < want && stalls < 100) {
		if (!db_begin(db))
			goto fail;
		int64_t got = 0;
		for (int k = 0; k < INSERTS_PER_TX && have + got < want; k++) {
			sb_reset(&sql);
			sb_adds(&sql, "INSERT INTO model_likes (model_id, user_id, created_at) VALUES ");
			int64_t rows = MIN(ROWS_PER_INSERT, want - have - got);
			for (int64_t i = 0; i < rows; i++) {
				x ^= x << 13, x ^= x >> 7, x ^= x << 17;
				/* u^3 over the models in id order: the first (oldest)
				 * models are the popular ones */
				double u = (double)(x >> 11) / 9007199254740992.0;
				int64_t m = (int64_t)((double)nm * u * u * u);
				int64_t uid = users[(x >> 7) % (uint64_t)nu];
				int64_t at = now - (int64_t)((x >> 3) % (365ULL * 86400000ULL));
				sb_addf(&sql, "%s(%lld, %lld, %lld)", i ? ", " : "", (long long)models[MIN(m, nm - 1)],
					(long long)uid, (long long)at);
			}
			sb_adds(&sql, " ON CONFLICT DO NOTHING");
			int64_t k_added = DBX0(db, sql.buf);
			if (k_added < 0) {
				db_rollback(db);
				goto fail;
			}
			got += k_added;
		}
		if (!db_commit(db))
			goto fail;
		stalls = got ? 0 : stalls + 1; /* only repeats drawn: the pairs are nearly all taken */
		have += got;
		added += got;
	}
	sb_release(&sql);
	free(models);
	free(users);
	/* Counted again from the rows, in one transaction. */
	if (!db_begin(db))
		return -1;
	if (DBX0(db, "UPDATE models SET likes_count = (SELECT COUNT(*) FROM model_likes l WHERE l.model_id = models.id)") < 0 ||
	    DBX0(db, "UPDATE model_daily SET likes = 0 WHERE likes <> 0") < 0 ||
	    DBX0(db, "INSERT INTO model_daily (model_id, day, likes) SELECT model_id, created_at / 86400000, COUNT(*)"
		     " FROM model_likes WHERE TRUE GROUP BY model_id, created_at / 86400000"
		     " ON CONFLICT (model_id, day) DO UPDATE SET likes = excluded.likes") < 0 ||
	    DBX0(db, "UPDATE creator_daily SET likes = 0 WHERE likes <> 0") < 0 ||
	    DBX0(db, "INSERT INTO creator_daily (creator_id, day, likes) SELECT m.creator_id, l.created_at / 86400000,"
		     " COUNT(*) FROM model_likes l JOIN models m ON m.id = l.model_id WHERE TRUE"
		     " GROUP BY m.creator_id, l.created_at / 86400000"
		     " ON CONFLICT (creator_id, day) DO UPDATE SET likes = excluded.likes") < 0 ||
	    !db_commit(db)) {
		db_rollback(db);
		return -1;
	}
	db_exec_script(db, db_kind(db) == DB_PG ? "VACUUM (ANALYZE)" : "ANALYZE");
	log_info("seeded %lld likes (%lld in all); like counts and rollups recounted", (long long)added, (long long)have);
	return 0;
fail:
	sb_release(&sql);
	free(models);
	free(users);
	return -1;
}

int cli_seed_demo(int argc, char **argv)
{
	int64_t scale = 0, bulk = 0, likes = -1;
	bool with_models = true;
	for (int i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--scale") && i + 1 < argc &&
		    parse_i64_range(argv[i + 1], 0, 10000000, &scale)) {
			i++;
			continue;
		}
		if (!strcmp(argv[i], "--models") && i + 1 < argc &&
		    parse_i64_range(argv[i + 1], 0, 10000000, &bulk)) {
			i++;
			continue;
		}
		if (!strcmp(argv[i], "--likes") && i + 1 < argc &&
		    parse_i64_range(argv[i + 1], 0, 1000000000, &likes)) {
			i++;
			continue;
		}
		if (!strcmp(argv[i], "--no-models")) {
			with_models = false;
			continue;
		}
		fputs("usage: hwc3d seed-demo [--scale N] [--models N] [--likes N] [--no-models]\n", stderr);
		return 2;
	}
	db_t *db;
	int rc = cli_open_db(&db);
	if (rc)
		return rc;
	int64_t have = 0;
	if (DBS0(db, &have, "SELECT COUNT(*) FROM categories") < 0)
		goto fail;
	if (have == 0) {
		int64_t now = now_ms();
		for (size_t i = 0; i < ARRAY_LEN(demo_categories); i++)
			if (DBX(db,
				"INSERT INTO categories (name, slug, description, icon, sort_order, is_active,"
				" created_at, updated_at) VALUES ($1, $2, $3, $4, $5, TRUE, $6, $6)",
				P_TEXT(demo_categories[i].name), P_TEXT(demo_categories[i].slug),
				P_TEXT(demo_categories[i].description), P_TEXT(demo_categories[i].icon),
				P_INT((int64_t)i * 10), P_INT(now)) < 0)
				goto fail;
		log_info("seeded %zu categories", ARRAY_LEN(demo_categories));
		if (seed_courses(db) < 0)
			goto fail;
		if (with_models) {
			char hash[PASSWORD_HASH_LEN];
			if (!password_hash("demo-password-not-for-production", hash) || seed_models(db, hash) < 0 ||
			    seed_home(db) < 0 || seed_activity(db) < 0 || seed_bounties(db) < 0)
				goto fail;
		}
	} else {
		log_info("database already has data: demo categories not added");
	}
	if (scale > 0) {
		if (seed_users(db, scale) < 0)
			goto fail;
		log_info("seeded up to %lld demo users", (long long)scale);
	}
	if (bulk > 0) {
		int64_t have_models = 0;
		if (DBS0(db, &have_models, "SELECT COUNT(*) FROM models") < 0)
			goto fail;
		if (have_models >= bulk)
			log_info("database already has %lld models: none added", (long long)have_models);
		else if (seed_bulk_models(db, bulk - have_models) < 0)
			goto fail;
	}
	if (likes >= 0 && seed_bulk_likes(db, likes) < 0)
		goto fail;
	db_close(db);
	return 0;
fail:
	fprintf(stderr, "hwc3d: seed-demo failed: %s\n", db_errmsg(db));
	db_close(db);
	return 1;
}
