/* Abuse limits: failure budgets (peek, reset), address prefixes, and who
 * may read /metrics. */
#include "t.h"
#include "auth/internal.h"
#include "auth/throttle.h"
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

/* ---- failed sign-in budgets, on a fake clock ---- */

static int64_t fake_now;
static int64_t fake_clock(void)
{
	return fake_now;
}

/* n wrong passwords for email from ip; true when each was let through. */
static bool fail_n(const char *email, const char *ip, int n)
{
	int retry;
	for (int i = 0; i < n; i++) {
		if (login_throttle_blocked(email, ip, &retry))
			return false;
		login_throttle_result(email, ip, false);
	}
	return true;
}

TEST(login_throttle_delay_grows_per_account_and_prefix)
{
	ratelimit_mem_clock(fake_clock);
	fake_now = 10LL * 24 * 3600 * 1000;
	int retry = 0;
	const char *e = "victim@example.com";
	CHECK(fail_n(e, "203.0.113.1", 5));
	CHECK(login_throttle_blocked(e, "203.0.113.1", &retry));
	CHECK(retry == 60);
	/* the owner elsewhere, and other accounts from here, are not held */
	CHECK(!login_throttle_blocked(e, "198.51.100.1", &retry));
	CHECK(!login_throttle_blocked("other@example.com", "203.0.113.1", &retry));
	/* the next minute: 5 more, then the quarter hour */
	fake_now += 60 * 1000;
	CHECK(!login_throttle_blocked(e, "203.0.113.1", &retry));
	CHECK(fail_n(e, "203.0.113.1", 5));
	CHECK(login_throttle_blocked(e, "203.0.113.1", &retry));
	CHECK(retry == 14 * 60);
	/* after it, 10 more reach the hour */
	fake_now += 14 * 60 * 1000;
	CHECK(fail_n(e, "203.0.113.1", 5));
	fake_now += 60 * 1000;
	CHECK(fail_n(e, "203.0.113.1", 5));
	CHECK(login_throttle_blocked(e, "203.0.113.1", &retry));
	CHECK(retry == 44 * 60); /* the hour that began with the first failure */
	/* a right password (let through from elsewhere) ends only that run */
	login_throttle_result(e, "198.51.100.1", true);
	CHECK(login_throttle_blocked(e, "203.0.113.1", &retry));
	ratelimit_mem_clock(NULL);
	ratelimit_shutdown();
}

TEST(login_throttle_success_ends_the_run)
{
	ratelimit_mem_clock(fake_clock);
	fake_now = 20LL * 24 * 3600 * 1000;
	int retry;
	const char *e = "typo@example.com", *ip = "192.0.2.1";
	for (int round = 0; round < 4; round++) {
		CHECK(fail_n(e, ip, 4));
		CHECK(!login_throttle_blocked(e, ip, &retry));
		login_throttle_result(e, ip, true);
	}
	/* but not the prefix budget: signing in to an account of one's own
	 * between guesses at others buys nothing */
	CHECK(fail_n(e, ip, 4));
	CHECK(login_throttle_blocked(e, ip, &retry));
	CHECK(retry == 15 * 60);
	ratelimit_mem_clock(NULL);
	ratelimit_shutdown();
}

TEST(login_throttle_ipv6_by_64_and_prefix_budget)
{
	ratelimit_mem_clock(fake_clock);
	fake_now = 30LL * 24 * 3600 * 1000;
	int retry;
	char ip[64], email[64];
	for (int i = 0; i < 5; i++) {
		snprintf(ip, sizeof(ip), "2001:db8:7:7::%x", i + 1);
		CHECK(fail_n("six@example.com", ip, 1));
	}
	CHECK(login_throttle_blocked("six@example.com", "2001:db8:7:7:1:2:3:4", &retry));
	CHECK(!login_throttle_blocked("six@example.com", "2001:db8:7:8::1", &retry));
	/* 20 accounts from one prefix, then everything from it waits */
	for (int i = 0; i < 20; i++) {
		snprintf(email, sizeof(email), "stuffed%d@example.com", i);
		CHECK(fail_n(email, "203.0.113.50", 1));
	}
	CHECK(login_throttle_blocked("fresh@example.com", "203.0.113.50", &retry));
	CHECK(retry == 15 * 60);
	CHECK(!login_throttle_blocked("fresh@example.com", "203.0.113.51", &retry));
	/* a day's budget: 100 */
	int64_t start = fake_now;
	for (int w = 0; w < 5; w++) {
		fake_now = start + (int64_t)(w + 1) * 15 * 60 * 1000;
		for (int i = 0; i < 20 && w < 4; i++) {
			snprintf(email, sizeof(email), "day%d-%d@example.com", w, i);
			CHECK(fail_n(email, "203.0.113.50", 1));
		}
	}
	CHECK(login_throttle_blocked("fresh@example.com", "203.0.113.50", &retry));
	CHECK(retry > 60 * 60);
	ratelimit_mem_clock(NULL);
	ratelimit_shutdown();
}

TEST(login_throttle_soft_cap_guards_without_locking_out)
{
	ratelimit_mem_clock(fake_clock);
	fake_now = 40LL * 24 * 3600 * 1000;
	int retry;
	char ip[64];
	const char *e = "botnet@example.com";
	for (int i = 0; i < 50; i++) {
		snprintf(ip, sizeof(ip), "10.9.%d.%d", i / 200, i % 200 + 1);
		CHECK(fail_n(e, ip, 1));
	}
	/* past the soft cap: an address that failed waits 10 minutes */
	CHECK(login_throttle_blocked(e, "10.9.0.1", &retry));
	CHECK(retry == 10 * 60);
	/* a fresh address gets a try, and one failure */
	CHECK(!login_throttle_blocked(e, "198.51.100.9", &retry));
	CHECK(fail_n(e, "10.10.0.1", 1));
	CHECK(login_throttle_blocked(e, "10.10.0.1", &retry));
	/* below the cap (another account) the same pattern is not held */
	CHECK(fail_n("calm@example.com", "10.9.0.1", 1));
	CHECK(!login_throttle_blocked("calm@example.com", "10.9.0.1", &retry));
	/* the guard ends with its window, the cap with its hour */
	fake_now += 10 * 60 * 1000;
	CHECK(!login_throttle_blocked(e, "10.9.0.1", &retry));
	ratelimit_mem_clock(NULL);
	ratelimit_shutdown();
}
