/*
 * ratelimit.h: per-client request budgets (guide section 21).
 *
 * A budget is `limit` requests per `window` for one key (class + client),
 * with the window starting at the key's first request.  Kept in process
 * memory, or in Redis when REDIS_URL is set so that every instance shares
 * it; if Redis cannot be reached the check falls back to memory rather
 * than refusing traffic.  Thread safe.
 */
#ifndef HWC_RATELIMIT_H
#define HWC_RATELIMIT_H

#include <stdbool.h>
#include <stdint.h>
#include "../core/config.h"

void ratelimit_init(void);
void ratelimit_shutdown(void);

/* Counts one request for key under cls.  Returns true when allowed;
 * otherwise *retry_after_s says when the window ends (>= 1). */
bool ratelimit_hit(enum rl_class cls, const char *key, int *retry_after_s);

/* A budget of its own for key (per-account throttles: resends, resets). */
bool ratelimit_hit_rule(enum rl_class cls, const char *key, const struct rate_rule *rule, int *retry_after_s);

/* The in-memory engine alone, with an explicit clock (unit tests). */
bool ratelimit_mem_hit(enum rl_class cls, const char *key, const struct rate_rule *rule,
		       int64_t now, int *retry_after_s);
size_t ratelimit_mem_size(void);
/* Entries per shard before a sweep (default 4096; tests lower it). */
void ratelimit_mem_sweep_threshold(size_t n);

#endif
