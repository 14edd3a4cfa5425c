/* The response cache: generations, RESPONSE_CACHE=off, derived areas, and
 * its CLOCK eviction. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "t.h"
#include "core/config.h"
#include "svc/cache.h"

static bool get(enum cache_area area, const char *key, char *out, size_t n)
{
	char *body;
	size_t len;
	uint64_t claim;
	if (!cache_get(area, key, &body, &len, &claim)) {
		cache_release_claim(claim);
		return false;
	}
	snprintf(out, n, "%.*s", (int)len, body);
	free(body);
	return true;
}

static void put(enum cache_area area, const char *key, const char *body)
{
	cache_put(area, key, cache_generation(area), body, strlen(body));
}

/* Puts keys prefix-0 .. prefix-(n-1), each with body. */
static void put_many(enum cache_area area, const char *prefix, int n, const char *body)
{
	char key[48];
	for (int i = 0; i < n; i++) {
		snprintf(key, sizeof(key), "%s-%d", prefix, i);
		put(area, key, body);
	}
}

/* How many of prefix-0 .. prefix-(n-1) are in the cache. */
static int count_present(enum cache_area area, const char *prefix, int n)
{
	char key[48], buf[8];
	int present = 0;
	for (int i = 0; i < n; i++) {
		snprintf(key, sizeof(key), "%s-%d", prefix, i);
		present += get(area, key, buf, sizeof(buf));
	}
	return present;
}

TEST(cache_generation_and_derived_area)
{
	cfg.response_cache_mb = 16;
	cfg.list_window_cache_mb = 8;
	cfg.response_cache_off = false;
	cache_clear();
	char buf[64];
	put(CACHE_MODELS, "a", "page");
	put(CACHE_MODEL_IDS, "a", "ids");
	CHECK(get(CACHE_MODELS, "a", buf, sizeof(buf)) && !strcmp(buf, "page"));
	CHECK(get(CACHE_MODEL_IDS, "a", buf, sizeof(buf)) && !strcmp(buf, "ids"));
	/* a model write makes both stale: the id windows follow the models area */
	cache_invalidate(CACHE_MODELS);
	CHECK(!get(CACHE_MODELS, "a", buf, sizeof(buf)));
	CHECK(!get(CACHE_MODEL_IDS, "a", buf, sizeof(buf)));
	/* RESPONSE_CACHE=off: responses are never kept, derived data is */
	cfg.response_cache_off = true;
	put(CACHE_MODELS, "b", "page");
	put(CACHE_MODEL_IDS, "b", "ids");
	CHECK(!get(CACHE_MODELS, "b", buf, sizeof(buf)));
	CHECK(get(CACHE_MODEL_IDS, "b", buf, sizeof(buf)) && !strcmp(buf, "ids"));
	cfg.response_cache_off = false;
	cache_clear();
}

TEST(cache_clock_keeps_what_is_read)
{
	/* 1 MB over 16 shards: 64 KB a shard, 15 entries of 4 KB */
	cfg.response_cache_mb = 1;
	cfg.response_cache_off = false;
	cache_clear();
	char body[4001], prefix[32], buf[8];
	memset(body, 'x', 4000);
	body[4000] = '\0';
	put(CACHE_CATEGORIES, "hot", body);
	int kept = 0;
	for (int round = 0; round < 50; round++) {
		/* 150 one-off keys a round, about 9 a shard: in 50 rounds
		 * every shard turns over about 30 times */
		snprintf(prefix, sizeof(prefix), "cold-%d", round);
		put_many(CACHE_CATEGORIES, prefix, 150, body);
		kept += get(CACHE_CATEGORIES, "hot", buf, sizeof(buf));
	}
	/* read once a round, the hot key survives every round */
	CHECK(kept == 50);
	/* the bound holds: of 400 more one-off keys, about 240 fit */
	put_many(CACHE_CATEGORIES, "last", 400, body);
	int present = count_present(CACHE_CATEGORIES, "last", 400);
	CHECK(present > 100 && present < 300);
	cfg.response_cache_mb = 64;
	cache_clear();
}

TEST(cache_id_windows_have_their_own_bound)
{
	/* 1 MB of responses (64 KB a shard), 1 MB of id windows */
	cfg.response_cache_mb = 1;
	cfg.list_window_cache_mb = 1;
	cfg.response_cache_off = false;
	cache_clear();
	char body[4001];
	memset(body, 'x', 4000);
	body[4000] = '\0';
	put_many(CACHE_MODEL_IDS, "window", 100, body);
	/* 2,000 one-off responses, 8 MB through a 1 MB bound, never read again */
	put_many(CACHE_MODELS, "page", 2000, body);
	int windows = count_present(CACHE_MODEL_IDS, "window", 100);
	int pages = count_present(CACHE_MODELS, "page", 2000);
	/* 100 windows of 4 KB fit their 1 MB whole; the responses kept
	 * their own bound (about 240 of 4 KB in 1 MB) */
	CHECK(windows == 100);
	CHECK(pages > 100 && pages < 300);
	/* and the other way: windows past their bound leave the responses */
	put_many(CACHE_MODEL_IDS, "more", 2000, body);
	CHECK(count_present(CACHE_MODELS, "page", 2000) == pages);
	cfg.response_cache_mb = 64;
	cfg.list_window_cache_mb = 32;
	cache_clear();
}
