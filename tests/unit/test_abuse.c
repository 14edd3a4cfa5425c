/* Abuse limits: failure budgets (peek, reset), address prefixes, and who
 * may read /metrics. */
#include "t.h"
#include "auth/internal.h"
#include "core/config.h"
#include "svc/ratelimit.h"

TEST(ratelimit_peek_counts_nothing)
{
	struct rate_rule rule = { .limit = 3, .window_ms = 60000 };
	int retry = 0;
	int64_t t0 = 5000000;
	for (int i = 0; i < 10; i++)
		CHECK(ratelimit_mem_peek(RL_AUTH, "peek:a", &rule, t0, &retry));
	for (int i = 0; i < 3; i++) {
		CHECK(ratelimit_mem_peek(RL_AUTH, "peek:a", &rule, t0 + i, &retry));
		ratelimit_mem_hit(RL_AUTH, "peek:a", &rule, t0 + i, &retry);
	}
	/* three failures counted: the next one is refused until the window ends */
	retry = 0;
	CHECK(!ratelimit_mem_peek(RL_AUTH, "peek:a", &rule, t0 + 10, &retry));
	CHECK(retry == 60);
	CHECK(!ratelimit_mem_peek(RL_AUTH, "peek:a", &rule, t0 + 59000, &retry));
	CHECK(retry == 1);
	CHECK(ratelimit_mem_peek(RL_AUTH, "peek:a", &rule, t0 + 60000, &retry));
	/* a reset (a success) forgets the run */
	for (int i = 0; i < 3; i++)
		ratelimit_mem_hit(RL_AUTH, "peek:b", &rule, t0, &retry);
	CHECK(!ratelimit_mem_peek(RL_AUTH, "peek:b", &rule, t0 + 1, &retry));
	ratelimit_mem_reset(RL_AUTH, "peek:b");
	CHECK(ratelimit_mem_peek(RL_AUTH, "peek:b", &rule, t0 + 2, &retry));
	ratelimit_mem_reset(RL_AUTH, "peek:never-seen");
	ratelimit_shutdown();
}

TEST(ratelimit_client_prefix_keys_ipv6_by_64)
{
	char out[64];
	ratelimit_client_prefix("203.0.113.7", out, sizeof(out));
	CHECK_STR(out, "203.0.113.7");
	ratelimit_client_prefix("::ffff:203.0.113.7", out, sizeof(out));
	CHECK_STR(out, "203.0.113.7");
	ratelimit_client_prefix("2001:db8:1:2:aaaa:bbbb:cccc:dddd", out, sizeof(out));
	CHECK_STR(out, "2001:db8:1:2::/64");
	char other[64];
	ratelimit_client_prefix("2001:db8:1:2::1", other, sizeof(other));
	CHECK_STR(other, out);
	ratelimit_client_prefix("2001:db8:1:3::1", other, sizeof(other));
	CHECK(strcmp(other, out) != 0);
	ratelimit_client_prefix("::1", out, sizeof(out));
	CHECK_STR(out, "::/64");
	ratelimit_client_prefix("unknown", out, sizeof(out));
	CHECK_STR(out, "unknown");
	ratelimit_client_prefix("zz:zz", out, sizeof(out));
	CHECK_STR(out, "zz:zz");
}

TEST(metrics_access_loopback_proxies_and_token)
{
	struct cidr proxies[1];
	CHECK(parse_cidr("10.0.0.0/8", &proxies[0]));
	struct cidr *saved = cfg.trusted_proxies;
	size_t saved_n = cfg.n_trusted_proxies;
	const char *saved_tok = cfg.metrics_token;
	cfg.trusted_proxies = NULL;
	cfg.n_trusted_proxies = 0;
	cfg.metrics_token = NULL;

	CHECK(addr_is_loopback("127.0.0.1") && addr_is_loopback("127.9.9.9") && addr_is_loopback("::1"));
	CHECK(addr_is_loopback("::ffff:127.0.0.1"));
	CHECK(!addr_is_loopback("10.0.0.1") && !addr_is_loopback("::2") && !addr_is_loopback("garbage"));
	CHECK(!addr_is_loopback("::ffff:10.0.0.1") && !addr_is_loopback(""));

	CHECK(internal_access_allowed("127.0.0.1", "127.0.0.1", NULL));
	CHECK(internal_access_allowed("::1", "::1", NULL));
	/* a forwarded address never grants: the peer decides first */
	CHECK(!internal_access_allowed("198.51.100.1", "127.0.0.1", NULL));
	CHECK(!internal_access_allowed("198.51.100.1", "198.51.100.1", NULL));
	CHECK(!internal_access_allowed(NULL, "127.0.0.1", NULL));
	/* behind a proxy, the forwarded client must be local too */
	cfg.trusted_proxies = proxies;
	cfg.n_trusted_proxies = 1;
	CHECK(internal_access_allowed("10.1.2.3", "10.1.2.3", NULL));
	CHECK(internal_access_allowed("10.1.2.3", "127.0.0.1", NULL));
	CHECK(!internal_access_allowed("10.1.2.3", "203.0.113.9", NULL));
	CHECK(!internal_access_allowed("127.0.0.1", "203.0.113.9", NULL));
	/* the token grants from anywhere, compared whole */
	CHECK(!internal_access_allowed("203.0.113.9", "203.0.113.9", "Bearer s3cret-token"));
	cfg.metrics_token = "s3cret-token";
	CHECK(internal_access_allowed("203.0.113.9", "203.0.113.9", "Bearer s3cret-token"));
	CHECK(internal_access_allowed("203.0.113.9", "203.0.113.9", "bearer s3cret-token"));
	CHECK(!internal_access_allowed("203.0.113.9", "203.0.113.9", "Bearer s3cret-toke"));
	CHECK(!internal_access_allowed("203.0.113.9", "203.0.113.9", "Bearer s3cret-token2"));
	CHECK(!internal_access_allowed("203.0.113.9", "203.0.113.9", "Basic s3cret-token"));
	CHECK(!internal_access_allowed("203.0.113.9", "203.0.113.9", "Bearer "));
	CHECK(!internal_access_allowed("203.0.113.9", "203.0.113.9", ""));

	cfg.trusted_proxies = saved;
	cfg.n_trusted_proxies = saved_n;
	cfg.metrics_token = saved_tok;
}
