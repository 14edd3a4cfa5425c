/*
 * ratelimit.h: per-client request budgets (guide section 21).
 *
 * A budget is `limit` requests per `window` for one key (class + client),
 * with the window starting at the key's first request.  Kept in process
 * memory, or in Redis when REDIS_URL is set so that every instance shares
 * it.  A circuit breaker guards Redis: after a failure every check is
 * counted in memory at once (no request waits on a dead Redis), and one
 * request at a time probes Redis again every few seconds; the breaker
 * closes when a probe succeeds.  State changes are logged once.
 * Thread safe.
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

/* Would one more hit on key be allowed?  Counts nothing (failure budgets:
 * peek before the work, ratelimit_hit_rule after a failure). */
bool ratelimit_peek_rule(enum rl_class cls, const char *key, const struct rate_rule *rule, int *retry_after_s);
/* Forgets key's count (a success ends a run of failures). */
void ratelimit_reset_rule(enum rl_class cls, const char *key, const struct rate_rule *rule);

/* The address a budget is keyed by: IPv4 as is (also when IPv4-mapped),
 * IPv6 by its /64 ("2001:db8:1:2::/64"), since one customer holds a whole
 * /64.  Anything else is copied. */
void ratelimit_client_prefix(const char *ip, char *out, size_t n);

/* The in-memory engine alone, with an explicit clock (unit tests). */
bool ratelimit_mem_hit(enum rl_class cls, const char *key, const struct rate_rule *rule,
		       int64_t now, int *retry_after_s);
bool ratelimit_mem_peek(enum rl_class cls, const char *key, const struct rate_rule *rule,
			int64_t now, int *retry_after_s);
void ratelimit_mem_reset(enum rl_class cls, const char *key);
size_t ratelimit_mem_size(void);
/* The clock of the in-memory engine (unit tests; NULL: the real one). */
void ratelimit_mem_clock(int64_t (*fn)(void));
/* Entries per shard before a sweep (default 4096; tests lower it). */
void ratelimit_mem_sweep_threshold(size_t n);

#endif
