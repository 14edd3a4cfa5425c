/* The in-memory rate limiter, on an explicit clock. */
#include "t.h"
#include "svc/ratelimit.h"

TEST(ratelimit_window_and_retry_after)
{
	struct rate_rule rule = { .limit = 5, .window_ms = 60000 };
	int retry = 0;
	int64_t t0 = 1000000;
	for (int i = 0; i < 5; i++)
		CHECK(ratelimit_mem_hit(RL_AUTH, "ip:1.2.3.4", &rule, t0 + i, &retry));
	CHECK(!ratelimit_mem_hit(RL_AUTH, "ip:1.2.3.4", &rule, t0 + 10, &retry));
	CHECK(retry == 60);
	CHECK(!ratelimit_mem_hit(RL_AUTH, "ip:1.2.3.4", &rule, t0 + 30500, &retry));
	CHECK(retry == 30);
	/* other keys and classes have their own budget */
	CHECK(ratelimit_mem_hit(RL_AUTH, "ip:1.2.3.5", &rule, t0 + 10, &retry));
	CHECK(ratelimit_mem_hit(RL_GENERAL, "ip:1.2.3.4", &rule, t0 + 10, &retry));
	/* a new window starts after the old one ends */
	CHECK(ratelimit_mem_hit(RL_AUTH, "ip:1.2.3.4", &rule, t0 + 60000, &retry));
}

TEST(ratelimit_many_keys_stay_bounded)
{
	struct rate_rule rule = { .limit = 1, .window_ms = 1000 };
	int retry;
	ratelimit_mem_sweep_threshold(64);
	size_t before = ratelimit_mem_size();
	char key[32];
	for (int i = 0; i < 20000; i++) {
		snprintf(key, sizeof(key), "ip:k%d", i);
		CHECK(ratelimit_mem_hit(RL_UPLOAD, key, &rule, 5000, &retry));
	}
	CHECK(ratelimit_mem_size() >= before + 20000);
	/* much later, new keys sweep the expired ones */
	for (int i = 0; i < 70000; i++) {
		snprintf(key, sizeof(key), "ip:n%d", i);
		ratelimit_mem_hit(RL_UPLOAD, key, &rule, 100000 + i, &retry);
	}
	/* 64 shards, swept at 64 entries or twice the live ones: the 20000
	 * expired keys are gone and at most ~2 windows of new ones remain */
	CHECK(ratelimit_mem_size() < before + 20000);
	ratelimit_mem_sweep_threshold(4096);
	ratelimit_shutdown();
}
