/*
 * cache.h: a bounded in-process cache of rendered public responses.
 *
 * Anonymous list pages (categories, model lists, search) are rendered once
 * and served from memory until a write to their area bumps the area's
 * generation (cache_invalidate) or the entry's TTL passes.  The TTL bounds
 * how stale another instance's view can be when several run behind a load
 * balancer.  Entries are copied in and out, so callers own nothing.
 * Bounded by RESPONSE_CACHE_MB (16 shards); a full shard drops its oldest
 * entries that were not read since they last came round (CLOCK).
 * Thread safe.  RESPONSE_CACHE=off turns it off (every read computed:
 * how the uncached path is measured).
 */
#ifndef HWC_CACHE_H
#define HWC_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum cache_area {
	CACHE_CATEGORIES,
	CACHE_MODELS,
	CACHE_USERS,
	CACHE_HOME,
	/* Not responses: the total and the first ids of a model list or
	 * search (marketplace.c), shared by every page, sort-specific, and by
	 * signed-in callers too.  Derived from the models area: it follows
	 * CACHE_MODELS's generation, and RESPONSE_CACHE=off leaves it on (it
	 * is part of how a list is computed, not a copy of an answer). */
	CACHE_MODEL_IDS,
	CACHE_AREAS
};

#define CACHE_TTL_MS 30000

/* Copies the cached body into a malloc'd buffer; false on a miss.  On a
 * miss while another request computes the same key, waits (up to a
 * second) for its result.  *claim is set when this caller is the one to
 * compute: cache_put releases it, and so must cache_release_claim when
 * the caller ends without storing (the server does it for every request). */
bool cache_get(enum cache_area area, const char *key, char **body, size_t *len, uint64_t *claim);
void cache_release_claim(uint64_t claim);
/* cache_get without the wait: a hit, or false at once (nothing claimed).
 * For a poll thread, which must not sleep on another request's query. */
bool cache_peek(enum cache_area area, const char *key, char **body, size_t *len);
/* The area's generation: read it before querying the data to cache, and
 * pass it to cache_put, so that a write racing the query is never hidden. */
uint64_t cache_generation(enum cache_area area);
void cache_put(enum cache_area area, const char *key, uint64_t gen, const char *body, size_t len);
/* Every entry of the area is stale from now on. */
void cache_invalidate(enum cache_area area);
void cache_clear(void);

#endif
