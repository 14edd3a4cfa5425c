/*
 * seed.c: `hwc3d seed-demo [--scale N]` fills an empty database with demo
 * data.  Runs only when the database holds no categories yet, so `make run`
 * can call it every time: categories and demo courses, then (unless
 * --no-models) creators, buyers and a few dozen models with files
 * (seed_models.c), homepage content and demo bounties (seed_learn.c).  --scale N adds
 * N demo users (for benchmarks).
 */
#include "cli.h"
#include "../auth/password.h"
#include "../core/log.h"
#include "../core/num.h"
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

int cli_seed_demo(int argc, char **argv)
{
	int64_t scale = 0, bulk = 0;
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
		if (!strcmp(argv[i], "--no-models")) {
			with_models = false;
			continue;
		}
		fputs("usage: hwc3d seed-demo [--scale N] [--models N] [--no-models]\n", stderr);
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
	db_close(db);
	return 0;
fail:
	fprintf(stderr, "hwc3d: seed-demo failed: %s\n", db_errmsg(db));
	db_close(db);
	return 1;
}
